"""django-q2 entry points: a few lines each; the work is in runner and services."""

from downloads import runner, services


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
    """Periodically: queue a fast verify for installed variants not checked within the interval."""
    return services.reverify_due()
