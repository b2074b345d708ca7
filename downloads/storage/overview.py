"""What is on disk: the storage folder (and other caches) as the Storage page and the commands see it.

Read-only selectors. One filesystem walk per location (`storage_scan`) joined with two queries:
the variants (which snapshots and blobs they claim) and the active jobs (which partials they own).
"""

import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from downloads.models import DownloadJob, ModelVariant
from engine.cache.layout import RepoCache, repo_folder_name
from engine.cache.scan import CacheScan, RepoEntry, scan_cache
from settings_app.models import Setting


def variant_size_on_disk(variant: ModelVariant, storage_dir: Path) -> int:
    """Bytes of the variant's installed files that are really on disk (shared blobs counted once)."""
    cache = RepoCache(variant_home(variant, storage_dir), variant.repo_id, variant.repo_type)
    files = variant.installed_files
    seen, total = set(), 0
    for record in files.values():
        etag = record.get("sha256") or record.get("git_sha1")
        if etag in seen:
            continue
        seen.add(etag)
        try:
            total += cache.blob_path(etag).stat().st_size
        except OSError:
            pass
    return total


def variant_home(variant: ModelVariant, storage_dir: Path) -> Path:
    """The cache folder holding the variant's files: the storage folder, unless it was registered in
    place from another cache (then its local_path, `<cache>/<repo>/snapshots/<commit>`, says where)."""
    if variant.local_path:
        snapshot = Path(variant.local_path)
        if snapshot.parent.name == "snapshots" and snapshot.parent.parent.name == repo_folder_name(
                variant.repo_id, variant.repo_type):
            return Path(os.path.abspath(snapshot.parents[2]))
    return Path(os.path.abspath(storage_dir))


def active_jobs_by_repo() -> dict[tuple[str, str], int]:
    """(repo_type, repo_id) -> id of an active job writing into that repo's cache folder."""
    jobs = DownloadJob.objects.active().values_list(
        "pk", "variant__repo_type", "variant__repo_id")
    return {(repo_type, repo_id): pk for pk, repo_type, repo_id in jobs}


@dataclass
class Claims:
    """What the variants say should be on disk, keyed by (cache root, repo folder)."""

    commits: dict[tuple[str, str], dict[str, list[ModelVariant]]] = field(default_factory=dict)
    blobs: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, storage_dir: Path) -> "Claims":
        claims = cls(defaultdict(lambda: defaultdict(list)), defaultdict(set))
        for variant in ModelVariant.objects.all():
            key = (str(variant_home(variant, storage_dir)),
                   repo_folder_name(variant.repo_id, variant.repo_type))
            commit = variant.installed_commit
            if commit:
                claims.commits[key][commit].append(variant)
            for record in variant.installed_files.values():
                etag = record.get("sha256") or record.get("git_sha1")
                if etag:
                    claims.blobs[key].add(etag)
        return claims

    def variants_of(self, root: Path, folder: str, commit: str) -> list[ModelVariant]:
        return list(self.commits.get((str(root), folder), {}).get(commit, []))

    def blobs_of(self, root: Path, folder: str) -> set[str]:
        return set(self.blobs.get((str(root), folder), set()))


@dataclass
class VolumeUsage:
    total: int
    used: int
    free: int


@dataclass
class SnapshotRow:
    commit: str
    refs: list[str]
    files: int
    size: int
    variants: list[ModelVariant]
    dangling: list[str]


@dataclass
class PartialRow:
    location: Path
    repo_id: str
    repo_type: str
    path: Path
    size: int
    age_seconds: float
    job_id: int | None  # the active job that owns it (storage folder only)


@dataclass
class BlobRow:
    location: Path
    repo_id: str
    repo_type: str
    name: str
    size: int
    linked: bool  # a snapshot still links to it, but no variant claims it


@dataclass
class RepoRow:
    location: Path
    repo_id: str
    repo_type: str
    blob_bytes: int
    partial_bytes: int
    snapshots: list[SnapshotRow]
    unclaimed_blobs: list[BlobRow]
    partials: list[PartialRow]
    job_id: int | None
    problems: list[str]

    @property
    def size(self) -> int:
        return self.blob_bytes + self.partial_bytes

    @property
    def unclaimed_bytes(self) -> int:
        return sum(b.size for b in self.unclaimed_blobs)


@dataclass
class LocationRow:
    path: Path
    is_storage: bool
    exists: bool
    volume: VolumeUsage | None
    repos: list[RepoRow]
    problems: list[str]

    @property
    def blob_bytes(self) -> int:
        return sum(r.blob_bytes for r in self.repos)

    @property
    def partial_bytes(self) -> int:
        return sum(r.partial_bytes for r in self.repos)

    @property
    def unclaimed_bytes(self) -> int:
        return sum(r.unclaimed_bytes for r in self.repos)

    @property
    def total_bytes(self) -> int:
        return self.blob_bytes + self.partial_bytes

    @property
    def snapshot_count(self) -> int:
        return sum(len(r.snapshots) for r in self.repos)


@dataclass
class StorageOverview:
    storage_dir: Path
    locations: list[LocationRow]
    scans: list[CacheScan]  # the raw walks, reused to list importable snapshots without walking again

    @property
    def storage(self) -> LocationRow:
        return self.locations[0]

    @property
    def repos(self) -> list[RepoRow]:
        return [r for loc in self.locations for r in loc.repos]

    @property
    def partials(self) -> list[PartialRow]:
        return [p for r in self.repos for p in r.partials]

    @property
    def unclaimed_blobs(self) -> list[BlobRow]:
        return [b for r in self.repos for b in r.unclaimed_blobs]

    @property
    def unclaimed_snapshots(self) -> list[tuple[RepoRow, SnapshotRow]]:
        return [(r, s) for r in self.repos for s in r.snapshots if not s.variants]


def storage_dir() -> Path:
    return Setting.load().effective_storage_dir


def volume_usage(path: Path) -> VolumeUsage | None:
    """Usage of the volume `path` is (or would be) on; the nearest existing parent for a new folder."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return None
    return VolumeUsage(usage.total, usage.used, usage.free)


def storage_overview(extra_locations=(), *, storage: Path | None = None,
                     now: float | None = None) -> StorageOverview:
    """The storage folder first, then each extra location (deduplicated), each walked once."""
    storage = Path(os.path.abspath(storage or storage_dir()))
    roots = [storage]
    for extra in extra_locations:
        path = Path(os.path.abspath(Path(extra).expanduser()))
        if all(os.path.realpath(path) != os.path.realpath(r) for r in roots):
            roots.append(path)
    claims = Claims.load(storage)
    jobs = active_jobs_by_repo()
    now = time.time() if now is None else now
    locations, scans = [], []
    for root in roots:
        scan = scan_cache(root)
        scans.append(scan)
        rows = [_repo_row(scan, repo, claims, jobs if root == storage else {}, now) for repo in scan.repos]
        locations.append(LocationRow(root, root == storage, scan.exists, volume_usage(root), rows,
                                     scan.problems))
    return StorageOverview(storage, locations, scans)


def _repo_row(scan: CacheScan, repo: RepoEntry, claims: Claims, jobs: dict, now: float) -> RepoRow:
    claimed_blobs = claims.blobs_of(scan.root, repo.folder)
    linked = repo.linked_blobs
    snapshots = [
        SnapshotRow(snap.commit, snap.refs, len(snap.files), repo.snapshot_size(snap.commit),
                    claims.variants_of(scan.root, repo.folder, snap.commit), snap.dangling)
        for snap in sorted(repo.snapshots.values(), key=lambda s: (not s.refs, s.commit))
    ]
    unclaimed = [BlobRow(scan.root, repo.repo_id, repo.repo_type, b.name, b.size, b.name in linked)
                 for b in repo.blobs.values() if b.name not in claimed_blobs]
    job_id = jobs.get((repo.repo_type, repo.repo_id))
    partials = [PartialRow(scan.root, repo.repo_id, repo.repo_type, p.path, p.size, max(0.0, now - p.mtime),
                           job_id)
                for p in repo.partials]
    return RepoRow(scan.root, repo.repo_id, repo.repo_type, repo.blob_bytes, repo.partial_bytes, snapshots,
                   sorted(unclaimed, key=lambda b: -b.size), partials, job_id, repo.problems)
