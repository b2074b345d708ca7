"""Is each installed variant's storage still there, and writable? A cheap check (a few stat calls per
variant, no hashing) run by the periodic re-verify task and shown on the Storage page.

A verify job notices missing files too, but only once it is due (the re-verification interval, 24 h by
default), and it cannot tell "the disk is not mounted" from "the files are corrupt". Without this
check a variant whose folder was deleted, unmounted or remounted read-only stays "installed".

What counts as what:
- missing: the cache folder holding the variant (the storage folder, or the cache it was registered
  from) is not a folder any more: deleted, replaced by a file, or an unmounted mount point (stat fails).
  The variant becomes corrupt, with the reason and what to do.
- files removed: the folder is there but the variant's snapshot folder is not. Corrupt too.
- files missing: the snapshot folder is there but some of its files are not (a dangling link counts:
  its blob is gone). A verify is queued at once: its report names each file, and lets Repair fetch
  just those.
- read-only (the storage folder only: other caches are only read): this process cannot create files
  in the folder, i.e. `access(W_OK)` fails: EROFS for a
  read-only mount, EPERM for an immutable folder (chattr +i), EACCES for missing permission. Root
  ignores permission bits, so for a worker running as root a chmod alone is not read-only, which is
  true: root can still write there. The files can still be read, so the variant stays installed with
  a notice; downloads, repairs and deletes into that folder would fail.
When a folder comes back, the check clears its read-only notice, and queues a verify for variants it
had marked missing (the verify marks them installed again if the files are intact).
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from downloads import services
from downloads.jobs import lifecycle
from downloads.models import JobOrigin, ModelVariant, VariantStatus
from downloads.storage.overview import storage_dir, variant_home
from engine.cache.layout import RepoCache
from engine.selection import InvalidInput

log = logging.getLogger(__name__)

MISSING, FILES_REMOVED, FILES_MISSING, READ_ONLY = (
    "storage_missing", "files_removed", "files_missing", "read_only"
)


@dataclass
class Finding:
    variant: ModelVariant | None  # None: the storage folder itself (no variant affected yet)
    code: str
    folder: Path
    message: str

    def as_dict(self) -> dict:
        return {"variant_id": self.variant.pk if self.variant else None, "code": self.code,
                "folder": str(self.folder), "message": self.message}


def folder_state(folder: Path, *, writes: bool = True) -> tuple[str | None, str]:
    """(None | MISSING | READ_ONLY, why) for a cache folder. `writes`: does ModelHub write there? Only
    the storage folder: another cache a variant was registered from is only read."""
    try:
        if not folder.is_dir():
            return MISSING, "it does not exist" if not folder.exists() else "it is not a folder"
    except OSError as exc:  # a dead network mount: ESTALE, EIO...
        return MISSING, f"it cannot be read ({exc.strerror or exc})"
    effective = os.access in os.supports_effective_ids
    if writes and not os.access(folder, os.W_OK | os.X_OK, effective_ids=effective):
        try:
            mounted_ro = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except OSError:
            mounted_ro = False
        return READ_ONLY, ("it is mounted read-only" if mounted_ro
                           else "this process cannot create files in it")
    return None, ""


def check(variants=None, *, storage: Path | None = None) -> list[Finding]:
    """Findings for installed variants (and those this check marked missing), and for a read-only
    storage folder even when no variant is installed in it yet."""
    storage = Path(os.path.abspath(storage or storage_dir()))
    if variants is None:
        variants = ModelVariant.objects.filter(status__in=[VariantStatus.INSTALLED, VariantStatus.CORRUPT])
    folders: dict[Path, tuple[str | None, str]] = {}
    findings = []
    for variant in variants:
        if variant.status == VariantStatus.CORRUPT and not variant.problem.startswith(lifecycle.STORAGE_GONE):
            continue  # a verification's finding: the next verify, not this check, decides
        home = variant_home(variant, storage)
        if home not in folders:
            folders[home] = folder_state(home, writes=home == storage)
        finding = _variant_finding(variant, home, *folders[home])
        if finding:
            findings.append(finding)
    # With nothing installed, a storage folder that does not exist yet is normal (the first download
    # creates it); a read-only one is worth saying before a download fails on it.
    folders.setdefault(storage, folder_state(storage))
    code, why = folders[storage]
    if code == READ_ONLY and not any(f.folder == storage for f in findings):
        findings.append(Finding(None, code, storage, _folder_message(code, storage, why)))
    return findings


def _variant_finding(variant: ModelVariant, home: Path, code: str | None, why: str) -> Finding | None:
    if code:
        return Finding(variant, code, home, _folder_message(code, home, why))
    files = variant.installed_files
    snapshot = Path(variant.local_path) if variant.local_path else \
        RepoCache(home, variant.repo_id, variant.repo_type).snapshot_dir(variant.commit)
    if not snapshot.is_dir():
        return Finding(variant, FILES_REMOVED, home,
                       f"{lifecycle.STORAGE_GONE[1]}: its folder {snapshot} is gone. "
                       "Download it again (or, if you moved it, move it back and press Verify).")
    missing = sorted(p for p in files if not os.path.exists(snapshot / p))  # follows links: no blob, no file
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return Finding(variant, FILES_MISSING, home,
                       f"{lifecycle.STORAGE_GONE[1]}: {len(missing)} of {len(files)} "
                       f"file(s) missing in {snapshot} ({shown}). A verification names them; then Repair "
                       "fetches just those.")
    return None


def _folder_message(code: str, folder: Path, why: str) -> str:
    if code == MISSING:
        return (f"{lifecycle.STORAGE_GONE[0]}: {folder} ({why}). It was removed outside ModelHub, or its "
                "disk is not mounted. If it is only unmounted, mount it again and press Verify; otherwise "
                "set the storage folder in Settings and Download again.")
    return (f"{lifecycle.READ_ONLY}: {folder} ({why}). Its files can still be read, but downloads, repairs "
            "and deletes there will fail. Remount it read-write (or give the workers' user write access).")


@dataclass
class Row:
    """One line of the Storage page: a folder problem with every variant it affects, or one variant's."""

    code: str
    message: str
    variants: list[ModelVariant]


def rows(findings: list[Finding]) -> list[Row]:
    out: dict[tuple, Row] = {}
    for f in findings:
        key = (f.code, str(f.folder)) if f.code in (MISSING, READ_ONLY) else (f.code, f.variant.pk)
        row = out.setdefault(key, Row(f.code, f.message, []))
        if f.variant is not None:
            row.variants.append(f.variant)
    return list(out.values())


def apply(findings: list[Finding] | None = None) -> dict:
    """Record the findings on the variants (the periodic check); clear what no longer holds.

    Returns the ids of the variants marked, given or cleared of a read-only notice, and of the verify
    jobs queued (files missing, or a folder back after it was missing).
    """
    findings = check() if findings is None else findings
    found = {f.variant.pk: f for f in findings if f.variant is not None}
    result: dict[str, list[int]] = {"marked": [], "read_only": [], "cleared": [], "verify_jobs": []}
    for finding in found.values():
        variant = finding.variant
        if finding.code == READ_ONLY:
            if (variant.problem != finding.message
                    and lifecycle.variant_storage_read_only(variant, finding.message)):
                result["read_only"].append(variant.pk)
        elif finding.code == FILES_MISSING:
            if variant.status == VariantStatus.INSTALLED:
                _verify(variant, result)
        elif (variant.status == VariantStatus.INSTALLED
              and lifecycle.variant_storage_gone(variant, finding.message)):
            result["marked"].append(variant.pk)
            log.warning("variant %s: %s", variant.pk, finding.message)
    for variant in ModelVariant.objects.filter(status__in=[VariantStatus.INSTALLED, VariantStatus.CORRUPT]):
        if variant.pk in found:
            continue
        if variant.status == VariantStatus.INSTALLED and lifecycle.variant_storage_writable(variant):
            result["cleared"].append(variant.pk)
        elif variant.status == VariantStatus.CORRUPT and variant.problem.startswith(lifecycle.STORAGE_GONE):
            _verify(variant, result)  # the folder is back: a verify says whether the files are intact
    return result


def _verify(variant: ModelVariant, result: dict) -> None:
    try:
        job, joined = services.verify(variant, origin=JobOrigin.SCHEDULE)
    except InvalidInput:  # never installed after all: nothing to verify
        return
    if not joined:
        result["verify_jobs"].append(job.pk)
