"""Received bytes go back to the system when they are freed, so memory stays flat.

Every socket read returns a new bytes object of up to fetcher.CHUNK (1 MiB). glibc's malloc serves
such sizes with mmap and unmaps them on free, but only until the first one is freed: it then raises
its mmap threshold to that size ("dynamic threshold") and serves the next ones from its per-thread
arenas, which keep freed memory. With 30-60 connections threads, each arena holds a few MiB: a
sharded repo peaked at 194 MB RSS where 141 MB did with the threshold fixed. Setting the threshold
explicitly turns the adjustment off (mallopt(3)); the cost, an mmap per read, is small next to
receiving a mebibyte. Only glibc has mallopt; elsewhere nothing changes.
"""

import ctypes
import ctypes.util
import threading

M_MMAP_THRESHOLD = -3
THRESHOLD = 256 << 10  # reads of 1 MiB are above it; Python's small objects and sockets' buffers below

_done = False
_lock = threading.Lock()


def return_freed_buffers() -> bool:
    """Fix malloc's mmap threshold, once per process; False where that is not possible (not glibc)."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
        _done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
        return _done
