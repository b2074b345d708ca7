"""POST actions on one job: cancel, retry (a failed or cancelled one), pause and resume (a download keeps
its partial files while paused; resuming queues the same job, which continues from them)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.errors import conflict
from api.serializers.actions import CancelledSerializer, OutcomeSerializer
from api.views.actions import ACTION_ERRORS, STARTED, VariantAction, cancel_job, log, started
from downloads import services
from downloads.jobs import control
from downloads.models import DownloadJob, JobOrigin, JobState


class JobAction(VariantAction):
    def job(self, pk: int) -> DownloadJob:
        return get_object_or_404(DownloadJob, pk=pk)


@extend_schema(request=None, responses={200: CancelledSerializer, **ACTION_ERRORS})
class CancelJob(JobAction):
    def post(self, request, pk: int):
        """Cancel a queued or running job (its partial files are kept)."""
        return cancel_job(request, self.job(pk))


@extend_schema(request=None, responses=STARTED)
class RetryJob(JobAction):
    def post(self, request, pk: int):
        """A new attempt at a failed or cancelled job's work (the old job keeps its record)."""
        job = self.job(pk)
        if job.is_active:
            raise conflict(f"Job {job.pk} is still {job.state}; cancel it first or let it finish.")
        if job.state == JobState.SUCCEEDED:
            raise conflict(f"Job {job.pk} succeeded: nothing to retry (download on the variant fetches "
                           "updates).")
        if job.state == JobState.PAUSED:
            raise conflict(f"Job {job.pk} is paused: resume it instead.")
        new, joined = services.retry(job, by=request.user, origin=JobOrigin.API)
        log(request, job, f"Retry: job {new.pk}")
        return started(new, joined, "Retry")


def _outcome(request, job: DownloadJob, verb: str, outcome: str) -> Response:
    log(request, job, f"{verb}: {outcome}")
    if outcome.startswith("not "):
        raise conflict(f"Job {job.pk}: {outcome}.")
    job = DownloadJob.objects.select_related("variant", "requested_by").get(pk=job.pk)
    return Response(OutcomeSerializer({"job": job, "outcome": outcome}).data)


@extend_schema(request=None, responses={200: OutcomeSerializer, **ACTION_ERRORS})
class PauseJob(JobAction):
    def post(self, request, pk: int):
        """Pause a download: queued ones at once, running ones within about a second; partials are kept."""
        job = self.job(pk)
        return _outcome(request, job, "Pause", control.pause(job, by=request.user))


@extend_schema(request=None, responses={200: OutcomeSerializer, **ACTION_ERRORS})
class ResumeJob(JobAction):
    def post(self, request, pk: int):
        """Queue a paused job again; it continues from its partial files."""
        job = self.job(pk)
        return _outcome(request, job, "Resume", control.resume(job, by=request.user))
