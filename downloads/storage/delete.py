"""Deleting a variant's files from disk, sharing-aware: what another variant or snapshot still uses stays.

`plan_delete` says what would go (per file, with the bytes freed) without touching anything; the
confirmation page and `delete_files --dry-run` show it. `delete_variant_files` re-plans against the
disk as it is at that moment and then deletes. Only the storage folder (and folders that were the
storage folder before, see storage.previous) is ever touched.
"""

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from downloads.jobs import lifecycle
from downloads.models import DownloadJob, ModelVariant
from downloads.storage.overview import storage_dir, variant_home
from downloads.storage.previous import previous_folders
from engine.cache import locks, safety
from engine.cache.layout import RepoCache, repo_folder_name
from engine.cache.scan import RepoEntry, scan_repo

log = logging.getLogger(__name__)


@dataclass
class Removal:
    kind: str  # link | blob | folder | ref
    path: Path
    size: int
    detail: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": str(self.path), "size": self.size, "detail": self.detail}


@dataclass
class VariantPlan:
    variant: ModelVariant
    removals: list[Removal] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # why a file stays on disk
    refused: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(r.size for r in self.removals)

    def as_dict(self) -> dict:
        v = self.variant
        return {"variant_id": v.pk, "variant": str(v), "commit": v.commit or None,
                "refused": self.refused or None, "bytes_freed": self.bytes_freed,
                "removals": [r.as_dict() for r in self.removals], "kept": self.kept, "errors": self.errors}


@dataclass
class DeletePlan:
    variants: list[VariantPlan]

    @property
    def bytes_freed(self) -> int:
        return sum(p.bytes_freed for p in self.variants if not p.refused)

    @property
    def refused(self) -> list[VariantPlan]:
        return [p for p in self.variants if p.refused]


def plan_delete(variants) -> DeletePlan:
    """What deleting these variants together would remove, and why anything of theirs is kept."""
    variants = list(variants)
    root = storage_dir()
    allowed = [root, *previous_folders(root)]
    plans = {v.pk: VariantPlan(v) for v in variants}
    groups: dict[tuple[Path, str, str], list[ModelVariant]] = defaultdict(list)
    busy = _active_jobs({(v.repo_type, v.repo_id) for v in variants})
    for v in variants:
        plan = plans[v.pk]
        home = deletable_home(v, root, allowed)
        if home is None:
            plan.refused = (f"its files are in {variant_home(v, root)}, outside the storage folder {root}; "
                            "ModelHub only deletes inside the storage folder (and earlier storage folders)")
        elif (v.repo_type, v.repo_id) in busy:
            job = busy[(v.repo_type, v.repo_id)]
            plan.refused = (f"job {job.pk} ({job.kind}, {job.state}) is active for "
                            f"{'this variant' if job.variant_id == v.pk else job.variant} in this repo; "
                            "cancel it or wait until it ends")
        else:
            groups[(home, v.repo_type, v.repo_id)].append(v)
    for (home, repo_type, repo_id), members in groups.items():
        _plan_repo(home, scan_repo(home, repo_folder_name(repo_id, repo_type)), members, plans)
    return DeletePlan([plans[v.pk] for v in variants])


def deletable_home(variant: ModelVariant, root: Path, allowed: list[Path]) -> Path | None:
    """The cache folder of the variant's files if ModelHub may delete there: the storage folder, or one
    that was the storage folder before (its files are ModelHub's own); never another tool's cache."""
    home = variant_home(variant, root)
    return next((folder for folder in allowed if os.path.realpath(folder) == os.path.realpath(home)), None)


def delete_variant_files(variant: ModelVariant, *, by=None) -> VariantPlan:
    """Delete the variant's files that nothing else uses and mark it not downloaded.

    Returns what was removed (`bytes_freed`); `refused` is set, and nothing touched, while a job is
    active in the variant's repo or when its files live outside the storage folder.
    """
    plan = plan_delete([variant]).variants[0]
    if plan.refused:
        return plan
    root = variant_home(variant, storage_dir())  # checked by the plan: the storage folder, or an earlier one
    done = VariantPlan(variant, kept=plan.kept)
    links = [r for r in plan.removals if r.kind == "link"]
    blobs = [r for r in plan.removals if r.kind == "blob"]
    commit = variant.installed_commit or "-"
    snapshot = RepoCache(root, variant.repo_id, variant.repo_type).snapshot_dir(commit)
    for removal in links:
        if _try(done, removal, lambda r=removal: safety.unlink(r.path, root)):
            safety.prune_empty_dirs(removal.path.parent, snapshot)  # nested folders it leaves empty
    cache = RepoCache(root, variant.repo_id, variant.repo_type)
    for removal in blobs:
        lock_path = cache.lock_path(removal.path.name)
        with locks.try_hold(lock_path) as free:
            if not free:
                done.kept.append(f"blob {removal.path.name}: being written by a download right now")
                continue
            if _try(done, removal, lambda r=removal: safety.unlink(r.path, root)):
                _try(done, removal, lambda p=lock_path: safety.unlink(p, root), record=False)
    for removal in plan.removals:
        if removal.kind == "folder" and removal.path.exists():
            safety.remove_empty_tree(removal.path, root)
            if not removal.path.exists():
                done.removals.append(removal)
    gone = {r.path.name for r in done.removals if r.kind == "folder"}
    for removal in plan.removals:
        if removal.kind == "ref" and removal.detail in gone:
            _try(done, removal, lambda r=removal: safety.unlink(r.path, root))
    lock_dir = cache.lock_dir
    if lock_dir.is_dir():
        safety.prune_empty_dirs(lock_dir, root)
    lifecycle.variant_files_deleted(variant)
    who = by.get_username() if getattr(by, "is_authenticated", False) else "a command"
    log.info("files of variant %s deleted by %s: %d bytes freed", variant.pk, who, done.bytes_freed)
    return done


def _active_jobs(repos: set[tuple[str, str]]) -> dict[tuple[str, str], DownloadJob]:
    jobs = DownloadJob.objects.active().select_related("variant")
    return {(j.variant.repo_type, j.variant.repo_id): j for j in jobs
            if (j.variant.repo_type, j.variant.repo_id) in repos}


def _plan_repo(root: Path, repo: RepoEntry, members: list[ModelVariant],
               plans: dict[int, VariantPlan]) -> None:
    member_ids = {v.pk for v in members}
    other_paths: dict[str, dict[str, ModelVariant]] = defaultdict(dict)  # commit -> path -> variant
    other_blobs: dict[str, ModelVariant] = {}
    for other in (ModelVariant.objects.filter(repo_id=repo.repo_id, repo_type=repo.repo_type)
                  .exclude(pk__in=member_ids)):
        if variant_home(other, root) != root:
            continue
        commit = other.installed_commit
        for path, record in other.installed_files.items():
            other_paths[commit][path] = other
            other_blobs[_etag(record)] = other
    removed_links: dict[str, set[str]] = defaultdict(set)  # commit -> paths
    for v in members:
        commit = v.installed_commit
        snap = repo.snapshots.get(commit)
        for path in sorted(v.installed_files):
            if path in other_paths[commit]:
                plans[v.pk].kept.append(f"{path}: also part of variant {other_paths[commit][path]}")
            elif snap is not None and path in snap.files and path not in removed_links[commit]:
                entry = snap.files[path]
                size = (entry.size or 0) if entry.kind == "file" else 0  # a link frees nothing itself
                plans[v.pk].removals.append(Removal("link", snap.path / path, size, path))
                removed_links[commit].add(path)
    still_linked = {f.blob for snap in repo.snapshots.values() for path, f in snap.files.items()
                    if f.blob and path not in removed_links[snap.commit]}
    planned_blobs: set[str] = set()
    for v in members:
        for path, record in sorted(v.installed_files.items()):
            etag = _etag(record)
            if etag in planned_blobs or etag not in repo.blobs or path in other_paths[v.installed_commit]:
                continue  # (a file another variant also lists is kept with its link: said once, above)
            if etag in other_blobs:
                plans[v.pk].kept.append(f"{path}: its blob is shared with variant {other_blobs[etag]}")
            elif etag in still_linked:
                plans[v.pk].kept.append(f"{path}: its blob is still linked from another snapshot or file")
            else:
                planned_blobs.add(etag)
                plans[v.pk].removals.append(Removal("blob", repo.path / "blobs" / etag, repo.blobs[etag].size,
                                                    path))
    for commit, paths in removed_links.items():
        snap = repo.snapshots[commit]
        if set(snap.files) <= paths:
            owner = next(v for v in members if v.installed_commit == commit)
            plans[owner.pk].removals.append(Removal("folder", snap.path, 0, commit))
            for ref in snap.refs:
                plans[owner.pk].removals.append(Removal("ref", repo.path / "refs" / ref, 0, commit))


def _etag(record: dict) -> str:
    return record.get("sha256") or record.get("git_sha1") or ""


def _try(done: VariantPlan, removal: Removal, action, *, record: bool = True) -> bool:
    try:
        freed = action()
    except (OSError, safety.OutsideRoot) as exc:
        done.errors.append(f"{removal.path}: {exc}")
        return False
    if record:  # a ref's few bytes are not "space freed": count what the plan counts
        done.removals.append(Removal(removal.kind, removal.path,
                                     freed if removal.kind in ("blob", "link") else 0, removal.detail))
    return True


