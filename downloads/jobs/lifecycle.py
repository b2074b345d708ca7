"""Variant status transitions, in one place.

not_downloaded -> queued -> downloading -> installed | failed | corrupt; a cancelled job returns the
variant to what its files on disk support (installed only if it was installed and nothing changed).
"""

from django.utils import timezone

from downloads.models import DownloadJob, JobKind, JobState, ModelVariant, VariantStatus
from engine.errors import ErrorCode

# How the periodic storage check (downloads.storage_health) words what it finds, so it can tell its own
# findings from a verification's and clear them once the storage is back.
STORAGE_GONE = ("Storage folder missing", "Files removed outside ModelHub")
READ_ONLY = "Storage folder is read-only"


def _save(variant: ModelVariant, **fields) -> None:
    for key, value in fields.items():
        setattr(variant, key, value)
    ModelVariant.objects.filter(pk=variant.pk).update(updated_at=timezone.now(), **fields)


def variant_queued(variant: ModelVariant, job: DownloadJob) -> None:
    if job.kind != JobKind.VERIFY:
        _save(variant, status=VariantStatus.QUEUED)


def variant_started(variant: ModelVariant, *, commit: str, size: int) -> None:
    fields = {"status": VariantStatus.DOWNLOADING, "size_bytes": size}
    if variant.status != VariantStatus.INSTALLED or variant.commit == commit:
        fields["commit"] = commit
    _save(variant, **fields)


def variant_installed(variant: ModelVariant, *, commit: str, manifest_files: dict, local_path: str) -> None:
    _save(
        variant,
        status=VariantStatus.INSTALLED,
        commit=commit,
        manifest={"commit": commit, "files": manifest_files},
        size_bytes=sum(r["size"] for r in manifest_files.values()),
        local_path=local_path,
        last_verified_at=timezone.now(),
        problem="",
    )


def variant_after_job(variant: ModelVariant, job: DownloadJob) -> None:
    """Status after a job ended other than by success (success is variant_installed)."""
    if job.state == JobState.SUCCEEDED:
        return
    # A read-only storage folder is a notice, not drift: the verified files are still there to read.
    was_installed = (bool(variant.installed_files) and variant.last_verified_at is not None
                     and (not variant.problem or variant.problem.startswith(READ_ONLY)))
    if job.state == JobState.CANCELLED:
        if job.kind == JobKind.VERIFY:
            return
        _save(variant, status=VariantStatus.INSTALLED if was_installed else VariantStatus.NOT_DOWNLOADED)
        return
    if job.error_code == ErrorCode.VERIFICATION_FAILED:
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
          problem="")


def variant_pending_import(variant: ModelVariant, *, commit: str, manifest_files: dict, local_path: str) -> None:
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
    done = ModelVariant.objects.filter(pk=variant.pk, status__in=statuses, problem=variant.problem).update(
        updated_at=timezone.now(), **fields)
    if done:
        for key, value in fields.items():
            setattr(variant, key, value)
    return bool(done)
