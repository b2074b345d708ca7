"""Changing the storage folder: what lives in the old one, and moving or copying it into the new one.

Without this, pointing Settings at another folder left every installed model behind: still
"installed", but invisible to the Storage page and to Clean up. Now the old folder is recorded
(`PreviousStorage`) and stays listed until nothing is left in it, and the person chooses:

* **move**: each installed variant's snapshot is copied (hard-linked on the same volume, so no extra
  space and no time) into the new folder, verified there by a full re-hash, then removed from the
  old folder; a variant whose copy or verification fails stays where it is, still usable;
* **copy**: the same, but the old folder keeps its files (Clean up or a delete removes them later);
* **keep**: nothing moves; the variants stay installed where they are (their local path says where)
  and new downloads go to the new folder.

Moving and copying run in a worker (`downloads.tasks.relocate_storage`): whole models take minutes.
"""

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.utils import timezone

from downloads.models import ModelVariant
from downloads.storage import copying
from downloads.storage.discovery import FoundSnapshot, snapshots_in
from downloads.storage.previous import FolderContents, contents, installed_in, remember, same_folder
from engine.cache.scan import scan_cache

log = logging.getLogger(__name__)

MODES = ("move", "copy", "keep")
__all__ = ["FolderContents", "contents", "relocate", "remember", "same_folder"]


@dataclass
class Relocated:
    variant_id: int
    variant: str
    outcome: str  # moved | copied | failed | skipped
    message: str = ""
    job_id: int | None = None
    bytes_copied: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Group:
    """The variants sharing one snapshot of one repo: it is copied once for all of them."""

    found: FoundSnapshot
    variants: list[ModelVariant] = field(default_factory=list)


def relocate(old: Path, new: Path, mode: str, *, by=None) -> list[Relocated]:
    """Move or copy every variant installed in `old` into `new` (the storage folder now)."""
    from downloads.storage.imports import verify_here  # imports uses the services, which use overview

    if mode not in ("move", "copy"):
        raise ValueError(f"mode must be move or copy, not {mode!r}")
    results = []
    for group in _groups(old):
        copied = None
        try:
            copied = copying.copy_snapshot(group.found, new, hardlink=mode == "move")
        except copying.CopyRefused as exc:
            results += [Relocated(v.pk, str(v), "failed", str(exc)) for v in group.variants]
            continue
        all_verified = True
        for variant in group.variants:
            result = _switch(variant, group.found, new, copied, mode, by, verify_here)
            all_verified &= result.outcome in ("moved", "copied")
            results.append(result)
        if mode == "move" and all_verified:
            copying.remove_source(group.found)
    remaining = contents(old)
    log.info("storage %s of %s to %s: %d variant(s); %d left there", mode, old, new, len(results),
             len(remaining.variants))
    return results


def _groups(old: Path) -> list[_Group]:
    variants = installed_in(old)
    by_snapshot = {(f.repo_type, f.repo_id, f.commit): f for f in snapshots_in([scan_cache(old)])
                   if same_folder(f.location, old)}
    groups: dict[tuple, _Group] = {}
    for v in variants:
        key = (v.repo_type, v.repo_id, v.installed_commit)
        if key in by_snapshot:
            groups.setdefault(key, _Group(by_snapshot[key])).variants.append(v)
    return list(groups.values())


def _switch(variant: ModelVariant, found: FoundSnapshot, new: Path, copied: copying.CopyOutcome, mode: str,
            by, verify_here) -> Relocated:
    """Point the variant at its copy and verify it there; back to the old place if anything is wrong."""
    result = Relocated(variant.pk, str(variant), "failed", bytes_copied=copied.bytes_copied)
    missing = {p: why for p, why in copied.not_copied.items() if p in variant.installed_files}
    if missing:
        result.message = "; ".join(f"{p}: {why}" for p, why in sorted(missing.items()))
        return result
    if variant.jobs.active().exists():
        result.outcome, result.message = "skipped", "a job is active for it; it stays in the old folder"
        return result
    before = variant.local_path
    target = new / found.folder / "snapshots" / found.commit
    ModelVariant.objects.filter(pk=variant.pk).update(local_path=str(target), updated_at=timezone.now())
    variant.local_path = str(target)
    job = verify_here(variant, by, [f"{mode} from {found.location} to {new}"])
    result.job_id = job.pk
    if job.state != "succeeded":
        # Back where it was, and checked there (fast: its files there are untouched), so the failed
        # check of the copy does not leave it marked corrupt.
        ModelVariant.objects.filter(pk=variant.pk).update(local_path=before)
        variant.refresh_from_db()
        verify_here(variant, by, [f"the copy in {new} failed verification; still in {found.location}"],
                    full=False)
        result.message = f"verification in the new folder failed ({job.error_code}); it stays in the old one"
        return result
    result.outcome = "moved" if mode == "move" else "copied"
    return result
