"""django-q2 entry points for webhooks (dotted paths stored in queued tasks and a schedule: keep them)."""

from webhooks import sending, services


def deliver(delivery_id: int) -> str:
    return sending.deliver(delivery_id)


def send_due() -> dict:
    """Every minute (schedule from migration 0002): retries whose wait is over, deliveries the broker
    never took, deliveries whose worker died mid-send; finished ones older than 30 days go."""
    return {"reclaimed": services.reclaim_lost(), "sent": services.send_due(), "pruned": services.prune()}
