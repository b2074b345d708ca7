"""The installed files of a variant as /hub serves them: its manifest, checked and parsed once per process
and version of the row, not at every request.

A snapshot_download of a repo with thousands of files sends two requests per file; re-reading and
re-parsing a manifest of thousands of entries for each made one HEAD cost ~150 ms. The cache key is the
row's (id, updated_at): every manifest change goes through downloads.jobs.lifecycle, which bumps
updated_at, so a changed manifest is a new key.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from downloads.models import ModelVariant
from engine.cache.layout import check_repo_path, plain_name
from engine.errors import JobError

_CACHE_SIZE = 64  # entries: a few MB each at most for repos of thousands of files
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file of an LFS file: the git blob the Hub's `oid`/`blobId` names."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Record:
    """One installed file: its verified size and hashes, and the (size, mtime) taken when it was hashed."""

    size: int
    git_sha1: str
    sha256: str | None
    fingerprint: dict | None

    @property
    def etag(self) -> str:
        return self.sha256 or self.git_sha1

    def tree_entry(self, path: str) -> dict:
        entry = {"type": "file", "oid": self.git_sha1, "size": self.size, "path": path}
        if self.sha256:
            entry["lfs"] = {"oid": self.sha256, "size": self.size,
                            "pointerSize": len(lfs_pointer(self.sha256, self.size))}
        return entry


@dataclass(frozen=True)
class Installed:
    commit: str  # the manifest's commit ('' when none)
    files: dict[str, Record]


def memo(key: tuple, build: Callable[[], object]):
    """A small process-wide LRU shared by the manifests and the listings derived from them."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = build()  # outside the lock: a slow parse must not hold up other requests
    with _lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def installed(variant: ModelVariant) -> Installed:
    """The variant's installed files (the row may be loaded without its manifest: see snapshots)."""
    def load() -> Installed:
        manifest = ModelVariant.objects.filter(pk=variant.pk).values_list("manifest", flat=True).first()
        return parse(manifest if isinstance(manifest, dict) else {})

    return memo(("manifest", variant.pk, variant.updated_at), load)


def parse(manifest: dict) -> Installed:
    files = {}
    for path, raw in (manifest.get("files") or {}).items():
        if isinstance(path, str) and isinstance(raw, dict) and not check_repo_path(path):
            record = _record(raw)
            if record is not None:
                files[path] = record
    commit = manifest.get("commit")
    return Installed(commit if isinstance(commit, str) else "", files)


def _record(raw: dict) -> Record | None:
    size, sha256, git_sha1 = raw.get("size"), raw.get("sha256") or None, raw.get("git_sha1") or ""
    if not isinstance(size, int) or size < 0:
        return None
    if sha256 and not git_sha1:  # registered from a cache that kept no listing: the pointer names it
        git_sha1 = git_blob_sha1(lfs_pointer(sha256, size))
    try:
        plain_name(sha256 or git_sha1, "blob id")  # a blob name must never be a path
    except JobError:
        return None
    fingerprint = raw.get("fingerprint")
    return Record(size, git_sha1, sha256, fingerprint if isinstance(fingerprint, dict) else None)
