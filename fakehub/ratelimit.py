"""Rate-limit mode: the Hub's quotas per window, with the headers it sends and the 429s beyond them.

The Hub counts the requests of a client per fixed window (5 minutes) in buckets: "api" for the JSON
API, "resolvers" for `/resolve/` file URLs, "pages" for the rest. Every answer of the hub origin says
where the client stands (IETF draft headers), and a request beyond the quota gets 429 with
Retry-After until the window ends:

    RateLimit: "resolvers";r=41;t=12
    RateLimit-Policy: "fixed window";"resolvers";q=3000;w=300

`rate_limit(resolvers=(100, 2.0))` enforces 100 file requests per 2-second window (small numbers keep
tests fast); `rate_limit(headers=[...])` sends given header lines instead and enforces nothing (for
clients that must ignore malformed values). The CDN origin is not limited, as on the Hub.
"""

from __future__ import annotations

import math
import threading
import time


class Bucket:
    __slots__ = ("name", "quota", "window", "start", "used", "refused")

    def __init__(self, name: str, quota: int, window: float):
        self.name, self.quota, self.window = name, quota, window
        self.start = 0.0
        self.used = 0
        self.refused = 0  # 429s sent

    def charge(self, now: float) -> tuple[list[tuple[str, str]], int | None]:
        """(headers, None) for a request within the quota, (headers, retry_after) beyond it."""
        if now >= self.start + self.window:
            self.start, self.used = now, 0  # the first request after a window opens the next
        reset = max(1, math.ceil(self.start + self.window - now))
        window = math.ceil(self.window)
        policy = ("RateLimit-Policy", f'"fixed window";"{self.name}";q={self.quota};w={window}')
        if self.used >= self.quota:
            self.refused += 1
            return [("RateLimit", f'"{self.name}";r=0;t={reset}'), policy], reset
        self.used += 1
        return [("RateLimit", f'"{self.name}";r={self.quota - self.used};t={reset}'), policy], None


def bucket_of(path: str) -> str:
    if "/resolve/" in path:
        return "resolvers"
    return "api" if path.startswith("/api/") else "pages"


class RateLimits:
    """The rate-limit half of `FakeHub` (through `FaultInjection`)."""

    def _init_rate_limits(self) -> None:
        self._quota_lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}
        self._quota_headers: list[tuple[str, str]] | None = None

    def rate_limit(self, *, api: tuple[int, float] | None = None, resolvers: tuple[int, float] | None = None,
                   headers: list[tuple[str, str]] | None = None) -> None:
        """Enforce `(quota, window seconds)` per bucket on the hub origin; or, with `headers`, send those
        lines on every hub answer and enforce nothing. No arguments: back to no limits."""
        with self._quota_lock:
            limits = {"api": api, "resolvers": resolvers}
            self._buckets = {name: Bucket(name, *limit) for name, limit in limits.items() if limit}
            self._quota_headers = list(headers) if headers is not None else None

    def rate_limited(self, bucket: str | None = None) -> int:
        """429s sent for the quota (of one bucket, or all)."""
        with self._quota_lock:
            return sum(b.refused for b in self._buckets.values() if bucket in (None, b.name))

    def charge_quota(self, path: str) -> tuple[list[tuple[str, str]], int | None]:
        """The rate-limit headers for a request to the hub origin, and Retry-After seconds if refused."""
        with self._quota_lock:
            if self._quota_headers is not None:
                return list(self._quota_headers), None
            bucket = self._buckets.get(bucket_of(path))
            if bucket is None:
                return [], None
            return bucket.charge(time.monotonic())
