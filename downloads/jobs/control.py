"""Pause and resume: what the admin, the commands and the API ask of a download besides cancel.

Pause stops a download as a cancel does, keeping its partial files, and leaves the job paused; Resume
queues the same job again, whose next run continues from those partials. The transitions themselves
are in lifecycle; like services.cancel, these choose between "at once" and "ask the worker".
"""

from django.db import transaction

from downloads import services
from downloads.jobs import lifecycle
from downloads.models import DownloadJob, JobKind, JobState


def _who(by) -> str:
    return f" by {by.get_username()}" if getattr(by, "is_authenticated", False) else ""


def pause(job: DownloadJob, *, by=None) -> str:
    """At once when queued (or its worker is gone); a running job stops within about a second."""
    job.refresh_from_db()
    if job.kind == JobKind.VERIFY:
        return "not paused: a verification has nothing to resume (cancel it instead)"
    if job.state == JobState.QUEUED or services.is_stale(job):
        if lifecycle.pause_now(job, _who(by)):
            transaction.on_commit(services.dispatch)  # its queue slot is free
            return "paused"
        job.refresh_from_db()
    if job.is_working:
        lifecycle.request_pause(job, _who(by))
        return "pause requested"
    return f"not paused: already {job.state}"


def resume(job: DownloadJob, *, by=None, run_here: bool = False) -> str:
    """Queue a paused job again (`run_here`: the caller runs it, as `resume --wait` does)."""
    job.refresh_from_db()
    if job.state != JobState.PAUSED:
        return f"not resumed: it is {job.state}, not paused"
    if not lifecycle.unpause(job, _who(by), run_here=run_here):
        other = DownloadJob.objects.active().filter(variant=job.variant_id).first()
        return f"not resumed: job {other.pk} of the same variant is {other.state}" if other else \
            "not resumed: it changed meanwhile"
    if not run_here:
        transaction.on_commit(services.dispatch)
    return "queued again"
