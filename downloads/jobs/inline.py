"""Running a job in the calling process (download --wait, verify, repair --wait).

Same code as a worker (runner.run_job), plus: if the job is running in another process, follow it;
if it fails with a transient error, run the next attempt here too, as a worker would.
"""

import time
from collections.abc import Callable

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, JobOrigin, JobState


def run_and_follow(job: DownloadJob, *, reporter: Callable[[DownloadJob], None] | None = None,
                   poll: float = 1.0) -> DownloadJob:
    while True:
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
