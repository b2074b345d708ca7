"""Everything the admin and the management commands do, in one place; the only module that enqueues.

Concurrency: `dispatch()` hands at most `max_concurrent_downloads` jobs to the broker, oldest first,
under a row lock on the Setting singleton (PostgreSQL) or an IMMEDIATE transaction (SQLite), so
several web processes and workers never over-commit. Workers claim jobs with a conditional UPDATE;
a duplicate task is therefore harmless, which is what makes re-dispatching a lost task safe.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from downloads.jobs import lifecycle, liveness
from downloads.models import (
    WORKING_STATES,
    DownloadJob,
    JobEvent,
    JobKind,
    JobOrigin,
    JobState,
    ModelVariant,
    VariantStatus,
    WorkerBeat,
)
from downloads.storage.overview import variant_home
from downloads.variants import get_or_create_variant
from engine.errors import ErrorCode
from engine.events import EventKind
from engine.selection import InvalidInput
from settings_app.models import Setting

log = logging.getLogger(__name__)
__all__ = ["get_or_create_variant"]  # what the admin and commands call, defined with the variant rules

# Failures worth another attempt on their own: the cause is likely gone a little later.
AUTO_RETRY_CODES = {
    ErrorCode.NETWORK, ErrorCode.SERVER_ERROR, ErrorCode.RATE_LIMITED, ErrorCode.WORKER_LOST,
    ErrorCode.VERIFICATION_FAILED,
}


# --- jobs -----------------------------------------------------------------------------------------
def is_stale(job: DownloadJob, now=None) -> bool:
    """Has the running job been abandoned? Either its heartbeat stopped for MODELHUB_HEARTBEAT_TIMEOUT, or
    it was claimed on this host by a process that is gone (killed, crashed): then no need to wait."""
    if not job.is_working:
        return False
    now = now or timezone.now()
    beat = job.heartbeat_at or job.started_at
    if beat is None or beat < now - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT):
        return True
    return liveness.owner_gone(job.worker, job.started_at, now)


def enqueue(variant: ModelVariant, *, kind: str = JobKind.DOWNLOAD, requested_by=None,
            origin: str = JobOrigin.ADMIN, force: bool = False, only_paths: list[str] | None = None,
            rate_limit: int | None = None, attempt: int = 1,
            run_here: bool = False) -> tuple[DownloadJob, bool]:
    """Create a queued job for the variant, or join the one already active. Returns (job, joined).

    `run_here`: the caller runs the job in its own process (download --wait), so it is not handed
    to the broker.
    """
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    with transaction.atomic():
        active = DownloadJob.objects.active().filter(variant=variant).first()
        if active is not None and is_stale(active):
            lifecycle.mark_lost(active)
            active = None
        if active is not None:
            return active, True
        try:
            with transaction.atomic():
                job = DownloadJob.objects.create(
                    variant=variant, kind=kind, requested_by=user, origin=origin, force=force,
                    only_paths=sorted(only_paths or []), rate_limit=rate_limit, attempt=attempt,
                    dispatched_at=timezone.now() if run_here else None,
                )
        except IntegrityError:  # another request created the active job a moment ago: join it
            return DownloadJob.objects.active().get(variant=variant), True
        who = f" by {user.get_username()}" if user else ""
        JobEvent.objects.create(job=job, kind=EventKind.QUEUED,
                                message=f"{kind} queued{who} ({origin}), attempt {attempt}")
        lifecycle.variant_queued(variant, job)
        lifecycle.supersede_paused(job)
        if not run_here:
            transaction.on_commit(dispatch)
    return job, False


def enqueue_downloads(variants: Iterable[ModelVariant], **kwargs) -> list[tuple[DownloadJob, bool]]:
    return [enqueue(v, **kwargs) for v in variants]


def cancel(job: DownloadJob, *, by=None) -> str:
    """Cancel a job: at once when queued or when its worker is gone; else ask the worker (≤ ~1 s)."""
    job.refresh_from_db()
    who = f" by {by.get_username()}" if getattr(by, "is_authenticated", False) else ""
    if job.state in (JobState.QUEUED, JobState.PAUSED) or is_stale(job):
        if lifecycle.cancel_now(job, who):
            transaction.on_commit(dispatch)
            return "cancelled"
        job.refresh_from_db()
    if job.is_working:
        lifecycle.request_cancel(job, who)
        return "cancel requested"
    return f"already {job.state}"


def retry(job: DownloadJob, *, by=None, origin: str = JobOrigin.ADMIN) -> tuple[DownloadJob, bool]:
    """A fresh attempt at a finished job's work (a new job; the old one keeps its record)."""
    if job.is_active:
        return job, True
    return enqueue(job.variant, kind=job.kind, requested_by=by, origin=origin, force=False,
                   only_paths=job.only_paths, rate_limit=job.rate_limit)


def verify(variant: ModelVariant, *, full: bool = False, by=None, origin: str = JobOrigin.ADMIN,
           run_here: bool = False) -> tuple[DownloadJob, bool]:
    if not variant.installed_files or not variant.commit:
        raise InvalidInput(f"{variant} has never been installed: download it before verifying")
    return enqueue(variant, kind=JobKind.VERIFY, force=full, requested_by=by, origin=origin,
                   run_here=run_here)


def failed_files(variant: ModelVariant) -> list[str]:
    """Files the latest finished verification of the variant found bad."""
    last = (variant.jobs.filter(state__in=[JobState.SUCCEEDED, JobState.FAILED])
            .exclude(verification={}).order_by("-finished_at", "-id").first())
    if last is None:
        return []
    report = last.verification or {}
    return list(report.get("failed_files") or [])


def repair(variant: ModelVariant, *, by=None, origin: str = JobOrigin.ADMIN, run_here: bool = False):
    """Re-download only the files the last verification found bad."""
    bad = failed_files(variant)
    if not bad:
        raise InvalidInput(f"{variant}: the last verification found no bad file; run Verify first")
    if not variant.commit:
        raise InvalidInput(f"{variant} has no resolved commit to repair against; download it instead")
    storage = Setting.load().effective_storage_dir
    if variant_home(variant, storage) != storage:
        raise InvalidInput(f"{variant} lives in another cache ({variant.local_path}); copy it into the "
                           "storage folder first (Storage → Import → copy), then repair")
    return enqueue(variant, kind=JobKind.REPAIR, only_paths=bad, requested_by=by, origin=origin,
                   run_here=run_here)


def requeue_if_transient(job: DownloadJob, *, run_here: bool = False) -> DownloadJob | None:
    """After a failure worth retrying, queue the next attempt (bounded by MODELHUB_MAX_ATTEMPTS)."""
    job.refresh_from_db()
    if (job.state != JobState.FAILED or job.error_code not in AUTO_RETRY_CODES or job.kind == JobKind.VERIFY
            or job.attempt >= settings.MODELHUB_MAX_ATTEMPTS):
        return None
    new, joined = enqueue(job.variant, kind=job.kind, requested_by=job.requested_by, origin=JobOrigin.RETRY,
                          only_paths=job.only_paths, rate_limit=job.rate_limit, attempt=job.attempt + 1,
                          run_here=run_here)
    if not joined:
        JobEvent.objects.create(job=job, kind=EventKind.RETRY,
                                message=f"{job.error_code}: retrying as job {new.pk} "
                                        f"(attempt {new.attempt}/{settings.MODELHUB_MAX_ATTEMPTS})")
    return new


# --- the queue ------------------------------------------------------------------------------------
def enqueue_import(keys: list[str], mode: str, *, by=None, locations=()) -> None:
    """Import cache snapshots in a worker (copying and hashing whole models is too slow for a request).
    Raises whatever the broker raises when it is unavailable: the caller says so, nothing is imported."""
    from django_q.tasks import async_task

    user_id = by.pk if by is not None else None
    async_task("downloads.tasks.import_snapshots", keys, mode, user_id, list(locations),
               task_name=f"modelhub-import-{user_id}-{len(keys)}", group="modelhub-import")


def enqueue_relocation(old: str, new: str, mode: str, *, by=None) -> None:
    """Move or copy what the old storage folder holds into the new one, in a worker (see storage.relocate)."""
    from django_q.tasks import async_task

    async_task("downloads.tasks.relocate_storage", old, new, mode, by.pk if by is not None else None,
               task_name=f"modelhub-relocate-{mode}", group="modelhub-import")


def dispatch() -> list[int]:
    """Hand queued jobs to the broker, oldest first, up to max_concurrent_downloads in flight."""
    from django_q.tasks import async_task

    setting = Setting.load()
    with transaction.atomic():
        list(Setting.objects.select_for_update().filter(pk=setting.pk))  # serialises dispatchers
        busy = DownloadJob.objects.filter(
            Q(state__in=WORKING_STATES) | Q(state=JobState.QUEUED, dispatched_at__isnull=False)
        ).count()
        free = setting.effective_max_concurrent_downloads - busy
        if free <= 0:
            return []
        ids = list(DownloadJob.objects.filter(state=JobState.QUEUED, dispatched_at__isnull=True)
                   .order_by("created_at", "id").values_list("pk", flat=True)[:free])
        DownloadJob.objects.filter(pk__in=ids).update(dispatched_at=timezone.now())
    for pk in ids:
        _send(async_task, pk)
    return ids


def _send(async_task, pk: int) -> bool:
    """Hand one job to the broker. A broker outage (Redis restarting) must not fail the caller: the admin
    request or command that queued the job, the worker that just finished one, housekeeping reaping
    lost jobs. The job keeps its dispatched_at, so redispatch_stale sends it again later."""
    try:
        task_id = async_task("downloads.tasks.run_job", pk,
                             task_name=f"modelhub-job-{pk}-{timezone.now():%H%M%S%f}",
                             group="modelhub-downloads")
    except Exception as exc:  # whatever the broker raises: redis.ConnectionError, a database error (ORM)...
        log.warning("job %s: the task broker is unavailable (%s); housekeeping will send it again", pk, exc)
        JobEvent.objects.create(job_id=pk, kind=EventKind.BROKER, message=f"the task broker is unavailable "
                                f"({type(exc).__name__}); housekeeping sends the job again once it answers")
        return False
    DownloadJob.objects.filter(pk=pk).update(task_id=str(task_id or ""))
    return True


def redispatch_stale() -> list[int]:
    """Jobs handed to the broker long ago but never claimed (a restarted Redis loses its queue)."""
    from django_q.tasks import async_task

    cutoff = timezone.now() - timedelta(seconds=settings.MODELHUB_REDISPATCH_AFTER)
    ids = list(DownloadJob.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff)
               .values_list("pk", flat=True))
    for pk in ids:
        if DownloadJob.objects.filter(pk=pk, state=JobState.QUEUED, dispatched_at__lt=cutoff) \
                .update(dispatched_at=timezone.now()):
            JobEvent.objects.create(job_id=pk, kind=EventKind.REDISPATCH,
                                    message="not picked up by a worker; sent again")
            _send(async_task, pk)
    return ids


def reap_lost_jobs() -> list[DownloadJob]:
    """Fail jobs whose worker vanished and queue their next attempt (which resumes the partials)."""
    now = timezone.now()
    # Every running job, not only those with an old heartbeat: one whose process on this host is
    # gone is reaped at once. There are at most a few (max_concurrent_downloads plus verifies).
    running = DownloadJob.objects.working().select_related("variant")
    reaped = []
    for job in running:
        if not is_stale(job, now):
            continue
        with transaction.atomic():
            if lifecycle.mark_lost(job):
                reaped.append(job)
                requeue_if_transient(job)
    return reaped


def after_job(job: DownloadJob | None, *, run_here: bool = False) -> DownloadJob | None:
    """What follows a finished job: maybe its next attempt, and freeing its queue slot."""
    new = requeue_if_transient(job, run_here=run_here) if job is not None else None
    dispatch()
    return new


def worker_seen(task: str) -> None:
    WorkerBeat.objects.update_or_create(worker=liveness.worker_name(),
                                        defaults={"last_seen": timezone.now(), "last_task": task})
    WorkerBeat.objects.filter(last_seen__lt=timezone.now() - timedelta(days=1)).delete()


def housekeeping() -> dict:
    reaped = reap_lost_jobs()
    redispatched = redispatch_stale()
    dispatched = dispatch()
    return {"reaped": [j.pk for j in reaped], "redispatched": redispatched, "dispatched": dispatched}


def variants_due_for_reverify() -> list[ModelVariant]:
    hours = Setting.load().reverify_interval_hours
    if not hours:
        return []
    cutoff = timezone.now() - timedelta(hours=hours)
    return list(ModelVariant.objects.filter(status=VariantStatus.INSTALLED)
                .filter(Q(last_verified_at__lt=cutoff) | Q(last_verified_at__isnull=True)))


def reverify_due() -> list[int]:
    jobs = []
    for variant in variants_due_for_reverify():
        job, joined = verify(variant, origin=JobOrigin.SCHEDULE)
        if not joined:
            jobs.append(job.pk)
    return jobs
