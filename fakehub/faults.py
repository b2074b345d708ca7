"""Fault injection: failed responses, dropped connections, corrupted bytes, stalls and throttling,
matched by file path (fnmatch). `FakeHub` takes these methods; `files.py` applies them."""

from __future__ import annotations

import fnmatch
import threading
import time

from fakehub.ratelimit import RateLimits


class Fault:
    """One rule: ``kind`` is "fail", "drop", "corrupt" or "stall"; it applies to ``count`` more requests."""

    __slots__ = ("kind", "pattern", "count", "status", "retry_after", "methods", "nbytes", "seconds")

    def __init__(
        self,
        kind,
        pattern,
        count,
        *,
        status=None,
        retry_after=None,
        methods=("GET",),
        nbytes=None,
        seconds=None,
    ):
        self.kind = kind
        self.pattern = pattern
        self.count = count
        self.status = status
        self.retry_after = retry_after
        self.methods = tuple(m.upper() for m in methods)
        self.nbytes = nbytes
        self.seconds = seconds


class FaultInjection(RateLimits):
    """The fault half of `FakeHub`. Each rule counts down and goes away after ``count`` requests;
    throttling stays until it is removed. The rate-limit mode is in ratelimit.py."""

    def _init_faults(self) -> None:
        self._init_rate_limits()
        self._fault_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._throttles: dict[str, int] = {}
        self._cdn_limits: tuple[int | None, float, LinkCap | None] = (None, 0.0, None)
        self._cdn_url_lifetime: float | None = None

    def cdn_profile(self, per_connection: int | None, *, ttfb: float = 0.0, link: int | None = None,
                    url_lifetime: float | None = None) -> None:
        """Make the CDN origin behave like the Hub's: every connection capped at `per_connection`
        bytes/s, `ttfb` seconds before a response's first byte, and optionally the whole link capped
        at `link` bytes/s, shared by every connection; with `url_lifetime`, a redirect's signed URL
        answers 403 that many seconds after it was handed out. `cdn_profile(None)` lifts it all."""
        with self._fault_lock:
            self._cdn_limits = (per_connection, ttfb, LinkCap(link) if link else None)
            self._cdn_url_lifetime = url_lifetime

    def cdn_url_deadline(self) -> float | None:
        """When a CDN URL handed out now expires (time.monotonic()), or None when they don't."""
        with self._fault_lock:
            lifetime = self._cdn_url_lifetime
        return None if lifetime is None else time.monotonic() + lifetime

    def cdn_limits(self) -> tuple[int | None, float, LinkCap | None]:
        with self._fault_lock:
            return self._cdn_limits

    def fail_next(
        self, pattern: str, status: int, count: int = 1, *, retry_after: int | None = None, methods=("GET",)
    ) -> None:
        with self._fault_lock:
            self._faults.append(
                Fault("fail", pattern, count, status=status, retry_after=retry_after, methods=methods)
            )

    def drop_after(self, pattern: str, nbytes: int, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(Fault("drop", pattern, count, nbytes=nbytes))

    def corrupt_next(self, pattern: str, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(Fault("corrupt", pattern, count))

    def stall(self, pattern: str, seconds: float, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(Fault("stall", pattern, count, seconds=seconds))

    def throttle(self, bytes_per_second: int | None, pattern: str = "*") -> None:
        """Pace body writes of matching files. ``None`` removes the rule for ``pattern``
        (``throttle(None)`` removes all throttling)."""
        with self._fault_lock:
            if bytes_per_second is None:
                if pattern == "*":
                    self._throttles.clear()
                else:
                    self._throttles.pop(pattern, None)
            else:
                self._throttles.pop(pattern, None)
                self._throttles[pattern] = int(bytes_per_second)

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()
            self._throttles.clear()

    def _take_fault(self, kind: str, file_path: str, method: str) -> Fault | None:
        with self._fault_lock:
            for rule in self._faults:
                if (
                    rule.kind == kind
                    and rule.count > 0
                    and method.upper() in rule.methods
                    and fnmatch.fnmatchcase(file_path, rule.pattern)
                ):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._faults.remove(rule)
                    return rule
        return None

    def _throttle_for(self, file_path: str) -> int | None:
        with self._fault_lock:
            found = None
            for pattern, bps in self._throttles.items():
                if fnmatch.fnmatchcase(file_path, pattern):
                    found = bps
            return found if found and found > 0 else None


class LinkCap:
    """One link shared by many connections: each send reserves its time on the link, in order."""

    def __init__(self, bytes_per_second: int):
        self.bps = bytes_per_second
        self._lock = threading.Lock()
        self._free_at = time.monotonic()

    def consume(self, n: int, stopping: threading.Event) -> bool:
        """Wait until `n` more bytes fit the link; False when the server is stopping meanwhile."""
        with self._lock:
            now = time.monotonic()
            self._free_at = max(self._free_at, now) + n / self.bps
            delay = self._free_at - now
        return not (delay > 0 and stopping.wait(delay))
