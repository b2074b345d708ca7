"""django-q2 entry points: a few lines each; the work is in runner and services."""

import logging

from downloads import services
from downloads.jobs import runner
from downloads.storage import health

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
