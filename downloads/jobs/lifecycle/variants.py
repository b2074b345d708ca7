"""The variant's transitions: not_downloaded -> queued -> downloading -> installed | failed | corrupt, what
a job that ended leaves it at, and what the periodic storage check finds (see the package's docstring)."""

from django.db import transaction
from django.utils import timezone

from downloads import signals
from downloads.models import DownloadJob, JobKind, JobState, ModelVariant, VariantStatus
from engine.errors import ErrorCode

# How the periodic storage check (downloads.storage.health) words what it finds, so it can tell its own
# findings from a verification's and clear them once the storage is back.
STORAGE_GONE = ("Storage folder missing", "Files removed outside ModelHub")
READ_ONLY = "Storage folder is read-only"


def _save(variant: ModelVariant, **fields) -> None:
    previous = variant.status
    for key, value in fields.items():
        setattr(variant, key, value)
    ModelVariant.objects.filter(pk=variant.pk).update(updated_at=timezone.now(), **fields)
    _status_changed(variant, previous)


def _status_changed(variant: ModelVariant, previous: str) -> None:
    if variant.status != previous:
        old, new = str(previous), str(variant.status)  # plain strings: receivers serialise them
        transaction.on_commit(lambda: signals.variant_status_changed.send(
            ModelVariant, variant=variant, previous=old, status=new))


def variant_queued(variant: ModelVariant, job: DownloadJob) -> None:
    if job.kind != JobKind.VERIFY:
        _save(variant, status=VariantStatus.QUEUED)


def variant_started(variant: ModelVariant, *, commit: str, size: int) -> None:
    fields = {"status": VariantStatus.DOWNLOADING, "size_bytes": size}
    if variant.status != VariantStatus.INSTALLED or variant.commit == commit:
        fields["commit"] = commit
    _save(variant, **fields)


def variant_installed(variant: ModelVariant, *, commit: str, manifest_files: dict, local_path: str,
                      kind: dict | None = None) -> None:
    manifest = {"commit": commit, "files": manifest_files}
    if kind:  # the rule that applied and why (auto: inferred once, with the Hub's metadata)
        manifest["kind"] = kind
    _save(
        variant,
        status=VariantStatus.INSTALLED,
        commit=commit,
        manifest=manifest,
        size_bytes=sum(r["size"] for r in manifest_files.values()),
        local_path=local_path,
        last_verified_at=timezone.now(),
        problem="",
        partial_bytes=None,
    )


def variant_after_job(variant: ModelVariant, job: DownloadJob) -> None:
    """Status after a job ended other than by success (success is variant_installed)."""
    if job.state == JobState.SUCCEEDED:
        return
    # A read-only storage folder is a notice, not drift: the verified files are still there to read.
    was_installed = (bool(variant.installed_files) and variant.last_verified_at is not None
                     and (not variant.problem or variant.problem.startswith(READ_ONLY)))
    if job.state in (JobState.CANCELLED, JobState.PAUSED):
        if job.kind == JobKind.VERIFY:
            return
        if was_installed:
            _save(variant, status=VariantStatus.INSTALLED)
        elif job.state == JobState.PAUSED or job.bytes_done > 0:  # the partials wait for a resume
            status = VariantStatus.PAUSED if job.state == JobState.PAUSED else VariantStatus.PARTIAL
            _save(variant, status=status, partial_bytes=job.bytes_done)
        else:
            _save(variant, status=VariantStatus.NOT_DOWNLOADED)
        return
    if job.error_code == ErrorCode.INCOMPLETE:
        # The bytes are the Hub's; the selection is not a whole model: not installed, nothing corrupt.
        summary = (job.verification or {}).get("summary") or job.error_message
        _save(variant, status=VariantStatus.FAILED, problem=summary, last_verified_at=timezone.now())
        return
    if job.error_code in (ErrorCode.VERIFICATION_FAILED, ErrorCode.FORMAT_INVALID):
        summary = (job.verification or {}).get("summary") or job.error_message
        _save(variant, status=VariantStatus.CORRUPT, problem=summary, last_verified_at=timezone.now())
        return
    if job.kind == JobKind.VERIFY:
        # Verification could not run (e.g. storage unreadable): the files are not known good.
        _save(variant, status=VariantStatus.FAILED, problem=job.error_message)
        return
    # A failed re-download leaves the earlier verified files in place: the variant is still usable.
    _save(variant, status=VariantStatus.INSTALLED if was_installed else VariantStatus.FAILED)


def variant_files_deleted(variant: ModelVariant) -> None:
    """Its files were removed from disk: back to not downloaded, nothing to verify."""
    _save(variant, status=VariantStatus.NOT_DOWNLOADED, manifest={}, local_path="", last_verified_at=None,
          problem="", partial_bytes=None)


def variant_pending_import(variant: ModelVariant, *, commit: str, manifest_files: dict,
                           local_path: str) -> None:
    """Files found in a cache, recorded with the checksums a verification must confirm before "installed"."""
    _save(variant, commit=commit, manifest={"commit": commit, "files": manifest_files}, local_path=local_path,
          size_bytes=sum(r["size"] for r in manifest_files.values()))


def variant_upstream_checked(variant: ModelVariant, *, commit: str = "", error: str = "") -> None:
    fields = {"upstream_checked_at": timezone.now(), "upstream_error": error[:500]}
    if commit:
        fields["upstream_commit"] = commit
    _save(variant, **fields)


def variant_storage_gone(variant: ModelVariant, problem: str) -> bool:
    """The periodic storage check found an installed variant's folder or files gone: no longer installed.
    Conditional, so a job that changed the variant meanwhile wins."""
    return _save_if(variant, [VariantStatus.INSTALLED], status=VariantStatus.CORRUPT, problem=problem)


def variant_storage_read_only(variant: ModelVariant, notice: str) -> bool:
    """Installed, readable, but ModelHub cannot update, repair or delete it: say so, keep the status."""
    if variant.problem and not variant.problem.startswith(READ_ONLY):
        return False  # a verification's finding says more
    return _save_if(variant, [VariantStatus.INSTALLED], problem=notice)


def variant_storage_writable(variant: ModelVariant) -> bool:
    """The storage folder is writable again: drop the read-only notice."""
    if not variant.problem.startswith(READ_ONLY):
        return False
    return _save_if(variant, [VariantStatus.INSTALLED], problem="")


def _save_if(variant: ModelVariant, statuses: list[str], **fields) -> bool:
    previous = variant.status
    done = ModelVariant.objects.filter(pk=variant.pk, status__in=statuses, problem=variant.problem).update(
        updated_at=timezone.now(), **fields)
    if done:
        for key, value in fields.items():
            setattr(variant, key, value)
        _status_changed(variant, previous)
    return bool(done)
