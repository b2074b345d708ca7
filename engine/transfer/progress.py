"""State shared by a job's file threads and its monitor loop: byte counters and rate limits."""

import threading
import time
from dataclasses import dataclass, field

from engine.retrying import sleep_unless


@dataclass
class Progress:
    done: int = 0          # bytes present for the selected files (kept, resumed or received)
    transferred: int = 0   # bytes received over the network this attempt
    resumed: int = 0       # bytes of partials kept from an earlier attempt
    files_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int, *, network: bool = True) -> None:
        with self.lock:
            self.done += n
            if network:
                self.transferred += n

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.done, self.transferred, self.files_done


class RateLimiter:
    """Paces byte consumption to `rate` bytes/s (None: unlimited); the rate may change while running."""

    BURST_SECONDS = 0.25

    def __init__(self, rate: float | None = None):
        self._rate = rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float | None:
        return self._rate

    def set_rate(self, rate: float | None) -> None:
        with self._lock:
            self._rate = rate if rate and rate > 0 else None

    def consume(self, n: int, cancel: threading.Event | None = None) -> None:
        with self._lock:
            if not self._rate:
                return
            now = time.monotonic()
            # Never bank more than a short burst of idle time, so a pause doesn't allow a spike.
            start = max(self._next, now - self.BURST_SECONDS)
            self._next = start + n / self._rate
            wait = self._next - now
        if wait > 0:
            sleep_unless(cancel, wait)
