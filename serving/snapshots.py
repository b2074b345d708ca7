"""What /hub serves: the files of INSTALLED variants, grouped by repo and commit.

Read-only selectors. A revision resolves to one commit, as on the Hub: a commit sha as is (or a unique
prefix of an installed one); a branch or tag through the ref ModelHub wrote in the cache (refs/<name>)
when that commit is installed, else through the newest installed variant recorded for that name. The
snapshot at a commit is the union of the installed variants' manifests at that commit: their verified
sizes and hashes, never a listing of what happens to be on disk.
"""

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from downloads.models import ModelVariant, VariantStatus
from downloads.storage.overview import variant_home
from engine.cache.layout import COMMIT_RE, RepoCache, check_repo_path, is_commit, repo_folder_name, within
from engine.errors import JobError
from engine.selection import InvalidInput, clean_revision

_SHORT_SHA_MIN = 7


class Missing(StrEnum):
    REPO = "repo"
    REVISION = "revision"


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file of an LFS file: the git blob the Hub's `oid`/`blobId` names."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class ServedFile:
    path: str
    size: int
    git_sha1: str
    sha256: str | None
    blob: Path  # where the verified bytes are: <cache>/<repo folder>/blobs/<etag>
    home: Path  # the cache folder the blob must stay inside
    fingerprint: dict | None  # (size, mtime_ns) when last hashed
    variant_id: int

    @property
    def etag(self) -> str:
        return self.sha256 or self.git_sha1

    @property
    def is_lfs(self) -> bool:
        return bool(self.sha256)

    def tree_entry(self) -> dict:
        entry = {"type": "file", "oid": self.git_sha1, "size": self.size, "path": self.path}
        if self.sha256:
            entry["lfs"] = {"oid": self.sha256, "size": self.size,
                            "pointerSize": len(lfs_pointer(self.sha256, self.size))}
        return entry


@dataclass
class Snapshot:
    repo_type: str
    repo_id: str
    commit: str
    files: dict[str, ServedFile]
    last_modified: datetime | None = None
    _tree: list[dict] | None = field(default=None, repr=False)

    def tree(self) -> list[dict]:
        """Every entry, folders included, sorted by path, in the Hub's tree shape."""
        if self._tree is None:
            folders: dict[str, list[str]] = {}
            for path, f in self.files.items():
                parts = path.split("/")
                for i in range(1, len(parts)):
                    folders.setdefault("/".join(parts[:i]), []).append(f"{path}:{f.git_sha1}")
            # Not git's tree id (that needs every file of the commit, and we serve a selection); stable
            # and unique per content, which is all a client uses it for.
            entries = [{"type": "directory", "oid": hashlib.sha1("\n".join(sorted(v)).encode()).hexdigest(),
                        "size": 0, "path": d} for d, v in folders.items()]
            entries += [f.tree_entry() for f in self.files.values()]
            self._tree = sorted(entries, key=lambda e: e["path"])
        return self._tree

    def is_folder(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.files)


def installed_variants(repo_type: str, repo_id: str) -> list[ModelVariant]:
    """The repo's installed variants, newest first. Corrupt, failed, queued (being repaired or updated)
    and downloading variants are not served: their files are not known good right now."""
    rows = ModelVariant.objects.filter(repo_type=repo_type, repo_id=repo_id, status=VariantStatus.INSTALLED)
    return list(rows.order_by("-last_verified_at", "-updated_at", "-id"))


def find(variants: list[ModelVariant], revision: str, storage: Path) -> Snapshot | Missing:
    """The snapshot the revision names among the repo's installed variants (`installed_variants`)."""
    if not variants:
        return Missing.REPO
    commit = resolve_revision(variants, revision, storage)
    if commit is None:
        return Missing.REVISION
    return snapshot_at(variants, commit, storage)


def split_revision(variants: list[ModelVariant], segments: list[str],
                   min_rest: int = 1) -> tuple[str, list[str]]:
    """(revision, the rest) from URL segments. huggingface_hub quotes a revision with '/' in it
    ("refs/pr/1" as refs%2Fpr%2F1), but the WSGI path arrives decoded: so a longer revision is taken
    when an installed variant records it, else the first segment."""
    names = {v.revision for v in variants if "/" in v.revision}
    for k in range(len(segments) - min_rest, 1, -1):
        if "/".join(segments[:k]) in names:
            return "/".join(segments[:k]), segments[k:]
    return segments[0], segments[1:]


def resolve_revision(variants: list[ModelVariant], revision: str, storage: Path) -> str | None:
    commits = {v.installed_commit for v in variants if v.installed_commit}
    if is_commit(revision):
        return revision if revision in commits else None
    if _SHORT_SHA_MIN <= len(revision) < 40 and all(c in "0123456789abcdef" for c in revision):
        hits = [c for c in commits if c.startswith(revision)]
        if len(hits) == 1:
            return hits[0]
    try:
        clean_revision(revision)
    except InvalidInput:
        return None
    if check_repo_path(revision) is None:
        homes = dict.fromkeys(variant_home(v, storage) for v in variants)
        for home in homes:
            commit = _read_ref(home, variants[0], revision)
            if commit in commits:
                return commit
    for v in variants:  # newest first
        if v.revision == revision and v.installed_commit:
            return v.installed_commit
    return None


def _read_ref(home: Path, variant: ModelVariant, revision: str) -> str | None:
    ref = home / repo_folder_name(variant.repo_id, variant.repo_type) / "refs" / revision
    try:
        if not within(ref, home):
            return None
        with open(ref, "rb") as fh:
            text = fh.read(100).decode("ascii", "replace").strip()
    except OSError:
        return None
    return text if COMMIT_RE.match(text) else None


def snapshot_at(variants: list[ModelVariant], commit: str, storage: Path) -> Snapshot:
    files: dict[str, ServedFile] = {}
    newest = None
    for v in variants:
        if v.installed_commit != commit:
            continue
        newest = newest or v.last_verified_at or v.updated_at
        home = variant_home(v, storage)
        cache = RepoCache(home, v.repo_id, v.repo_type)
        for path, record in v.installed_files.items():
            if path in files or check_repo_path(path):
                continue
            served = _served_file(path, record, cache, home, v.pk)
            if served is not None:
                files[path] = served
    return Snapshot(variants[0].repo_type, variants[0].repo_id, commit, files, newest)


def _served_file(path: str, record: dict, cache: RepoCache, home: Path, variant_id: int) -> ServedFile | None:
    sha256 = record.get("sha256") or None
    size = record.get("size")
    git_sha1 = record.get("git_sha1") or ""
    if not isinstance(size, int) or size < 0:
        return None
    if sha256 and not git_sha1:  # registered from a cache that kept no listing: the pointer names it
        git_sha1 = git_blob_sha1(lfs_pointer(sha256, size))
    if not (sha256 or git_sha1) or os.sep in (sha256 or git_sha1):
        return None
    try:
        blob = cache.blob_path(sha256 or git_sha1)
    except JobError:  # a blob name that is not a plain file name: never served
        return None
    fingerprint = record.get("fingerprint") if isinstance(record.get("fingerprint"), dict) else None
    return ServedFile(path, size, git_sha1, sha256, blob, home, fingerprint, variant_id)
