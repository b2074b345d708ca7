"""Signatures: HMAC-SHA256 over "<timestamp>.<body>" with the secret from Settings.

The timestamp is part of the signed material, so a receiver that refuses timestamps older than a few
minutes cannot be fed a recorded delivery again (a replay), and cannot be fed a fresh timestamp with an
old signature either. The scheme is Stripe's, which receivers and their libraries already know.

    X-ModelHub-Timestamp: 1764180000
    X-ModelHub-Signature: sha256=<hex of HMAC-SHA256(secret, b"1764180000." + body)>
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-ModelHub-Signature"
TIMESTAMP_HEADER = "X-ModelHub-Timestamp"
EVENT_HEADER = "X-ModelHub-Event"
DELIVERY_HEADER = "X-ModelHub-Delivery"
# What a receiver should accept by default (see verify): five minutes, as Stripe's libraries.
TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headers(secret: str, *, event: str, delivery_id: str, body: bytes, now: float | None = None) -> dict:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "ModelHub-Webhook/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(secret: str, body: bytes, timestamp: str, signature_header: str, *,
           tolerance: int = TOLERANCE, now: float | None = None) -> bool:
    """What a receiver does (README, "Webhooks"): the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), signature_header or "")
