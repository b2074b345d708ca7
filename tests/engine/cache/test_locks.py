"""The per-blob lock: exclusion between threads and with huggingface_hub's filelock, cancel, and a
lock file unlinked by a deleter."""

import os
import threading
import time

import pytest
from filelock import FileLock

from engine.cache import locks
from engine.errors import JobCancelled


def test_second_holder_waits_until_the_first_releases(tmp_path):
    lock = tmp_path / ".locks" / "models--org--m" / "abc.lock"  # folders created on demand
    order = []
    first_in = threading.Event()

    def second():
        first_in.wait()
        with locks.hold(lock):
            order.append("second")

    t = threading.Thread(target=second)
    t.start()
    with locks.hold(lock):
        first_in.set()
        time.sleep(0.3)  # the other thread is polling meanwhile
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]


def test_try_hold_reports_a_busy_blob_at_once(tmp_path):
    lock = tmp_path / "abc.lock"
    with locks.hold(lock):
        start = time.monotonic()
        with locks.try_hold(lock) as held:
            assert held is False
        assert time.monotonic() - start < 0.2
    with locks.try_hold(lock) as held:
        assert held is True


def test_excludes_and_is_excluded_by_filelock_as_hf_uses_it(tmp_path):
    lock = tmp_path / "abc.lock"
    with FileLock(str(lock)):  # what huggingface_hub holds while it writes that blob
        with locks.try_hold(lock) as held:
            assert held is False
    with locks.hold(lock):
        with pytest.raises(TimeoutError):
            FileLock(str(lock)).acquire(timeout=0.1)


def test_cancel_stops_the_wait(tmp_path):
    lock = tmp_path / "abc.lock"
    cancel = threading.Event()
    errors = []

    def waiter():
        try:
            with locks.hold(lock, cancel=cancel):
                errors.append("acquired")
        except JobCancelled:
            errors.append("cancelled")

    with locks.hold(lock):
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.1)
        cancel.set()
        t.join(2)
        assert not t.is_alive()
    assert errors == ["cancelled"]


def test_a_lock_file_unlinked_by_its_holder_is_not_a_lock(tmp_path):
    """fs_safety's deleters remove the lock file while holding it; a waiter that had opened the old
    file must not believe it holds the blob while a new writer locks the new file."""
    lock = tmp_path / "abc.lock"
    got = threading.Event()

    def waiter():
        with locks.hold(lock):
            got.set()
            time.sleep(0.3)

    with locks.hold(lock):
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.1)  # the waiter has the old file open and polls it
        os.unlink(lock)
    t.join(0.05)
    assert got.wait(2)
    # The waiter holds the file that is on disk now: nobody else gets it meanwhile.
    with locks.try_hold(lock) as held:
        assert held is False
    t.join(2)
