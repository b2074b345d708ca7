"""What FakeHub serves: files, commits, branches and tags of a repo, and the tree listing derived from them.

These are plain data; how file content becomes a `HubFile` (hashing, LFS pointers) is in `blobs.py`.
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import time
from dataclasses import dataclass, field

REPO_TYPES = ("model", "dataset", "space")
TYPE_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}  # where each type lives in URLs


@dataclass(frozen=True)
class HubFile:
    """One file of one commit.

    ``git_sha1`` is the git blob id the Hub reports as ``oid``/``blobId``: the sha1 of the content's
    git blob for regular files, and of the LFS *pointer* blob for LFS files (exactly like the real
    Hub). ``sha256`` is set for LFS files only. ``etag`` is what the cache names the blob after.
    """

    path: str
    size: int
    git_sha1: str
    is_lfs: bool
    sha256: str | None = None
    data: bytes | None = field(default=None, repr=False)
    source: pathlib.Path | None = None
    pointer_size: int | None = None

    @property
    def oid(self) -> str:
        return self.git_sha1

    @property
    def etag(self) -> str:
        return self.sha256 if self.is_lfs and self.sha256 else self.git_sha1

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.source is not None
        return self.source.read_bytes()

    def _read(self, fh, pos: int, n: int) -> bytes:
        if self.data is not None:
            return self.data[pos : pos + n]
        fh.seek(pos)
        return fh.read(n)


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    files: dict[str, HubFile]
    title: str
    timestamp: float


@dataclass(frozen=True)
class Repo:
    """What ``add_repo``/``add_commit`` return: one commit of one branch of a repo."""

    repo_id: str
    repo_type: str
    branch: str
    commit: str
    files: dict[str, HubFile]
    parent: str | None = None
    gated: bool | str = False
    private: bool = False

    @property
    def sha(self) -> str:
        return self.commit


class RepoState:
    def __init__(self, repo_id: str, repo_type: str, default_branch: str):
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.default_branch = default_branch
        self.branches: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.commits: dict[str, Commit] = {}
        self.gated: bool | str = False
        self.private = False
        self.created = time.time()
        self._tree_cache: dict[str, list[dict]] = {}

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        if rev in self.tags:
            return self.commits[self.tags[rev]]
        if rev in self.commits:
            return self.commits[rev]
        if 7 <= len(rev) < 40 and re.fullmatch(r"[0-9a-f]+", rev):
            hits = [c for sha, c in self.commits.items() if sha.startswith(rev)]
            if len(hits) == 1:
                return hits[0]
        return None

    def last_commit_of(self, commit: Commit, path: str) -> Commit:
        """The newest commit (walking back from ``commit``) since which ``path`` is unchanged."""
        entry = commit.files.get(path)
        cur = commit
        while cur.parent is not None:
            parent = self.commits[cur.parent]
            prev = parent.files.get(path)
            if entry is None:
                if not any(p == path or p.startswith(path + "/") for p in parent.files):
                    break
                if _dir_oid(parent, path) != _dir_oid(cur, path):
                    break
            elif prev is None or prev.git_sha1 != entry.git_sha1:
                break
            cur = parent
        return cur


def _dir_oid(commit: Commit, dirpath: str) -> str:
    h = hashlib.sha1(b"tree\0")
    prefix = dirpath + "/" if dirpath else ""
    for p in sorted(commit.files):
        if p.startswith(prefix):
            h.update(p.encode() + b"\0" + commit.files[p].git_sha1.encode() + b"\n")
    return h.hexdigest()


def tree_entries(state: RepoState, commit: Commit) -> list[dict]:
    """All entries (directories first, then files, each sorted by path) of a commit; cached."""
    cached = state._tree_cache.get(commit.sha)
    if cached is not None:
        return cached
    dirs: set[str] = set()
    for p in commit.files:
        parts = p.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    entries: list[dict] = [{"type": "directory", "path": d, "oid": _dir_oid(commit, d)} for d in sorted(dirs)]
    for p in sorted(commit.files):
        entries.append(_file_entry_json(commit.files[p]))
    state._tree_cache[commit.sha] = entries
    return entries


def _file_entry_json(f: HubFile) -> dict:
    entry: dict = {"type": "file", "oid": f.git_sha1, "size": f.size, "path": f.path}
    if f.is_lfs:
        entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
    return entry
