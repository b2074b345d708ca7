"""Every state transition, in one place: the job's and the variant's.

A job: created queued (services.enqueue) -> running (claim) -> verifying -> succeeded | failed |
cancelled (finish). A queued job, or one whose worker is gone, is cancelled at once (cancel_now);
a running one is asked (request_cancel). Pausing is a cancel that ends as paused (pause_now,
request_pause), and a paused job is queued again as it is (unpause); a new download of the variant
replaces it (supersede_paused). A running job whose worker died fails as worker_lost (mark_lost) and
the services queue its next attempt. Each transition is one conditional UPDATE, so of two processes
racing for a job exactly one wins, and a run that lost its job touches nothing.

A variant: not_downloaded -> queued -> downloading -> installed | failed | corrupt; a cancelled or
paused job returns it to what its files on disk support: installed only if it was installed and
nothing changed, else partial or paused with the bytes kept, else not_downloaded.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from downloads import guidance, signals
from downloads.jobs.liveness import worker_name
from downloads.models import DownloadJob, JobEvent, JobKind, JobState, ModelVariant, VariantStatus
from engine.errors import ErrorCode
from engine.events import EventKind

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


def _job_finished(job: DownloadJob) -> None:
    transaction.on_commit(lambda: signals.download_finished.send(DownloadJob, job=job))


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


# --- jobs -------------------------------------------------------------------------------------------
def claim(job_id: int) -> DownloadJob | None:
    """QUEUED -> RUNNING in one conditional UPDATE: of two workers handed the same job, one wins."""
    now = timezone.now()
    won = DownloadJob.objects.filter(pk=job_id, state=JobState.QUEUED, cancel_requested=False).update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, worker=worker_name()
    )
    return DownloadJob.objects.select_related("variant").get(pk=job_id) if won else None


def resolved(job: DownloadJob, *, commit: str, total: int, files: int) -> bool:
    """The revision's commit and files are known: record them, and the variant starts downloading.
    False when this run no longer owns the job (reaped as lost, or cancelled)."""
    with transaction.atomic():
        if not DownloadJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                commit=commit, bytes_total=total, files_total=files):
            return False
        variant_started(job.variant, commit=commit, size=total)
    job.commit, job.bytes_total, job.files_total = commit, total, files
    return True


def start_verifying(job: DownloadJob) -> None:
    """RUNNING -> VERIFYING: the only change of state in the middle of a run."""
    DownloadJob.objects.working().filter(pk=job.pk).update(state=JobState.VERIFYING,
                                                           heartbeat_at=timezone.now())
    job.state = JobState.VERIFYING


def finish(job: DownloadJob, final: str, fields: dict, *, installed: dict | None = None) -> bool:
    """RUNNING | VERIFYING -> `final`, with the outcome `fields`; then the variant follows. False when
    the run lost its job: a worker that froze past the heartbeat timeout was reaped and its job
    re-queued, so the row belongs to the new attempt and this run must not touch the variant either."""
    with transaction.atomic():
        paused = DownloadJob.objects.filter(pk=job.pk, pause_requested=True).exists()
        if final == JobState.CANCELLED and paused:
            final, fields = JobState.PAUSED, {**fields, "error_code": "", "error_message": "", "guidance": ""}
        if not DownloadJob.objects.working().filter(pk=job.pk).update(state=final, finished_at=timezone.now(),
                                                                      speed_bps=0, **fields):
            return False
        job.refresh_from_db()
        if installed is not None:
            variant_installed(job.variant, **installed)
        else:
            variant_after_job(job.variant, job)
        _job_finished(job)
    return True


def cancel_now(job: DownloadJob, who: str) -> bool:
    """QUEUED, PAUSED (or abandoned) -> CANCELLED at once. False when the job moved on meanwhile."""
    done = DownloadJob.objects.filter(pk=job.pk, state=job.state).update(
        state=JobState.CANCELLED, cancel_requested=True, finished_at=timezone.now(),
        error_code=ErrorCode.CANCELLED, error_message=f"Cancelled{who}" + {
            JobState.QUEUED: " before it ran", JobState.PAUSED: " while paused"}.get(
            job.state, "; its worker had stopped"),
        guidance=guidance.guidance_for(ErrorCode.CANCELLED),
    )
    if done:
        JobEvent.objects.create(job=job, kind=EventKind.CANCELLED, message=f"cancelled{who}")
        job.refresh_from_db()
        variant_after_job(job.variant, job)
        _job_finished(job)
    return bool(done)


def pause_now(job: DownloadJob, who: str) -> bool:
    """QUEUED (or abandoned) -> PAUSED at once, partials kept. False when the job moved on meanwhile."""
    done = DownloadJob.objects.filter(pk=job.pk, state=job.state).update(
        state=JobState.PAUSED, pause_requested=True, finished_at=timezone.now(), speed_bps=0)
    if done:
        JobEvent.objects.create(job=job, kind=EventKind.PAUSED, message=f"paused{who}")
        job.refresh_from_db()
        variant_after_job(job.variant, job)
    return bool(done)


def request_pause(job: DownloadJob, who: str) -> None:
    """Ask the running process to stop as for a cancel; finish() then records the job as paused."""
    DownloadJob.objects.working().filter(pk=job.pk).update(cancel_requested=True, pause_requested=True)
    JobEvent.objects.create(job=job, kind=EventKind.PAUSE, message=f"pause requested{who}")


def unpause(job: DownloadJob, who: str, *, run_here: bool = False) -> bool:
    """PAUSED -> QUEUED, the same job, so the next run resumes its partials. False when it is no longer
    paused, or when another job of the variant became active meanwhile (at most one may be)."""
    try:
        with transaction.atomic():
            done = DownloadJob.objects.filter(pk=job.pk, state=JobState.PAUSED).update(
                state=JobState.QUEUED, cancel_requested=False, pause_requested=False, started_at=None,
                finished_at=None, heartbeat_at=None, worker="", task_id="", speed_bps=0,
                dispatched_at=timezone.now() if run_here else None)
    except IntegrityError:
        return False
    if done:
        JobEvent.objects.create(job=job, kind=EventKind.UNPAUSED, message=f"resumed{who}: queued again")
        job.refresh_from_db()
        variant_queued(job.variant, job)
    return bool(done)


def supersede_paused(job: DownloadJob) -> None:
    """A new download of the variant replaces its paused ones (the new run resumes the same partials)."""
    if job.kind == JobKind.VERIFY:
        return
    for old in DownloadJob.objects.filter(variant=job.variant_id, state=JobState.PAUSED):
        if DownloadJob.objects.filter(pk=old.pk, state=JobState.PAUSED).update(
                state=JobState.CANCELLED, error_code=ErrorCode.CANCELLED,
                error_message=f"Replaced by job {job.pk}, which resumes its partial files"):
            JobEvent.objects.create(job=old, kind=EventKind.CANCELLED, message=f"replaced by job {job.pk}")


def request_cancel(job: DownloadJob, who: str) -> None:
    """Ask the process running the job to stop; its monitor notices within a progress interval."""
    DownloadJob.objects.filter(pk=job.pk).update(cancel_requested=True, pause_requested=False)
    JobEvent.objects.create(job=job, kind=EventKind.CANCEL, message=f"cancel requested{who}")


def mark_lost(job: DownloadJob) -> bool:
    """A running job abandoned by its worker (see services.is_stale): fail it as worker_lost (its
    partials stay). The one transition for a lost job, whoever notices: the reaper, a new request for
    the same variant, a cancel, or a command following the job."""
    now = timezone.now()
    since = f"{(job.heartbeat_at or job.started_at or now):%Y-%m-%d %H:%M:%S} UTC"
    beat = job.heartbeat_at or job.started_at
    if beat is not None and beat >= now - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT):
        message = f"Its process {job.worker} is gone (killed or crashed); last heartbeat {since}"
        event = f"process {job.worker} is gone; taken over at once"
    else:
        message = f"No heartbeat from {job.worker or 'its worker'} since {since}"
        event = f"worker {job.worker} stopped sending heartbeats"
    done = DownloadJob.objects.filter(pk=job.pk, state=job.state, heartbeat_at=job.heartbeat_at).update(
        state=JobState.PAUSED if job.pause_requested else JobState.FAILED,  # a paused job is not re-queued
        finished_at=now, error_code=ErrorCode.WORKER_LOST, speed_bps=0,
        error_message=message, guidance=guidance.guidance_for(ErrorCode.WORKER_LOST),
    )
    if done:
        JobEvent.objects.create(job=job, kind=EventKind.LOST, message=event)
        job.refresh_from_db()
        variant_after_job(job.variant, job)
        _job_finished(job)
    return bool(done)
