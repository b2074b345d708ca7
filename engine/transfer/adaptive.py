"""How many connections a big file gets, with no tuning: as many as keep adding throughput.

The Hub's CDN and many corporate proxies cap each TCP connection, so one stream fills a fraction of
a fast link (hf_transfer used 100 ranged connections; hf_xet adapts between 1 and 64). A large file
starts with a few connections; after each measured window in which every connection was flowing,
the count is multiplied while throughput grew by at least GAIN, and stops growing when it did not in
MISSES windows in a row (the link is full, the server limits, or a rate cap holds). One window is not
enough to stop: on a busy machine a single 0.3 s window can come out slow for reasons that have
nothing to do with the link, and stopping then would leave the file at half its speed for good. New
connections take the next piece of the file, or half of the largest range left (segments.py), so
every byte is still fetched once, segments stay resumable and the hash still follows the prefix.

The files of a job share one budget of connections (ConnectionBudget): a repo of four large files grows
each of them within it, and a single large file may take what the other file slots leave idle.
"""

import threading
import time
from dataclasses import dataclass, field

START = 16       # a large file opens with this many (as aria2c -x16): most links are wider than a few caps
STEP = 2         # each window that paid off multiplies the connections by this
GAIN = 1.25      # a window pays off when throughput grew by at least this factor
WINDOW = 0.3     # seconds measured per window, once every connection delivers bytes
MISSES = 2       # windows in a row without GAIN before the growth stops
MIN_SPLIT = 8 << 20  # a segment is split only when at least twice this is left of it


@dataclass
class Ramp:
    limit: int                   # connections this file may have at most
    connections: int = 0         # how many it has now
    settled: bool = False        # growth stopped: throughput no longer followed the connections
    best: float = 0.0            # bytes/s measured with the connections before the last addition
    misses: int = 0              # windows in a row that did not pay off
    _mark: float | None = field(default=None, repr=False)
    _mark_bytes: int = field(default=0, repr=False)

    def start(self) -> int:
        self.connections = min(START, self.limit)
        return self.connections

    def wanted(self, received: int, flowing: bool, now: float | None = None) -> int:
        """The number of connections to have now, given the bytes received so far and whether every
        connection has delivered its first byte (a window only counts once they all flow)."""
        now = time.monotonic() if now is None else now
        if self.settled or self.connections >= self.limit:
            return self.connections
        if not flowing:
            self._mark = None
            return self.connections
        if self._mark is None:
            self._mark, self._mark_bytes = now, received
            return self.connections
        if now - self._mark < WINDOW:
            return self.connections
        rate = (received - self._mark_bytes) / (now - self._mark)
        self._mark = None
        if self.best and rate < self.best * GAIN:
            self.misses += 1
            self.settled = self.misses >= MISSES  # else measure the same connections once more
            return self.connections
        self.misses = 0
        self.best = rate
        self.connections = min(self.limit, self.connections * STEP)
        return self.connections


class ConnectionBudget:
    """The extra connections (beyond each file's first) a job's files may open at once, shared between
    their ramps: taken when a file grows, given back when its transfer ends."""

    def __init__(self, total: int):
        self._free = max(0, total)
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        """Up to `wanted` connections; how many were granted (0 when the budget is spent)."""
        with self._lock:
            granted = max(0, min(wanted, self._free))
            self._free -= granted
            return granted

    def give(self, n: int) -> None:
        with self._lock:
            self._free += n
