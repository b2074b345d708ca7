"""Exponential backoff shared by Hub metadata calls and byte transfers."""

import math
import random
import threading
from dataclasses import dataclass

MAX_RETRY_AFTER = 120.0
# Seconds, and refusals in a row, one request (or one connection of a file) waits out the Hub's 429s
# before they count as failures: the rate limit is a "come back later", not a failure, so a job
# outlasts a busy window (5 minutes on the Hub); a server that answers 429 for ever still lets go.
MAX_RATE_LIMITED_WAIT = 900.0
MAX_RATE_LIMITED_TRIES = 30


def rate_limit_allows(refusals: int, waited: float) -> bool:
    """Whether another 429 may be waited out, after `refusals` in a row and `waited` seconds."""
    return refusals < MAX_RATE_LIMITED_TRIES and waited < MAX_RATE_LIMITED_WAIT


@dataclass
class Backoff:
    retries: int = 5          # retries after the first attempt
    base: float = 0.5         # first delay, doubled each time
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before retry number `attempt` (1-based); a server's Retry-After wins when given."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        exp = min(self.cap, self.base * (2 ** (attempt - 1)))
        return exp * (0.8 + 0.4 * random.random())  # jitter so parallel files don't retry in lockstep


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header; None when absent or unreadable (a server's value is hostile
    input: "nan", "inf", "-5" or a 10 kB number must not reach a sleep)."""
    if not isinstance(value, str) or not value or len(value) > 20:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def sleep_unless(event: threading.Event | None, seconds: float) -> bool:
    """Sleep, waking early when `event` is set; True when woken by the event."""
    if event is None:
        threading.Event().wait(seconds)
        return False
    return event.wait(seconds)
