"""Exponential backoff shared by Hub metadata calls and byte transfers."""

import random
import threading
from dataclasses import dataclass

MAX_RETRY_AFTER = 120.0


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
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff


def sleep_unless(event: threading.Event | None, seconds: float) -> bool:
    """Sleep, waking early when `event` is set; True when woken by the event."""
    if event is None:
        threading.Event().wait(seconds)
        return False
    return event.wait(seconds)
