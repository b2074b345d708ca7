"""Parallel ranged segments for one big file: several connections into one partial, resumable per segment.

On disk: the partial `blobs/<etag>.incomplete` is extended to the full size (sparse) and each segment
writes its own byte range with pwrite; `blobs/<etag>.incomplete.segments` (JSON) records how far each
segment got, so a later attempt, in any process, continues every segment where it stopped. A plain
(single-stream) partial from an earlier attempt becomes the first, already-done part.

Each connection is a thread that takes work until none is left: an unfinished segment nobody holds,
else (adaptive) the next piece from the front of the file (layout.py says why in file order), else
half of the largest range another connection still has to fetch.

The hash is computed in file order by a reader that follows the contiguous written prefix, reading it
back from the page cache while the transfer runs, so hashing still overlaps the download.
"""

import json
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from engine.errors import JobCancelled
from engine.events import EventKind
from engine.hub import RemoteFile
from engine.limits import MAX_AUTO_SEGMENTS_PER_FILE, MAX_SEGMENTS_PER_FILE
from engine.transfer.adaptive import MIN_SPLIT, WINDOW, ConnectionBudget, Ramp
from engine.transfer.layout import (  # noqa: F401 - present_bytes and sidecar_path are used from here
    ALIGN,
    Segment,
    next_piece,
    plan,
    present_bytes,
    sidecar_path,
)
from engine.transfer.partial import restore
from engine.transfer.writeback import WriteBehind
from engine.verify import new_hasher

SAVE_EVERY = 2.0  # seconds between sidecar writes
HASH_READ = 4 << 20
# Where a split may cut, beyond the position being written: more than one socket read (fetcher.CHUNK)
CUT_MARGIN = 2 << 20


class NoRangeSupport(Exception):
    """The server answered a ranged request with the whole file: segments are impossible."""


class SegmentedDownload:
    def __init__(self, fetcher, remote: RemoteFile, partial: Path, parts: int, *, adaptive: bool = False,
                 budget: ConnectionBudget | None = None):
        self.f = fetcher
        self.remote = remote
        self.partial = partial
        self.sidecar = sidecar_path(partial)
        # adaptive: `parts` is the most this file may open; it starts with a few and grows (adaptive.py),
        # each connection beyond the first taken from the job's budget
        self.ramp = Ramp(limit=min(parts, MAX_AUTO_SEGMENTS_PER_FILE)) if adaptive else None
        self.budget = budget if adaptive else None
        self._borrowed = 0  # connections taken from the budget, given back when the transfer ends
        self.parts = self.ramp.start() if self.ramp else min(parts, MAX_SEGMENTS_PER_FILE)
        self.lock = threading.Condition()
        self.stop = threading.Event()
        self.segments: list[Segment] = []  # sorted by start, tiling [0, front)
        self.front = 0  # the first byte no segment covers yet
        self._flowing: set[int] = set()  # connections that have received bytes

    # --- state on disk
    def _load(self) -> int:
        """Segments to continue; returns bytes already present."""
        size = self.remote.size
        try:
            state = json.loads(self.sidecar.read_text())
            if state.get("size") == size and self.partial.stat().st_size == size:
                self.segments = [Segment(*s[:3]) for s in state["segments"]]
                self.front = max((s.end for s in self.segments), default=0)
                return sum(s.done for s in self.segments)
        except (OSError, ValueError, TypeError, KeyError):
            pass
        already = self.partial.stat().st_size if self.partial.exists() else 0
        if already > size:
            already = 0
        with os.fdopen(os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644),
                       "r+b") as fh:  # never through a symlink planted in the partial's place
            fh.truncate(already)
            fh.truncate(size)  # sparse: blocks are allocated as segments write them
        if self.ramp:  # pieces are taken from the front as connections free up
            self.segments = [Segment(0, already, already)] if already else []
            self.front = already
        else:
            self.segments, self.front = plan(size, self.parts, already), size
        self._save()
        return already

    def _save(self) -> None:
        with self.lock:
            data = {"size": self.remote.size, "segments": [[s.start, s.end, s.done] for s in self.segments]}
        tmp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.sidecar)

    # --- the transfer
    def run(self, url: str):
        if self.budget is not None:
            self._borrowed = self.budget.take(self.parts - 1)
            self.parts = self.ramp.connections = 1 + self._borrowed
        try:
            return self._run(url)
        finally:
            if self.budget is not None:
                self.budget.give(self._borrowed)
                self._borrowed = 0

    def _run(self, url: str):
        already = self._already = self._load()
        if already:
            self.f.progress.add(already, network=False)
            with self.f.progress.lock:
                self.f.progress.resumed += already
            self.f.on_event(EventKind.RESUMED,
                            f"{self.remote.path}: resuming {len(self.segments)} segment(s), "
                            f"{already:,} of {self.remote.size:,} bytes already here")
        fd = os.open(self.partial, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        self.writeback = WriteBehind(fd)
        hasher_thread = threading.Thread(target=self._hash, args=(fd,), name="seg-hash", daemon=True)
        self._digest: str | None = None
        hasher_thread.start()
        try:
            workers = self.ramp.limit if self.ramp else self.parts
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="segment") as pool:
                futures = [pool.submit(self._connection, fd, url, i) for i in range(self.parts)]
                pending = set(futures)
                saved = time.monotonic()
                while pending:
                    _, pending = wait(pending, timeout=WINDOW / 3 if self.ramp else SAVE_EVERY,
                                      return_when=FIRST_EXCEPTION)
                    if any(f.done() and f.exception() for f in futures):
                        self.stop.set()
                        wait(pending)
                        break
                    for _ in range(self._grow(len(pending))):
                        future = pool.submit(self._connection, fd, url, len(futures))
                        futures.append(future)
                        pending.add(future)
                    if time.monotonic() - saved >= SAVE_EVERY:
                        self._save()
                        saved = time.monotonic()
                self._save()
                errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise next((e for e in errors if not isinstance(e, JobCancelled)), errors[0])
            self.writeback.close()
            os.fsync(fd)
            if restore(fd, self.partial):
                self.f.on_event(EventKind.RESUMED,
                                f"{self.remote.path}: the partial file was deleted while downloading "
                                "(hf cache prune?); its bytes were written out again")
        except BaseException:
            self.stop.set()
            self._save()
            raise
        finally:
            with self.lock:
                self.lock.notify_all()
            hasher_thread.join()
            self.writeback.close()
            os.close(fd)
        self.sidecar.unlink(missing_ok=True)
        return self._digest

    def _grow(self, running: int) -> int:
        """How many connections to add, for the ramp (adaptive only) or for work left unheld."""
        if self.ramp is None:
            return 0
        with self.lock:
            received = sum(s.done for s in self.segments) - self._already
            flowing = len(self._flowing) >= running
            open_ = [s for s in self.segments if not s.complete]
            claimable = (self.front < self.remote.size or any(not s.taken for s in open_)
                         or any(s.end - s.pos >= 2 * MIN_SPLIT + CUT_MARGIN for s in open_))
        self.ramp.connections = running
        wanted = self.ramp.wanted(received, flowing)
        more = max(0, wanted - running) if claimable else 0
        if more and self.budget is not None:
            more = self.budget.take(more)
            self._borrowed += more
        return more

    def _claim(self) -> Segment | None:
        """The next work for a free connection: an unfinished segment nobody holds (resumed from the
        sidecar), else the next piece from the front, else half of the largest range still to fetch."""
        with self.lock:
            seg = next((s for s in self.segments if not s.taken and not s.complete), None)
            if seg is None and self.ramp is not None:
                seg = next_piece(self.front, self.remote.size, max(self.ramp.connections, self.parts))
                if seg is not None:
                    self.segments.append(seg)
                    self.front = seg.end
            if seg is not None:
                seg.taken = True
                return seg
        return self._split() if self.ramp is not None else None

    def _split(self) -> Segment | None:
        """Halve the largest remaining range: its connection keeps the first half, a new one takes the
        second. The cut lies more than one read beyond where the connection is writing, so the two
        never write the same bytes."""
        with self.lock:
            open_ = [s for s in self.segments if not s.complete]
            if not open_:
                return None
            seg = max(open_, key=lambda s: s.end - s.pos)
            left = seg.end - seg.pos
            if left < 2 * MIN_SPLIT:
                return None
            mid = -(-(seg.pos + CUT_MARGIN + (left - CUT_MARGIN) // 2) // ALIGN) * ALIGN
            if mid >= seg.end:
                return None
            new = Segment(mid, seg.end, 0, taken=True)
            seg.end = mid
            self.segments.insert(self.segments.index(seg) + 1, new)
            return new

    def _connection(self, fd: int, url: str, index: int) -> None:
        """One connection: takes work until there is none left."""
        try:
            while not self.stop.is_set() and (seg := self._claim()) is not None:
                self._segment(fd, url, seg, index)
                with self.lock:
                    seg.taken = False
        finally:
            with self.lock:
                self._flowing.discard(index)  # the ramp counts the connections still running

    def _segment(self, fd: int, url: str, seg: Segment, index: int) -> None:
        def attempt() -> bool:
            if self.stop.is_set():
                raise JobCancelled()
            asked = seg.end  # a split may shorten the segment while this request runs
            resp = self.f.open(url, seg.pos, asked)
            try:
                self.f.raise_for_status(resp, self.remote)
                if resp.status_code == 200 and seg.pos > 0:
                    raise NoRangeSupport(self.remote.path)
                self.f.check_length(resp, self.remote, seg.pos, asked)
                for chunk in self.f.chunks(resp):
                    if self.stop.is_set():
                        raise JobCancelled()
                    chunk = chunk[: seg.end - seg.pos]  # never write into the next segment
                    os.pwrite(fd, chunk, seg.pos)
                    self.writeback.wrote(len(chunk))
                    with self.lock:
                        seg.done += len(chunk)
                        self._flowing.add(index)
                        self.lock.notify_all()
                    self.f.account(len(chunk))
                    if seg.complete:
                        return True
                return seg.complete
            finally:
                resp.close()

        self.f.retrying(self.remote, position=lambda: seg.pos, attempt=attempt,
                        label=f" (segment {index + 1})")

    def _contiguous(self) -> int:
        """End of the written prefix of the file (segments are sorted by start)."""
        end = 0
        for s in self.segments:
            if s.start > end:
                break
            end = max(end, s.pos)
            if not s.complete:
                break
        return end

    def _hash(self, fd: int) -> None:
        hasher = new_hasher(self.remote.hash_algo, self.remote.size)
        view = memoryview(bytearray(HASH_READ))
        pos = 0
        while pos < self.remote.size:
            with self.lock:
                while (avail := self._contiguous()) <= pos and not self.stop.is_set():
                    self.lock.wait(0.5)
            if avail <= pos:
                return  # stopped before the whole file was here
            while pos < avail:
                # into one buffer, reused: a new 4 MiB object per read would make glibc raise its mmap
                # threshold and keep freed memory in per-thread arenas (see fetcher.CHUNK)
                n = os.preadv(fd, [view[: min(HASH_READ, avail - pos)]], pos)
                if not n:
                    return
                hasher.update(view[:n])
                pos += n
        self._digest = hasher.hexdigest()
