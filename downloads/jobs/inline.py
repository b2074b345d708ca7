"""Running a job in the calling process (download --wait, verify, repair --wait).

Same code as a worker (runner.run_job), plus: if the job is running in another process, follow it;
if it fails with a transient error, run the next attempt here too, as a worker would. A download run
here respects max_concurrent_downloads like the workers: it waits for a slot first, saying so
(`on_wait`); a verify moves no bytes from the Hub and runs at once.
"""

import time
from collections.abc import Callable

from downloads import services
from downloads.jobs import runner
from downloads.jobs.queue import QueueSnapshot
from downloads.models import DownloadJob, JobKind, JobOrigin, JobState


def run_and_follow(job: DownloadJob, *, reporter: Callable[[DownloadJob], None] | None = None,
                   poll: float = 1.0, on_wait: Callable[[str], None] | None = None) -> DownloadJob:
    while True:
        if job.state == JobState.QUEUED and job.kind != JobKind.VERIFY:
            job = wait_for_slot(job, on_wait, poll)
        ran = runner.run_job(job.pk, reporter=reporter) if job.state == JobState.QUEUED else None
        if ran is None:  # someone else runs it: follow until it ends
            job = _follow(job.pk, reporter, poll)
            next_job = DownloadJob.objects.filter(variant=job.variant, pk__gt=job.pk,
                                                  origin=JobOrigin.RETRY).first()
        else:
            job = ran
            next_job = services.after_job(job, run_here=True)
        if next_job is None or not next_job.is_active:
            return job
        job = next_job


def _follow(job_id: int, reporter, poll: float) -> DownloadJob:
    while True:
        job = DownloadJob.objects.select_related("variant").get(pk=job_id)
        if reporter:
            reporter(job)
        if not job.is_active:
            return job
        if services.is_stale(job):
            services.reap_lost_jobs()
            continue
        time.sleep(poll)


def wait_for_slot(job: DownloadJob, on_wait: Callable[[str], None] | None, poll: float) -> DownloadJob:
    """Until the job may run without exceeding the global cap (or someone else took or ended it). On
    Ctrl-C meanwhile the job is cancelled, so no queued job is left behind for nobody."""
    said = ""
    try:
        while True:
            job = DownloadJob.objects.select_related("variant").get(pk=job.pk)
            snapshot = QueueSnapshot.take()
            if job.state != JobState.QUEUED or snapshot.slot_free(job):
                return job
            text = snapshot.explain(job)["text"]
            if on_wait and text != said:
                on_wait(f"Waiting for a download slot: {text} (max concurrent downloads in Settings)")
                said = text
            services.reap_lost_jobs()  # a dead worker's job frees its slot
            time.sleep(poll)
    except KeyboardInterrupt:
        services.cancel(job)
        raise
