"""One attempt at a delivery: claim the row, POST the signed body, record what came back, and either
finish or wait for the next attempt (exponential backoff, bounded attempts).

Everything the receiver sends back is hostile input: its status code is recorded, redirects are not
followed (a signed body must not be forwarded to wherever a receiver points), the whole exchange has one
deadline (webhooks.exchange), and of the body only a short printable excerpt is kept.
"""

import http.client
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from settings_app.models import Setting
from settings_app.token_crypto import TokenDecryptError
from webhooks import config, exchange, signing
from webhooks.models import WAITING_STATES, Attempt, Delivery, DeliveryState

log = logging.getLogger(__name__)

EXCERPT_BYTES = 1024
EXCERPT_CHARS = 200
MAX_DELAY = 3600.0  # seconds: backoff stops growing at an hour
UNDECRYPTABLE = ("The webhook secret cannot be decrypted with the configured key (SECRET_KEY or "
                 "MODELHUB_TOKEN_KEY changed): save it again in Settings.")


@dataclass
class Outcome:
    code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300 and not self.error


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base, 2 x base, 4 x base..."""
    return min(MAX_DELAY, settings.MODELHUB_WEBHOOK_RETRY_DELAY * 2 ** (attempts - 1))


def deliver(pk: int) -> str:
    """One attempt. A delivery that is not waiting (already sent, or taken by another worker) is left."""
    now = timezone.now()
    if not Delivery.objects.filter(pk=pk, state__in=WAITING_STATES).update(
            state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return f"delivery {pk}: not waiting"
    delivery = Delivery.objects.get(pk=pk)
    try:
        secret = config.secret(Setting.load())
    except TokenDecryptError:
        return _record(delivery, Outcome(error=UNDECRYPTABLE), final=True)
    if not secret:
        return _record(delivery, Outcome(error="No webhook secret in Settings: ModelHub only sends signed "
                                               "deliveries."), final=True)
    return _record(delivery, post(delivery, secret))


def post(delivery: Delivery, secret: str) -> Outcome:
    body = delivery.body.encode()
    headers = signing.headers(secret, event=delivery.event, delivery_id=str(delivery.delivery_id), body=body)
    timeout = settings.MODELHUB_WEBHOOK_TIMEOUT
    start = time.monotonic()
    outcome = Outcome()
    try:
        outcome.code, data = exchange.post(delivery.url, body, headers, deadline=timeout,
                                           excerpt_bytes=EXCERPT_BYTES)
        outcome.excerpt = _excerpt(data)
        if 300 <= outcome.code < 400:
            outcome.error = f"HTTP {outcome.code}: redirects are not followed; use the final URL"
        elif not 200 <= outcome.code < 300:
            outcome.error = f"HTTP {outcome.code}"
    except exchange.NoAnswer:
        outcome.error = f"no answer within {timeout:g} s"
    except http.client.HTTPException as exc:
        outcome.error = f"not an HTTP answer ({type(exc).__name__})"
    except OSError as exc:
        outcome.error = f"could not connect: {exc.strerror or type(exc).__name__}"
    outcome.duration_ms = int((time.monotonic() - start) * 1000)
    return outcome


def _record(delivery: Delivery, outcome: Outcome, *, final: bool = False) -> str:
    now = timezone.now()
    Attempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, response_code=outcome.code,
                           error=outcome.error[:500], duration_ms=outcome.duration_ms,
                           excerpt=outcome.excerpt)
    fields = {"response_code": outcome.code, "error": outcome.error[:500], "duration_ms": outcome.duration_ms}
    if outcome.ok:
        fields.update(state=DeliveryState.SUCCEEDED, finished_at=now)
    elif final or delivery.attempts >= settings.MODELHUB_WEBHOOK_ATTEMPTS:
        fields.update(state=DeliveryState.FAILED, finished_at=now)
    else:
        fields.update(state=DeliveryState.RETRYING, queued_at=None,
                      next_attempt_at=now + timedelta(seconds=backoff(delivery.attempts)))
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(**fields)
    if not outcome.ok:
        # The URL and what failed, never the headers (they carry the signature) nor the body.
        log.info("webhook delivery %s to %s, attempt %s: %s", delivery.pk, delivery.url, delivery.attempts,
                 outcome.error)
    return f"delivery {delivery.pk}: {fields['state']}"


def _excerpt(data: bytes) -> str:
    """The start of the body as printable text on one line."""
    text = data[:EXCERPT_BYTES].decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:EXCERPT_CHARS]
