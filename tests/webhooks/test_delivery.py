"""A real download (the fake Hub, the real download path) is told to a receiver on 127.0.0.1: signed,
with the job's and the variant's facts, through django-q's task path."""

import hashlib
import hmac
import json
import time

import pytest

from downloads.models import ModelVariant
from tests.jobs import run_download
from tests.storage_helpers import download, model_files
from tests.webhooks.conftest import SECRET, point_webhooks_at
from webhooks import signing, tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def verified(request: dict) -> dict:
    """What a receiver does (the README's recipe, written out independently of webhooks.signing)."""
    headers = request["headers"]
    timestamp = headers["X-ModelHub-Timestamp"]
    signed = timestamp.encode() + b"." + request["body"]
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-ModelHub-Signature"], f"sha256={expected}")
    assert abs(time.time() - int(timestamp)) < 300
    return json.loads(request["body"])


def test_a_real_download_is_posted_signed_with_its_facts(configured, hub, receiver, sync_queue):
    point_webhooks_at(receiver.url)
    hub.add_repo("org/hooked", model_files("hooked"))
    job = download("org/hooked")
    variant = ModelVariant.objects.get(pk=job.variant_id)

    events = [(r["headers"]["X-ModelHub-Event"], verified(r)) for r in receiver.requests]
    assert [e for e, _ in events] == ["variant.status_changed"] * 3 + ["job.finished"]
    assert [(p["previous_status"], p["status"]) for _, p in events[:3]] == [
        ("not_downloaded", "queued"), ("queued", "downloading"), ("downloading", "installed")]
    finished = events[-1][1]
    assert finished["job"]["id"] == job.pk and finished["job"]["state"] == "succeeded"
    assert finished["job"]["commit"] == job.commit == variant.commit and len(job.commit) == 40
    assert finished["job"]["bytes_transferred"] == job.bytes_transferred > 0
    assert finished["job"]["error_code"] is None and finished["job"]["finished_at"]
    assert finished["variant"] == {**finished["variant"], "id": variant.pk, "repo_id": "org/hooked",
                                   "revision": "main", "status": "installed",
                                   "local_path": variant.local_path}
    assert variant.local_path and finished["variant"]["size_bytes"] == variant.size_bytes

    # One row per event and URL, each sent once, its delivery id the header's.
    rows = list(Delivery.objects.order_by("id"))
    assert [r.state for r in rows] == ["succeeded"] * 4 and [r.response_code for r in rows] == [200] * 4
    sent_ids = [q["headers"]["X-ModelHub-Delivery"] for q in receiver.requests]
    assert [str(r.delivery_id) for r in rows] == sent_ids
    assert rows[-1].job_id == job.pk and rows[-1].attempt_log.get().excerpt == "ok"
    for request in receiver.requests:
        assert SECRET.encode() not in request["body"] and SECRET not in json.dumps(request["headers"])


def test_a_failed_download_carries_its_error_code_and_guidance(configured, hub, receiver):
    point_webhooks_at(receiver.url)
    job = run_download("org/absent")
    assert job.state == "failed"
    row = Delivery.objects.get(event="job.finished")
    assert tasks.deliver(row.pk) == f"delivery {row.pk}: succeeded"
    payload = verified(receiver.requests[-1])
    assert payload["job"]["state"] == "failed"
    assert payload["job"]["error_code"] == job.error_code == "repo_not_found"
    assert payload["job"]["guidance"] == job.guidance and job.guidance
    assert payload["variant"]["repo_id"] == "org/absent" and payload["variant"]["status"] == "failed"
    assert tasks.deliver(row.pk) == f"delivery {row.pk}: not waiting"  # a duplicate task sends nothing
    sent_ids = [r["headers"]["X-ModelHub-Delivery"] for r in receiver.requests]
    assert sent_ids.count(str(row.delivery_id)) == 1


def test_signing_verify_accepts_the_real_header_and_refuses_tampering_and_old_timestamps():
    body = b'{"event":"test"}'
    headers = signing.headers(SECRET, event="test", delivery_id="d", body=body)
    ts, sig = headers["X-ModelHub-Timestamp"], headers["X-ModelHub-Signature"]
    assert signing.verify(SECRET, body, ts, sig)
    assert not signing.verify(SECRET, body + b" ", ts, sig)
    assert not signing.verify("another-secret-value", body, ts, sig)
    assert not signing.verify(SECRET, body, str(int(ts) + 1), sig)  # the timestamp is signed too
    assert not signing.verify(SECRET, body, ts, sig, now=int(ts) + 301)  # a replay, too late
    assert not signing.verify(SECRET, body, "yesterday", sig)
