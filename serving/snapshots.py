"""What /hub serves: the files of INSTALLED variants, grouped by repo and commit.

Read-only selectors. A revision resolves to one commit, as on the Hub: a commit sha as is (or a unique
prefix of an installed one); a branch or tag through the ref ModelHub wrote in the cache (refs/<name>)
when that commit is installed, else through the newest installed variant recorded for that name. The
snapshot at a commit is the union of the installed variants' manifests at that commit: their verified
sizes and hashes, never a listing of what happens to be on disk.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from django.db.models import F

from downloads.models import ModelVariant, VariantStatus
from downloads.storage.overview import variant_home
from engine.cache.layout import COMMIT_RE, RepoCache, check_repo_path, is_commit, repo_folder_name, within
from engine.selection import InvalidInput, clean_revision
from serving.manifests import Installed, Record, installed, memo

_SHORT_SHA_MIN = 7


class Missing(StrEnum):
    REPO = "repo"
    REVISION = "revision"


@dataclass(frozen=True)
class ServedFile:
    path: str
    record: Record
    blob: Path  # where the verified bytes are: <cache>/<repo folder>/blobs/<etag>
    home: Path  # the cache folder the blob must stay inside
    variant_id: int

    size = property(lambda self: self.record.size)
    etag = property(lambda self: self.record.etag)
    fingerprint = property(lambda self: self.record.fingerprint)


@dataclass(frozen=True)
class Layer:
    """One installed variant at the snapshot's commit."""

    variant: ModelVariant
    files: Installed
    home: Path


@dataclass
class Snapshot:
    repo_type: str
    repo_id: str
    commit: str
    layers: list[Layer]  # newest variant first: it answers for a path several variants hold
    last_modified: datetime | None = None

    @property
    def _key(self) -> tuple:
        return tuple((layer.variant.pk, layer.variant.updated_at) for layer in self.layers)

    def file(self, path: str) -> ServedFile | None:
        for layer in self.layers:
            record = layer.files.files.get(path)
            if record is not None:
                cache = RepoCache(layer.home, self.repo_id, self.repo_type)
                return ServedFile(path, record, cache.blob_path(record.etag), layer.home, layer.variant.pk)
        return None

    @property
    def files(self) -> dict[str, Record]:
        def merge() -> dict[str, Record]:
            merged: dict[str, Record] = {}
            for layer in reversed(self.layers):  # newest last, so it wins
                merged.update(layer.files.files)
            return dict(sorted(merged.items()))

        return memo(("files", *self._key), merge)

    def tree(self) -> list[dict]:
        """Every entry, folders included, sorted by path, in the Hub's tree shape."""
        return memo(("tree", *self._key), self._build_tree)

    def _build_tree(self) -> list[dict]:
        folders: dict[str, list[str]] = {}
        for path, record in self.files.items():
            parts = path.split("/")
            for i in range(1, len(parts)):
                folders.setdefault("/".join(parts[:i]), []).append(f"{path}:{record.git_sha1}")
        # Not git's tree id (that needs every file of the commit, and we serve a selection); stable and
        # unique per content, which is all a client uses it for.
        entries = [{"type": "directory", "oid": hashlib.sha1("\n".join(sorted(v)).encode()).hexdigest(),
                    "size": 0, "path": d} for d, v in folders.items()]
        entries += [record.tree_entry(path) for path, record in self.files.items()]
        return sorted(entries, key=lambda e: e["path"])

    def is_folder(self, path: str) -> bool:
        return any(e["type"] == "directory" and e["path"] == path.rstrip("/") for e in self.tree())


def installed_variants(repo_type: str, repo_id: str) -> list[ModelVariant]:
    """The repo's installed variants, newest first, without their manifests (serving.manifests keeps
    those parsed). Corrupt, failed, queued (being repaired or updated) and downloading variants are not
    served: their files are not known good right now."""
    rows = ModelVariant.objects.filter(repo_type=repo_type, repo_id=repo_id, status=VariantStatus.INSTALLED)
    newest_first = (F("last_verified_at").desc(nulls_last=True), "-updated_at", "-id")  # PostgreSQL too
    return list(rows.defer("manifest").order_by(*newest_first))


def commit_of(variant: ModelVariant) -> str:
    """The commit on disk: the resolved one, else the manifest's (a variant registered by import)."""
    return variant.commit or installed(variant).commit


def find(variants: list[ModelVariant], revision: str, storage: Path) -> Snapshot | Missing:
    """The snapshot the revision names among the repo's installed variants (`installed_variants`)."""
    if not variants:
        return Missing.REPO
    commit = resolve_revision(variants, revision, storage)
    if commit is None:
        return Missing.REVISION
    layers = [Layer(v, installed(v), variant_home(v, storage)) for v in variants if commit_of(v) == commit]
    newest = layers[0].variant
    when = newest.last_verified_at or newest.updated_at
    return Snapshot(newest.repo_type, newest.repo_id, commit, layers, when)


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
    commits = {c for v in variants if (c := commit_of(v))}
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
        for home in dict.fromkeys(variant_home(v, storage) for v in variants):
            commit = _read_ref(home, variants[0], revision)
            if commit in commits:
                return commit
    for v in variants:  # newest first
        if v.revision == revision and commit_of(v):
            return commit_of(v)
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
