"""The job's transitions, each one conditional UPDATE (see the package's docstring); the variant follows
through variants.py."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from downloads import guidance, signals
from downloads.jobs.lifecycle.variants import (
    variant_after_job,
    variant_installed,
    variant_queued,
    variant_started,
)
from downloads.jobs.liveness import worker_name
from downloads.models import DownloadJob, JobEvent, JobKind, JobState
from engine.errors import ErrorCode
from engine.events import EventKind


def _job_finished(job: DownloadJob) -> None:
    transaction.on_commit(lambda: signals.download_finished.send(DownloadJob, job=job))


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
