"""The minute sweep (webhooks.tasks.send_due): a delivery whose worker died mid-send is tried again (or
given up when its attempts are used), and finished deliveries older than 30 days are deleted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.conftest import point_webhooks_at
from webhooks import payloads, services, tasks
from webhooks.models import Delivery, WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_delivery_abandoned_mid_send_is_sent_again(configured, receiver, sync_queue):
    point_webhooks_at(receiver.url)
    long_ago = timezone.now() - timedelta(minutes=11)
    with_attempts_left, used_up = (Delivery.objects.create(
        event=WebhookEvent.TEST, url=receiver.url, body=payloads.encode(payloads.test_event()),
        state="sending", claimed_at=long_ago, attempts=n) for n in (1, 3))  # 3 = MODELHUB_WEBHOOK_ATTEMPTS
    recent = Delivery.objects.create(event=WebhookEvent.TEST, url=receiver.url, body="{}", state="sending",
                                     claimed_at=timezone.now(), attempts=1)  # a worker is on it right now
    result = tasks.send_due()
    assert sorted(result["reclaimed"]) == sorted([with_attempts_left.pk, used_up.pk])
    assert result["sent"] == [with_attempts_left.pk]
    states = dict(Delivery.objects.values_list("pk", "state"))
    assert states == {with_attempts_left.pk: "succeeded", used_up.pk: "failed", recent.pk: "sending"}
    assert Delivery.objects.get(pk=used_up.pk).error == "its worker stopped during the attempt"
    assert len(receiver.requests) == 1


def test_finished_deliveries_are_kept_30_days(configured):
    now = timezone.now()
    old, fresh, waiting = (Delivery.objects.create(event=WebhookEvent.TEST, url="https://example.com/h",
                                                   body="{}", state=state, finished_at=finished)
                           for state, finished in (("succeeded", now - timedelta(days=31)),
                                                   ("failed", now - timedelta(days=29)), ("pending", None)))
    assert services.prune() == 1
    assert set(Delivery.objects.values_list("pk", flat=True)) == {fresh.pk, waiting.pk}
    assert not Delivery.objects.filter(pk=old.pk).exists()
