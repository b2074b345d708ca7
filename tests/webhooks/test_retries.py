"""Retries with exponential backoff, bounded; a receiver that is down, slow or redirecting fails its
delivery, never the download."""

import time
from datetime import timedelta

import pytest

from downloads.models import ModelVariant
from tests.storage_helpers import download, model_files
from tests.webhooks.conftest import point_webhooks_at
from tests.webhooks.receiver import Receiver, closed_port_url
from webhooks import payloads, sending, services
from webhooks.models import Delivery, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_due(row: Delivery) -> None:
    """Run the minute sweep until it has made this delivery's next attempt (after its backoff)."""
    row.refresh_from_db()
    before, deadline = row.attempts, time.monotonic() + 30
    while row.attempts == before:
        assert time.monotonic() < deadline, "the sweep never sent the retry"
        services.send_due()  # leaves what is not due yet
        time.sleep(0.05)
        row.refresh_from_db()


@pytest.fixture
def flaky():
    server = Receiver(codes=[500, 500, 200]).start()
    yield server
    server.stop()


def test_a_500_is_retried_with_growing_waits_then_succeeds(configured, flaky, sync_queue):
    point_webhooks_at(flaky.url)
    row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]  # first attempt at once (sync queue)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.response_code) == ("retrying", 1, 500)
    first_wait = row.next_attempt_at - row.attempt_log.get(number=1).at
    assert first_wait == timedelta(seconds=sending.backoff(1)) == timedelta(seconds=0.2)
    assert services.send_due() == []  # before the wait is over the sweep sends nothing

    wait_until_due(row)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("retrying", 2)
    assert row.next_attempt_at - row.attempt_log.get(number=2).at == timedelta(seconds=0.4)  # doubled

    wait_until_due(row)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.response_code, row.error) == ("succeeded", 3, 200, "")
    assert [a.response_code for a in row.attempt_log.all()] == [500, 500, 200]
    excerpt = row.attempt_log.get(number=1).excerpt
    assert excerpt.startswith("receiver says no") and "\x00" not in excerpt and "\x1b" not in excerpt
    assert len(excerpt) <= sending.EXCERPT_CHARS
    # The same body and delivery id every time, signed anew.
    assert len({r["body"] for r in flaky.requests}) == 1
    assert len({r["headers"]["X-ModelHub-Delivery"] for r in flaky.requests}) == 1


def test_a_dead_receiver_fails_the_delivery_not_the_download(configured, hub, sync_queue):
    point_webhooks_at(closed_port_url())
    hub.add_repo("org/unheard", model_files())
    job = download("org/unheard")  # asserts the job succeeded
    assert ModelVariant.objects.get(pk=job.variant_id).status == "installed"
    row = Delivery.objects.get(event="job.finished")
    assert row.state == "retrying" and row.error == "could not connect: Connection refused"
    for _ in range(2):  # MODELHUB_WEBHOOK_ATTEMPTS = 3 in these tests
        wait_until_due(row)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 3) and row.finished_at
    assert row.pk not in services.send_due()  # given up: never sent again by the sweep


def test_a_slow_receiver_times_out(configured, settings):
    settings.MODELHUB_WEBHOOK_TIMEOUT = 0.3
    slow = Receiver(delay=3).start()
    try:
        point_webhooks_at(slow.url)
        row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
        sending.deliver(row.pk)
        row.refresh_from_db()
        assert row.state == "retrying" and row.error == "no answer within 0.3 s"
    finally:
        slow.stop()


def test_a_receiver_trickling_its_answer_is_cut_at_the_deadline(configured, settings):
    settings.MODELHUB_WEBHOOK_TIMEOUT = 0.5
    trickler = Receiver(trickle=0.05).start()  # 600 bytes at 20 per second: 30 s if nobody cut it
    try:
        point_webhooks_at(trickler.url)
        row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
        started = time.monotonic()
        sending.deliver(row.pk)
        row.refresh_from_db()
        assert row.state == "retrying" and row.error == "no answer within 0.5 s"
        assert time.monotonic() - started < 15  # far from the 30 s the receiver would take
    finally:
        trickler.stop()


def test_https_certificates_are_checked(configured, tmp_path):
    untrusted = Receiver().with_tls(tmp_path).start()
    try:
        point_webhooks_at(untrusted.url)
        row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
        sending.deliver(row.pk)
        row.refresh_from_db()
        assert row.state == "retrying" and "CERTIFICATE_VERIFY_FAILED" in row.error
        assert untrusted.requests == []  # the body never left
    finally:
        untrusted.stop()


def test_redirects_are_not_followed(configured):
    elsewhere = Receiver().start()
    moving = Receiver(codes=[307], location=elsewhere.url).start()
    try:
        point_webhooks_at(moving.url)
        row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
        sending.deliver(row.pk)
        row.refresh_from_db()
        assert row.response_code == 307 and "redirects are not followed" in row.error
        assert elsewhere.requests == [] and len(moving.requests) == 1
    finally:
        moving.stop()
        elsewhere.stop()


def test_without_a_secret_nothing_is_sent_unsigned(configured, receiver):
    setting = point_webhooks_at(receiver.url)
    setting.webhook_secret_encrypted = ""
    setting.save()
    row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
    sending.deliver(row.pk)
    row.refresh_from_db()
    assert row.state == "failed" and "No webhook secret" in row.error and receiver.requests == []


def test_a_broker_outage_leaves_the_delivery_for_the_sweep(configured, receiver, monkeypatch):
    point_webhooks_at(receiver.url)

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr("django_q.tasks.async_task", down)
    row = services.queue(WebhookEvent.TEST, payloads.test_event())[0]
    row.refresh_from_db()
    assert row.state == "pending" and row.queued_at is None
    monkeypatch.undo()
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    assert services.send_due() == [row.pk]
    row.refresh_from_db()
    assert row.state == "succeeded" and len(receiver.requests) == 1
