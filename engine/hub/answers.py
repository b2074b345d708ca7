"""The shapes the Hub's answers must have before ModelHub lets them name anything.

A commit sha names the snapshot folder; a blob id (git sha1 or LFS sha256) names the blob, its
partial and its lock file; a path names the snapshot file; a size decides how much to write. A
mirror or proxy ModelHub does not control can send anything in those fields, so each is checked
here, in one place, before a single byte touches the disk. A value that would climb out of a
folder is `unsafe_path`; any other malformed value is `protocol_error`.
"""

import re
from urllib.parse import urlsplit

from engine.cache.layout import check_repo_path
from engine.errors import ErrorCode, HubError
from engine.hub import origins

COMMIT = re.compile(r"[0-9a-f]{40}")
GIT_SHA1 = COMMIT
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_SIZE = 1 << 50  # 1 PiB: far above any real file, far below what breaks arithmetic or the database


def _show(value: object) -> str:
    text = ascii(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _is_text(value: str) -> bool:
    """JSON may carry lone surrogates; they name no file and fit no database column."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject(what: str, value: object, *, endpoint: str, **ctx) -> HubError:
    text = value if isinstance(value, str) else ""
    if "/" in text or "\\" in text or ".." in text or "\x00" in text:
        return HubError(ErrorCode.UNSAFE_PATH,
                        f"{endpoint} sent a {what} that is a path: {_show(value)}; nothing was "
                        "written", endpoint=endpoint, value=_show(value), **ctx)
    return HubError(ErrorCode.PROTOCOL_ERROR, f"{endpoint} sent an invalid {what}: {_show(value)}",
                    endpoint=endpoint, detail=f"invalid {what} {_show(value)}", **ctx)


def commit(value: object, *, endpoint: str, **ctx) -> str:
    """A commit sha: exactly 40 lowercase hex characters."""
    if isinstance(value, str) and COMMIT.fullmatch(value):
        return value
    raise _reject("commit sha", value, endpoint=endpoint, **ctx)


def tree_entry(entry: object, *, endpoint: str, **ctx) -> tuple[str, int, str, str | None] | None:
    """(path, size, git_sha1, sha256) of a file entry of a tree listing; None for a folder."""
    if not isinstance(entry, dict):
        raise _reject("tree entry", entry, endpoint=endpoint, **ctx)
    if entry.get("type") == "directory":
        return None
    path = entry.get("path")
    if isinstance(path, str) and not _is_text(path):
        raise _reject("file name (not Unicode text)", path, endpoint=endpoint, **ctx)
    if not isinstance(path, str) or check_repo_path(path):
        reason = check_repo_path(path) if isinstance(path, str) else "not a string"
        raise HubError(ErrorCode.UNSAFE_PATH,
                       f"{endpoint} listed an unsafe file path {_show(path)} ({reason}); nothing "
                       "was written", endpoint=endpoint, files=[str(path)], **ctx)
    size = entry.get("size")
    if type(size) is not int or not 0 <= size <= MAX_SIZE:
        raise _reject(f"size for {path}", size, endpoint=endpoint, **ctx)
    oid = entry.get("oid")
    if not isinstance(oid, str) or not GIT_SHA1.fullmatch(oid):
        raise _reject(f"blob id for {path}", oid, endpoint=endpoint, **ctx)
    lfs = entry.get("lfs")
    if lfs is None:
        return path, size, oid, None
    sha256 = lfs.get("oid") if isinstance(lfs, dict) else lfs
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise _reject(f"LFS sha256 for {path}", sha256, endpoint=endpoint, **ctx)
    lfs_size = lfs.get("size", size)
    if lfs_size != size:
        raise _reject(f"LFS size for {path}", lfs_size, endpoint=endpoint, **ctx)
    return path, size, oid, sha256


def next_page(link: str | None, current: str, *, endpoint: str, **ctx) -> str | None:
    """The next page of a listing, only on the endpoint's own origin (the token goes with it, and a
    mirror must not make ModelHub fetch from hosts it chooses)."""
    if not link:
        return None
    if urlsplit(link).scheme not in ("http", "https") or origins.origin(link) != origins.origin(current):
        raise HubError(ErrorCode.PROTOCOL_ERROR,
                       f"{endpoint} pointed the next page of a file listing at another "
                       f"host: {_show(link)}", endpoint=endpoint, detail="pagination to another origin",
                       **ctx)
    return link
