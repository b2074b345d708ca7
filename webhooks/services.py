"""What the signal receivers, the admin and the sweep may do with deliveries: queue an event for every
URL in Settings, send one again, send a test event. The only module that enqueues webhook tasks.

A receiver that is down or slow never touches a download: the signal receivers (webhooks.receivers)
only write rows and hand their ids to the broker after the commit; the POST happens in a worker.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from settings_app.models import Setting
from webhooks import config, payloads
from webhooks.models import WAITING_STATES, Delivery, DeliveryState, WebhookEvent

log = logging.getLogger(__name__)

# A delivery handed to the broker is not handed again by the sweep before this: a busy queue would
# otherwise collect a copy every minute (harmless, the task claims its row, but wasteful).
REQUEUE_AFTER = timedelta(minutes=5)
# A worker holds a delivery for at most the timeout (connect + read + the excerpt): far less than this.
LOST_AFTER = timedelta(minutes=10)
KEEP_FOR = timedelta(days=30)


def queue(event: str, payload: dict, *, job=None, variant=None,
          urls: list[str] | None = None) -> list[Delivery]:
    """One delivery per URL (those in Settings unless given), sent by a worker once this commits."""
    targets = config.urls(Setting.load()) if urls is None else urls
    if not targets:
        return []
    body, now = payloads.encode(payload), timezone.now()
    rows = [Delivery.objects.create(event=event, url=url, body=body, job=job, variant=variant,
                                    next_attempt_at=now) for url in targets]
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: [send_soon(pk) for pk in ids])
    return rows


def send_soon(pk: int) -> bool:
    """Hand a delivery to the broker. When the broker is down the row stays due and the minute sweep
    (webhooks.tasks.send_due) sends it once the broker answers again; nothing raises to the caller."""
    from django_q.tasks import async_task

    now = timezone.now()
    # Marked before the hand-over: a worker may take the task (and set queued_at back to None on a retry)
    # before async_task even returns.
    Delivery.objects.filter(pk=pk, state__in=WAITING_STATES).update(queued_at=now)
    try:
        async_task("webhooks.tasks.deliver", pk, task_name=f"modelhub-webhook-{pk}-{now:%H%M%S%f}",
                   group="modelhub-webhooks")
    except Exception as exc:  # whatever the broker raises: redis.ConnectionError, a database error (ORM)
        log.warning("webhook delivery %s: the task broker is unavailable (%s); sent again within a minute",
                    pk, type(exc).__name__)
        Delivery.objects.filter(pk=pk, state__in=WAITING_STATES, queued_at=now).update(queued_at=None)
        return False
    return True


def send_due(now=None) -> list[int]:
    """Deliveries due (a retry whose wait is over, or one the broker never took), handed to the broker."""
    now = now or timezone.now()
    ids = list(Delivery.objects.due(now).exclude(queued_at__gte=now - REQUEUE_AFTER)
               .values_list("pk", flat=True)[:500])
    for pk in ids:
        send_soon(pk)
    return ids


def reclaim_lost(now=None) -> list[int]:
    """Deliveries a worker took and never finished (killed mid-send): the attempt counts as failed."""
    now = now or timezone.now()
    lost = Delivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=now - LOST_AFTER)
    ids = list(lost.values_list("pk", flat=True))
    lost.filter(attempts__gte=settings.MODELHUB_WEBHOOK_ATTEMPTS).update(
        state=DeliveryState.FAILED, finished_at=now, error="its worker stopped during the attempt")
    lost.update(state=DeliveryState.RETRYING, next_attempt_at=now, queued_at=None,
                error="its worker stopped during the attempt")
    return ids


def prune(now=None) -> int:
    """Finished deliveries are kept for KEEP_FOR, then deleted with their attempts."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    return Delivery.objects.filter(finished_at__lt=cutoff).delete()[0]


def send_again(deliveries, *, by=None) -> list[Delivery]:
    """A new delivery of the same body to the same URL (a new delivery id: a receiver that deduplicates
    should see it). The original keeps its record."""
    rows = []
    with transaction.atomic():
        for old in deliveries:
            rows.append(Delivery.objects.create(event=old.event, url=old.url, body=old.body, job=old.job,
                                                variant=old.variant, resent_from=old,
                                                next_attempt_at=timezone.now()))
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: [send_soon(pk) for pk in ids])
    return rows


def send_test(*, by=None) -> list[Delivery]:
    """A test event to every URL in Settings, to check a receiver and its signature check."""
    name = by.get_username() if getattr(by, "is_authenticated", False) else ""
    with transaction.atomic():
        return queue(WebhookEvent.TEST, payloads.test_event(name))


def outcome_counts() -> dict[str, int]:
    """Deliveries by state, every state present (for /metrics)."""
    from django.db.models import Count

    counts = dict(Delivery.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state.value: counts.get(state.value, 0) for state in DeliveryState}
