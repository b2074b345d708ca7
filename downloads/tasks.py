"""django-q2 entry points: a few lines each; the work is in the services, the runner and storage.

These dotted paths are stored in queued tasks and schedules: keep them stable (downloads.tasks_storage
still answers for tasks queued before its functions moved here).
"""

import logging
from pathlib import Path

from django.contrib.auth import get_user_model

from downloads import services, updates
from downloads.jobs import runner
from downloads.storage import discovery, health, imports, relocate

log = logging.getLogger(__name__)


def run_job(job_id: int) -> str:
    services.worker_seen("run_job")
    job = runner.run_job(job_id)
    services.after_job(job)
    return f"job {job_id}: {job.state if job else 'already claimed'}"


def housekeeping() -> dict:
    """Every minute: reap jobs whose worker died (and re-queue them), re-send lost tasks, fill free slots."""
    services.worker_seen("housekeeping")
    return services.housekeeping()


def reverify_installed() -> list[int]:
    """Periodically: flag variants whose storage folder or files vanished or turned read-only (a few stat
    calls, every run), then queue a fast verify for installed variants not checked within the interval.
    Returns the ids of the verify jobs queued."""
    try:
        jobs = health.apply()["verify_jobs"]
    except Exception:  # a bug in the cheap check must not stop the re-verification
        log.exception("storage health check failed")
        jobs = []
    return jobs + services.reverify_due()


def check_updates() -> dict:
    """Scheduled: record where installed variants' branches point upstream (update available?)."""
    results = updates.check_updates()
    return {"checked": sum(1 for r in results if not r.skipped and not r.error_code),
            "updates": [r.variant_id for r in results if r.update_available],
            "errors": {r.variant_id: r.error_code for r in results if r.error_code}}


def import_snapshots(keys: list[str], mode: str, user_id: int | None = None,
                     locations: list[str] | tuple = ()) -> list[dict]:
    """From the Storage page: copying and hashing whole models is too slow for a web request."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    found = discovery.find_by_keys(keys, extra_locations=locations)
    return [r.as_dict() for r in imports.import_snapshots(found, mode=mode, by=user)]


def relocate_storage(old: str, new: str, mode: str, user_id: int | None = None) -> list[dict]:
    """After the storage folder changed in Settings: move or copy the old folder's models (slow)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return [r.as_dict() for r in relocate.relocate(Path(old), Path(new), mode, by=user)]
