"""The per-blob lock: `<storage>/.locks/models--org--name/<etag>.lock`, one writer per blob.

It is flock(2) on that file, which is what huggingface_hub's `filelock` takes on the same path, so
ModelHub and `hf download` writing into one cache exclude each other; the kernel drops the lock when
a process dies, so a crashed worker never leaves a blob locked. Hand-written instead of `filelock`
because a download takes it once per file: filelock costs ~0.6 ms of CPU per acquire and release
(path canonicalisation, a registry of instances), a tenth of what a small file costs in all.
"""

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import JobCancelled

POLL = 0.05  # seconds between attempts while another writer holds the blob


@contextmanager
def hold(lock_path: Path, *, cancel: threading.Event | None = None) -> Iterator[None]:
    """Wait for the blob's lock (raising JobCancelled if `cancel` is set meanwhile) and hold it."""
    fd = _acquire(lock_path, cancel=cancel, wait=True)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def try_hold(lock_path: Path) -> Iterator[bool]:
    """Take the lock if it is free: yields False, at once, when someone is writing that blob."""
    fd = _acquire(lock_path, cancel=None, wait=False)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)


def _acquire(lock_path: Path, *, cancel: threading.Event | None, wait: bool) -> int | None:
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except FileNotFoundError:  # the .locks folder is gone (storage cleaned up): recreate it
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if not wait:
                return None
            if cancel is None:
                time.sleep(POLL)
            elif cancel.wait(POLL):
                raise JobCancelled() from None
            continue
        except BaseException:
            os.close(fd)
            raise
        # A deleter may unlink the lock file while holding it (fs_safety does, after removing the
        # blob); a lock on that orphaned inode excludes nobody, so start over on the current file.
        try:
            if os.fstat(fd).st_ino == os.stat(lock_path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
