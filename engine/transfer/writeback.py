"""Write-behind for large files: durability without a stall at the end.

A blob is fsynced before it is published (a crash must not leave a verified name on missing bytes).
Linux starts writing a freshly received file back only under memory pressure or at that fsync, so
a multi-GiB file would wait seconds at the end. Syncing every STEP bytes on a helper thread keeps the
disk busy while the network is, and the final fsync finds little left to do.
"""

import os
import threading

STEP = 128 << 20


class WriteBehind:
    def __init__(self, fd: int, step: int = STEP):
        self.fd = fd
        self.step = step
        self._pending = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None  # started on the first STEP: small files never need it

    def wrote(self, n: int) -> None:
        with self._lock:
            self._pending += n
            if self._pending < self.step:
                return
            self._pending = 0
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            try:
                os.fdatasync(self.fd)
            except OSError:
                return  # the final fsync reports the error (e.g. ENOSPC) where it can be handled

    def close(self) -> None:
        """Stop the helper (before the file descriptor is closed)."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
