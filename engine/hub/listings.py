"""File lists of commits asked for moments ago, kept for a minute.

The files of a commit never change, and the same process often lists the same commit twice in a
row: `download` looks the repo's files up to name the variant, then its job lists them again; the
picker lists them, then the download starts. A repo of thousands of files is several pages, each a
request against the Hub's API quota and a round trip before the first byte. The revision is still
resolved to its commit every time (a branch moves); only the commit's listing is reused. Bounded in
entries and age, so a web process does not hold large listings.
"""

import threading
import time

from engine.hub.repo import RemoteFile

TTL = 60.0
MAX_ENTRIES = 4

_lock = threading.Lock()
_recent: dict[tuple, tuple[float, list[RemoteFile]]] = {}


def get(key: tuple) -> list[RemoteFile] | None:
    with _lock:
        found = _recent.get(key)
        if found is None or time.monotonic() - found[0] > TTL:
            _recent.pop(key, None)
            return None
        return list(found[1])


def put(key: tuple, files: list[RemoteFile]) -> None:
    with _lock:
        _recent[key] = (time.monotonic(), list(files))
        while len(_recent) > MAX_ENTRIES:
            del _recent[min(_recent, key=lambda k: _recent[k][0])]


def forget() -> None:
    with _lock:
        _recent.clear()
