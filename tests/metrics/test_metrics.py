"""/metrics after real downloads (one succeeded, one failed, one failing verification), a real pull
through /hub and real webhook deliveries: the values are the database's, parsed with prometheus-client's
parser."""

import shutil

import pytest
from django.contrib.auth.models import Permission

from downloads import services
from downloads.models import ModelVariant
from serving import tokens
from settings_app.models import Setting
from tests.jobs import run_download
from tests.metrics.conftest import samples, value
from tests.storage_helpers import download, model_files
from tests.webhooks.conftest import point_webhooks_at
from tests.webhooks.receiver import Receiver
from webhooks import tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_metrics_after_a_succeeded_and_a_failed_download(client, configured, hub, storage, scraper):
    receiver = Receiver().start()
    try:
        point_webhooks_at(receiver.url)
        hub.add_repo("org/counted", model_files("counted"))
        ok = download("org/counted")
        failed = run_download("org/absent")
        hub.add_repo("org/flipped", {"model.bin": bytes(range(256)) * 2000})
        hub.corrupt_next("model.bin", count=10)  # every try within the job gets wrong bytes
        corrupt = run_download("org/flipped", kind="files")
        for row in Delivery.objects.filter(event="job.finished"):
            tasks.deliver(row.pk)
    finally:
        receiver.stop()
    assert failed.state == "failed" and failed.error_code == "repo_not_found"
    assert corrupt.state == "failed" and corrupt.error_code == "verification_failed"
    queued = services.enqueue(services.get_or_create_variant(repo_id="org/waiting")[0], run_here=True)[0]

    puller = tokens.create(_puller(), name="pull")[1]
    pulled = client.get("/hub/org/counted/resolve/main/config.json", HTTP_AUTHORIZATION=f"Bearer {puller}")
    assert pulled.status_code == 200
    served = len(b"".join(pulled.streaming_content))

    parsed = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {scraper}"))
    assert value(parsed, "modelhub_jobs", state="succeeded") == 1
    assert value(parsed, "modelhub_jobs", state="failed") == 2
    assert value(parsed, "modelhub_jobs", state="queued") == 1 == value(parsed, "modelhub_queue_depth")
    assert value(parsed, "modelhub_jobs", state="running") == 0
    downloaded = ok.bytes_transferred + failed.bytes_transferred + corrupt.bytes_transferred
    assert value(parsed, "modelhub_downloaded_bytes_total") == downloaded
    assert ok.bytes_transferred > 0
    assert value(parsed, "modelhub_job_failures_total", code="repo_not_found") == 1
    assert value(parsed, "modelhub_job_failures_total", code="verification_failed") == 1
    assert value(parsed, "modelhub_verification_failures_total", code="verification_failed") == 1
    assert value(parsed, "modelhub_verification_failures_total", code="format_invalid") == 0
    assert value(parsed, "modelhub_variants", status="installed") == 1
    assert value(parsed, "modelhub_variants", status="failed") == 1
    assert value(parsed, "modelhub_variants", status="corrupt") == 1
    assert value(parsed, "modelhub_variants", status="queued") == 1
    assert value(parsed, "modelhub_installed_bytes") == ModelVariant.objects.get(pk=ok.variant_id).size_bytes
    assert value(parsed, "modelhub_hub_served_bytes_total") == served > 0
    assert value(parsed, "modelhub_hub_requests_total", status="200") == 1
    usage = shutil.disk_usage(storage)
    where = {"location": str(Setting.load().effective_storage_dir), "role": "current"}
    assert value(parsed, "modelhub_storage_size_bytes", **where) == usage.total
    assert 0 < value(parsed, "modelhub_storage_free_bytes", **where) <= usage.total
    assert value(parsed, "modelhub_storage_min_free_bytes") == 0
    assert value(parsed, "modelhub_webhook_deliveries", state="succeeded") == 3
    assert value(parsed, "modelhub_webhook_deliveries", state="pending") == Delivery.objects.filter(
        state="pending").count() > 0  # the status changes, never sent in this test
    assert value(parsed, "modelhub_workers_alive") == 0  # no qcluster in this test
    assert all(v == 0 for (name, _), v in parsed.items() if name == "modelhub_scrape_errors")
    assert queued.state == "queued"


def test_worker_liveness_follows_the_heartbeat_rows(client, db, scraper):
    services.worker_seen("housekeeping")
    parsed = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {scraper}"))
    assert value(parsed, "modelhub_workers_alive") == 1
    assert 0 <= value(parsed, "modelhub_worker_last_seen_seconds") < 60
    assert value(parsed, "modelhub_jobs_stale") == 0


def _puller():
    from django.contrib.auth.models import User

    user = User.objects.create_user("puller", password="puller-Secret-123")
    user.user_permissions.add(Permission.objects.get(codename="pull_models"))
    return user
