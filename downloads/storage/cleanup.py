"""Clean up the storage folder: stale partials, orphaned blobs, dangling snapshot links, stale locks.

Only the storage folder is touched, and never a repo with an active job: a running download keeps
finished blobs unlinked until all its files are in, so they would look orphaned. Each repo is
re-scanned right before deleting, and blobs, partials and locks are removed only while holding the
blob's lock, so a concurrent huggingface_hub process writing into the same cache is left alone.
"""

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from downloads.storage.overview import Claims, active_jobs_by_repo, storage_dir
from engine.cache import locks, safety
from engine.cache.layout import PARTIAL_SUFFIX, RepoCache
from engine.cache.scan import RepoEntry, scan_cache, scan_repo

log = logging.getLogger(__name__)

DEFAULT_OLDER_THAN_HOURS = 24.0


def clean_older_than(value) -> float:
    """The 'older than' age in hours, from a command line or a form. NaN must never get through: every
    comparison with it is false, so `age < nan` would call each partial old enough and remove it."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"'older than' must be a number of hours, not {value!r}") from None
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"'older than' must be a finite number of hours, 0 or more, not {value!r}")
    return hours


@dataclass
class CleanupItem:
    kind: str  # partial | orphan_blob | dangling_link | stale_lock
    path: Path
    repo: str
    size: int
    detail: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": str(self.path), "repo": self.repo, "size": self.size,
                "detail": self.detail}


@dataclass
class CleanupReport:
    storage_dir: Path
    older_than_hours: float
    dry_run: bool
    removed: list[CleanupItem] = field(default_factory=list)  # or, in a dry run, what would be removed
    skipped: list[CleanupItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(i.size for i in self.removed)

    def as_dict(self) -> dict:
        return {"storage_dir": str(self.storage_dir), "older_than_hours": self.older_than_hours,
                "dry_run": self.dry_run, "bytes_freed": self.bytes_freed,
                "removed": [i.as_dict() for i in self.removed],
                "skipped": [i.as_dict() for i in self.skipped], "errors": self.errors}


def cleanup_storage(*, older_than_hours: float = DEFAULT_OLDER_THAN_HOURS, dry_run: bool = False,
                    only: set[str] | None = None, now: float | None = None) -> CleanupReport:
    """Find (and unless `dry_run`, remove) what no download needs any more.

    `only`: paths confirmed from an earlier dry run; anything else found meanwhile is left for the next run.
    """
    older_than_hours = clean_older_than(older_than_hours)  # a caller's NaN would delete every partial
    root = storage_dir()
    report = CleanupReport(root, older_than_hours, dry_run)
    scan = scan_cache(root)
    if not scan.exists:
        return report
    now = time.time() if now is None else now
    claims = Claims.load(root)
    for repo in scan.repos:
        if not dry_run:
            repo = scan_repo(root, repo.folder)  # fresh state right before deleting
        # Asked per repo, just before deleting, so a job started meanwhile protects its files.
        job_id = active_jobs_by_repo().get((repo.repo_type, repo.repo_id))
        found, skipped = _candidates(root, repo, claims.blobs_of(root, repo.folder), job_id,
                                     older_than_hours, now)
        report.skipped += skipped
        removed = []
        for item in found:
            if only is not None and str(item.path) not in only:
                continue
            if dry_run or _remove(root, repo, item, report):
                removed.append(item)
        report.removed += removed
        if not dry_run and removed:
            _prune(root, repo, removed)
    for lock in scan.orphan_locks:
        item = CleanupItem("stale_lock", lock.path, "", 0, "lock of a repo folder that no longer exists")
        if (only is None or str(item.path) in only) and (dry_run or _remove_lock(root, item, report)):
            report.removed.append(item)
    if not dry_run:
        for lock in scan.orphan_locks:
            safety.prune_empty_dirs(lock.path.parent, root)
    log.info("cleanup of %s (dry run: %s): %d item(s), %d bytes", root, dry_run, len(report.removed),
             report.bytes_freed)
    return report


def _candidates(root: Path, repo: RepoEntry, claimed: set[str], job_id: int | None, older_than_hours: float,
                now: float) -> tuple[list[CleanupItem], list[CleanupItem]]:
    label = f"{repo.repo_type} {repo.repo_id}"
    found: list[CleanupItem] = []
    skipped: list[CleanupItem] = []
    for partial in repo.partials:
        hours = (now - partial.mtime) / 3600
        if job_id is not None:
            skipped.append(CleanupItem("partial", partial.path, label, partial.size,
                                       f"job {job_id} is downloading into this repo"))
        elif hours < older_than_hours:
            skipped.append(CleanupItem("partial", partial.path, label, partial.size,
                                       f"{hours:.1f} h old, younger than {older_than_hours:g} h"))
        else:
            found.append(CleanupItem("partial", partial.path, label, partial.size,
                                     f"{hours:.1f} h old, no active job"))
    if job_id is not None:
        return found, skipped  # its finished blobs are not linked yet: nothing else here is stale
    linked = repo.linked_blobs
    for blob in repo.blobs.values():
        if blob.name in linked or blob.name in claimed:
            continue
        path = repo.path / "blobs" / blob.name
        if blob.escaping:
            skipped.append(CleanupItem("orphan_blob", path, label, blob.size,
                                       "a symlink leading outside the storage folder; not touched"))
            continue
        found.append(CleanupItem("orphan_blob", path, label, blob.size,
                                 "no snapshot link and no variant uses it"))
    for snap in repo.snapshots.values():
        for rel in snap.dangling:
            found.append(CleanupItem("dangling_link", snap.path / rel, label, 0,
                                     f"points at missing blob {snap.files[rel].blob or '?'}"))
    for lock in repo.locks:
        found.append(CleanupItem("stale_lock", lock.path, label, 0, "no active job"))
    return found, skipped


def _etag_of(path: Path) -> str:
    # `<etag>.incomplete` (ModelHub) and `<etag>.<uuid8>.incomplete` (huggingface_hub, imports)
    name = path.name[: -len(PARTIAL_SUFFIX)] if path.name.endswith(PARTIAL_SUFFIX) else path.name
    return name.split(".", 1)[0]


def _remove(root: Path, repo: RepoEntry, item: CleanupItem, report: CleanupReport) -> bool:
    if item.kind == "stale_lock":
        return _remove_lock(root, item, report)
    if item.kind == "dangling_link":
        return _guarded(report, item, lambda: safety.unlink(item.path, root) >= 0)
    lock_path = RepoCache(root, repo.repo_id, repo.repo_type).lock_path(_etag_of(item.path))
    with locks.try_hold(lock_path) as free:
        if not free:
            report.skipped.append(CleanupItem(item.kind, item.path, item.repo, item.size,
                                              "being written right now"))
            return False
        done = _guarded(report, item, lambda: safety.unlink(item.path, root) >= 0)
        if done:  # taking the lock may have created its file; with the bytes gone it guards nothing
            _guarded(report, item, lambda: safety.unlink(lock_path, root) >= 0)
        return done


def _remove_lock(root: Path, item: CleanupItem, report: CleanupReport) -> bool:
    with locks.try_hold(item.path) as free:
        if not free:
            report.skipped.append(CleanupItem(item.kind, item.path, item.repo, 0,
                                              "held by a running download"))
            return False
        return _guarded(report, item, lambda: safety.unlink(item.path, root) >= 0)


def _guarded(report: CleanupReport, item: CleanupItem, action) -> bool:
    try:
        return action()
    except (OSError, safety.OutsideRoot) as exc:
        report.errors.append(f"{item.path}: {exc}")
        return False


def _prune(root: Path, repo: RepoEntry, removed: list[CleanupItem]) -> None:
    """Folders emptied by removed links, and refs to snapshots that are gone with them."""
    for snap in repo.snapshots.values():
        if not any(i.kind == "dangling_link" and snap.path in i.path.parents for i in removed):
            continue
        safety.remove_empty_tree(snap.path, root)
        if not snap.path.exists():
            for ref in snap.refs:
                try:
                    safety.unlink(repo.path / "refs" / ref, root)
                except (OSError, safety.OutsideRoot):
                    pass
    lock_dir = root / ".locks" / repo.folder
    if lock_dir.is_dir():
        safety.prune_empty_dirs(lock_dir, root)
