"""Handing a verified blob to the web server: the file is opened only through the manifest (never a path
from the request), checked to be the bytes that were verified, and given to FileResponse as a window
(the requested Range) that gunicorn sends with sendfile(2), i.e. without copying it through Python.
"""

import io
import os
import re
import stat
from dataclasses import dataclass

from serving.snapshots import ServedFile

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")
_HUGE = 2**63  # beyond any file; also keeps int() away from absurdly long digit strings
UNSATISFIABLE = "unsatisfiable"


def parse_range(header: str | None, size: int):
    """(start, end) inclusive to serve, None to serve the whole file, or UNSATISFIABLE (416).

    As RFC 9110 allows, a header that is malformed, has several ranges, or ends before it starts is
    ignored (the whole file is sent): a client gets correct bytes either way.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = (None if not g else int(g) if len(g) <= 19 else _HUGE for g in match.groups())
    if first is None:  # "-N": the last N bytes
        if last == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - last), size - 1
    if last is not None and last < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    return first, size - 1 if last is None else min(last, size - 1)


@dataclass(frozen=True)
class Refusal:
    reason: str  # "outside", "missing", "changed"
    detail: str


def open_verified(served: ServedFile):
    """The open blob, or a Refusal: it must resolve inside its cache folder, be a regular file, and have
    the size (and mtime) recorded when it was last hashed. One fstat, so this costs nothing next to the
    transfer; a file changed since it was hashed is not served until a verification has looked at it."""
    home = os.path.realpath(served.home)
    real = os.path.realpath(served.blob)
    if not real.startswith(home.rstrip(os.sep) + os.sep):
        return Refusal("outside", "the blob resolves outside the storage folder")
    try:
        fh = open(real, "rb", buffering=0)  # noqa: SIM115 - FileResponse owns and closes it
    except OSError as exc:
        return Refusal("missing", f"the blob cannot be opened ({exc.strerror or type(exc).__name__})")
    st = os.fstat(fh.fileno())
    fingerprint = served.fingerprint or {}
    if (not stat.S_ISREG(st.st_mode) or st.st_size != served.size
            or (fingerprint.get("size") not in (None, st.st_size))
            or (fingerprint.get("mtime_ns") not in (None, st.st_mtime_ns))):
        fh.close()
        return Refusal("changed", "the blob changed on disk since it was verified")
    return fh


class BlobWindow(io.RawIOBase):
    """Bytes [start, start + length) of an open file, for FileResponse.

    FileResponse takes Content-Length from seek/tell, which here measure the window. gunicorn then
    sendfile()s Content-Length bytes from the descriptor's current offset (the window's start); a
    server without sendfile (runserver, the test server) read()s, and read() stops at the window's end.
    """

    def __init__(self, fh, start: int, length: int):
        super().__init__()
        self._fh, self._start, self._length = fh, start, length
        self._pos = 0
        fh.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fh.fileno()

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = min(max(0, base + offset), self._length)
        self._fh.seek(self._start + self._pos)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._pos
        size = left if size is None or size < 0 else min(size, left)
        data = self._fh.read(size) if size else b""
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()
