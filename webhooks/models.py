"""Delivery (one event for one URL) and its Attempts (each POST and what came back).

A delivery's body is fixed when the event happens and sent byte for byte on every attempt, so a receiver
that deduplicates on X-ModelHub-Delivery sees the same document each time; only the timestamp and the
signature change per attempt (see webhooks.signing).
"""

import uuid

from django.db import models
from django.utils import timezone


class WebhookEvent(models.TextChoices):
    JOB_FINISHED = "job.finished", "job finished"
    VARIANT_STATUS = "variant.status_changed", "variant status changed"
    TEST = "test", "test event"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "pending"  # created, its first attempt not made yet
    SENDING = "sending", "sending"  # claimed by a worker
    RETRYING = "retrying", "retrying"  # failed, another attempt at next_attempt_at
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"  # gave up: attempts used up, or nothing to sign with


# Waiting for a worker: what the minute sweep (webhooks.tasks.send_due) sends when due.
WAITING_STATES = (DeliveryState.PENDING, DeliveryState.RETRYING)


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(state__in=WAITING_STATES, next_attempt_at__lte=now or timezone.now())


class Delivery(models.Model):
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                   help_text="sent as X-ModelHub-Delivery: receivers deduplicate on it")
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    url = models.CharField(max_length=2048, verbose_name="URL")
    body = models.TextField(help_text="the JSON document sent, byte for byte")
    job = models.ForeignKey("downloads.DownloadJob", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    variant = models.ForeignKey("downloads.ModelVariant", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    resent_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="last handed to the task broker")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="taken by a worker to send")
    # The last attempt's outcome, for the list; every attempt is in Attempt.
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_state_due")]
        permissions = [("send_delivery", "Can send webhook deliveries again and send test events")]

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.state})"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # The start of the response body, printable characters only, for "why did it answer 400?".
    excerpt = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.response_code or self.error}"
