"""Hashes the Hub publishes: sha256 for LFS files, git blob sha1 for the others.

Files are read with large unbuffered reads; hashlib releases the GIL on large buffers, so several
files hash in parallel on several cores.
"""

import hashlib
import os
import queue
import threading
from collections.abc import Callable

from downloads.errors import JobCancelled

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
    """Feed the first `limit` bytes (all when None) of a file into `hasher`; returns bytes read."""
    total = 0
    buf = bytearray(HASH_READ_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while limit is None or total < limit:
            if cancel is not None and cancel.is_set():
                raise JobCancelled()
            want = HASH_READ_CHUNK if limit is None else min(HASH_READ_CHUNK, limit - total)
            n = fh.readinto(view[:want])
            if not n:
                break
            hasher.update(view[:n])  # hashlib drops the GIL on large buffers: files hash in parallel
            total += n
            if on_bytes:
                on_bytes(n)
    return total


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
