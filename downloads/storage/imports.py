"""Registering snapshots found in Hugging Face caches as variants, each checked by a real verification.

One variant per (repo, commit): revision is the ref pointing at the commit where the files will live
(`main` first), else the commit; include is empty when the cached tree listing shows the snapshot is
the whole commit, else the snapshot's exact paths. Every file is hashed against its blob name (or the
tree listing) and format-checked; the result is a verify job like any other, origin "import".

Why two ways to verify: a snapshot in the storage folder (found there, copied or moved) is verified
by the engine's own verify job (`services.enqueue` + `runner.run_job`), which only looks in the
storage folder. A snapshot registered where it is, in another cache, is verified here with the same
`verify_installed` and recorded as a finished job of the same shape.
"""

import glob
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from downloads import services
from downloads.jobs import lifecycle, runner
from downloads.models import (
    DownloadJob,
    JobEvent,
    JobKind,
    JobOrigin,
    JobState,
    ModelVariant,
    VariantStatus,
)
from downloads.storage import copying
from downloads.storage.discovery import FoundSnapshot, mark_registered
from downloads.storage.overview import storage_dir
from engine.cache.layout import RepoCache
from engine.cache.scan import scan_repo
from engine.events import EventKind
from engine.selection import InvalidInput, clean_globs, clean_revision
from engine.verify import AUTO, check_completeness, resolve_kind
from settings_app.models import Setting

log = logging.getLogger(__name__)

MODES = ("register", "copy", "move")


@dataclass
class ImportResult:
    key: str
    repo_id: str
    repo_type: str
    commit: str
    location: str
    mode: str
    outcome: str = "skipped"  # imported | corrupt | skipped | failed
    message: str = ""
    variant_id: int | None = None
    created: bool = False
    revision: str = ""
    include: list[str] = field(default_factory=list)
    status: str = ""
    problem: str = ""
    job_id: int | None = None
    bytes_copied: int = 0
    source_removed: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


class _Skip(Exception):
    pass


def import_snapshots(found: list[FoundSnapshot], *, mode: str = "register", by=None) -> list[ImportResult]:
    """Register each found snapshot (`register`: where it is; `copy`/`move`: into the storage folder)."""
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    storage = storage_dir()
    results = []
    for f in found:
        result = ImportResult(f.key, f.repo_id, f.repo_type, f.commit, str(f.location), mode)
        try:
            _import_one(f, mode, storage, by, result)
        except _Skip as exc:
            result.message = str(exc)
        except (InvalidInput, copying.CopyRefused) as exc:
            result.outcome, result.message = "failed", str(exc)
        results.append(result)
        log.info("import of %s@%s from %s: %s %s", f.repo_id, f.commit[:12], f.location, result.outcome,
                 result.message)
    return results


def _import_one(f: FoundSnapshot, mode: str, storage: Path, by, result: ImportResult) -> None:
    # Asked again now: the same snapshot in two caches must not become two variants in one run.
    mark_registered([f])
    if f.registered is not None:
        raise _Skip(f"already registered as variant {f.registered.pk} ({f.registered})")
    if f.problems:
        raise InvalidInput("; ".join(f.problems))
    relocate = mode in ("copy", "move") and not f.is_storage
    refs = _refs_after_copy(f, storage) if relocate else f.refs
    revision, include = _choose_key(f, refs)
    notes = []
    if relocate:
        copied = copying.copy_snapshot(f, storage, hardlink=mode == "move")
        result.bytes_copied = copied.bytes_copied
        notes = [f"{path}: not copied from {f.location}: {why}" for path, why in copied.not_copied.items()]
    home = storage if relocate or f.is_storage else f.location
    overrides = Setting.load().completeness_rules
    variant, result.created = services.get_or_create_variant(
        repo_id=f.repo_id, repo_type=f.repo_type, revision=revision, include=include,
        kind=_guess_kind(f, overrides))
    result.variant_id, result.revision, result.include = variant.pk, variant.revision, variant.include
    _record_pending(variant, f, RepoCache(home, f.repo_id, f.repo_type).snapshot_dir(f.commit))
    job = verify_here(variant, by, notes)  # the runner verifies where the files are (variant_home)
    variant.refresh_from_db()
    result.job_id, result.status, result.problem = job.pk, variant.status, variant.problem
    result.outcome = "imported" if variant.status == VariantStatus.INSTALLED else "corrupt"
    result.message = (job.verification or {}).get("summary") or job.error_message
    if notes:
        result.message += "; " + "; ".join(notes)
    if mode == "move" and relocate:
        if job.state == JobState.SUCCEEDED:
            copying.remove_source(f)
            result.source_removed = True
        else:
            result.message += f"; the source in {f.location} was kept because verification failed"


def _refs_after_copy(f: FoundSnapshot, storage: Path) -> list[str]:
    """Refs that will point at the commit in the storage folder: existing ones, plus the source's refs
    the copy writes (it never moves an existing ref)."""
    existing = scan_repo(storage, f.folder).refs if (storage / f.folder).is_dir() else {}
    return sorted({name for name, commit in existing.items() if commit == f.commit}
                  | {name for name in f.refs if name not in existing})


def _choose_key(f: FoundSnapshot, refs: list[str]) -> tuple[str, list[str]]:
    """(revision, include) of the variant: a ref name when one points here, else the commit. A variant
    with that selection is reused only when it has no files yet (never downloaded, or deleted): one that
    tracks files elsewhere keeps them, and the snapshot gets the commit as its revision instead."""
    include = [] if f.complete else clean_globs([glob.escape(p) for p in f.files])
    candidates = sorted(refs, key=lambda r: (r != "main", r)) + [f.commit]
    for revision in candidates:
        try:
            revision = clean_revision(revision)
        except InvalidInput:
            continue
        existing = ModelVariant.objects.filter(repo_id=f.repo_id, repo_type=f.repo_type, revision=revision,
                                               include=include, exclude=[]).first()
        if existing is None:
            return revision, include
        active = DownloadJob.objects.active().filter(variant=existing).first()
        if active is not None:
            raise _Skip(f"variant {existing.pk} ({existing}) is busy with job {active.pk}; import it later")
        if not existing.installed_files:
            return revision, include
    raise _Skip(f"variant(s) with this selection already track other files of {f.repo_id}; "
                f"delete their files or register this snapshot with another selection")


def _guess_kind(f: FoundSnapshot, overrides: dict) -> str:
    """`auto` when the files make a usable model of the kind they look like, else `files` (any file is
    complete), so a partial cache is registered for what it is rather than reported as a broken model."""
    paths = list(f.files)
    kind = resolve_kind(AUTO, paths, repo_type=f.repo_type)["kind"]
    if check_completeness(paths, kind, f.repo_type, overrides)["ok"]:
        return AUTO
    return "files"


def _record_pending(variant: ModelVariant, f: FoundSnapshot, snapshot: Path) -> None:
    """What the verification checks against: every file, its size and expected checksum."""
    lifecycle.variant_pending_import(variant, commit=f.commit, local_path=str(snapshot),
                                     manifest_files={path: item.manifest_record()
                                                     for path, item in f.files.items()})


def verify_here(variant: ModelVariant, by, notes: list[str], *, full: bool = True) -> DownloadJob:
    """Verify the variant where its files are, in this process; `notes` go to the job's event log."""
    job, joined = services.enqueue(variant, kind=JobKind.VERIFY, origin=JobOrigin.IMPORT, requested_by=by,
                                   force=full, run_here=True)
    if joined:
        raise _Skip(f"variant {variant.pk} is busy with job {job.pk}; import it later")
    for note in notes:
        JobEvent.objects.create(job=job, kind=EventKind.IMPORT, message=note)
    ran = runner.run_job(job.pk)
    services.after_job(ran, run_here=True)
    job.refresh_from_db()
    return job


