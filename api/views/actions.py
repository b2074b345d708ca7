"""POST actions on a variant (download, cancel, retry, verify, repair, delete-files) and on a job (cancel,
retry): the services the admin's buttons call, with origin "api"."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import permissions
from api.errors import conflict
from api.serializers.actions import (
    CancelledSerializer,
    DeleteFilesInput,
    DeletePlanSerializer,
    JobStartedSerializer,
    VerifyInput,
)
from api.serializers.common import errors
from downloads import services
from downloads.models import DownloadJob, JobOrigin, ModelVariant
from downloads.storage import delete
from engine.selection import InvalidInput

ACTION_ERRORS = errors(400, 401, 403, 404, 409)
STARTED = {202: JobStartedSerializer, 200: JobStartedSerializer, **ACTION_ERRORS}


def started(job: DownloadJob, joined: bool, what: str) -> Response:
    job = DownloadJob.objects.select_related("variant", "requested_by").get(pk=job.pk)
    message = (f"{what}: joined job {job.pk}, already {job.state}" if joined
               else f"{what}: queued job {job.pk}")
    body = JobStartedSerializer({"job": job, "joined": joined, "message": message}).data
    return Response(body, status=status.HTTP_200_OK if joined else status.HTTP_202_ACCEPTED)


def log(request, obj, message: str) -> None:
    """In the object's admin History, as the admin's own buttons record it."""
    LogEntry.objects.log_actions(request.user.pk, [obj], CHANGE, single_object=True,
                                 change_message=f"{message} (API)")


class VariantAction(APIView):
    """Base: the variant from the URL, after the permission check (so a 403 does not reveal ids)."""

    permission_classes = [permissions.needs(permissions.DOWNLOAD)]

    def variant(self, pk: int) -> ModelVariant:
        return get_object_or_404(ModelVariant, pk=pk)


@extend_schema(request=None, responses=STARTED)
class Download(VariantAction):
    def post(self, request, pk: int):
        """Queue a download (or join the one queued or running)."""
        variant = self.variant(pk)
        job, joined = services.enqueue(variant, requested_by=request.user, origin=JobOrigin.API)
        log(request, variant, f"Download: {'joined' if joined else 'queued'} job {job.pk}")
        return started(job, joined, "Download")


@extend_schema(request=None, responses={200: CancelledSerializer, **ACTION_ERRORS})
class CancelVariant(VariantAction):
    def post(self, request, pk: int):
        """Cancel the variant's queued or running job."""
        variant = self.variant(pk)
        job = variant.jobs.active().first()
        if job is None:
            raise conflict(f"{variant} has no queued or running job to cancel.")
        return cancel_job(request, job)


@extend_schema(request=None, responses=STARTED)
class RetryVariant(VariantAction):
    def post(self, request, pk: int):
        """Retry the variant's last finished job (a download when it has none)."""
        variant = self.variant(pk)
        last = variant.jobs.finished().order_by("-created_at", "-id").first()
        if last is None:
            job, joined = services.enqueue(variant, requested_by=request.user, origin=JobOrigin.API)
        else:
            job, joined = services.retry(last, by=request.user, origin=JobOrigin.API)
        log(request, variant, f"Retry: {'joined' if joined else 'queued'} job {job.pk}")
        return started(job, joined, "Retry")


@extend_schema(request=VerifyInput, responses=STARTED)
class Verify(VariantAction):
    def post(self, request, pk: int):
        """Verify the installed files: fast (changed files re-hashed) or full (every file)."""
        variant = self.variant(pk)
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        full = data.validated_data["mode"] == "full"
        try:
            job, joined = services.verify(variant, full=full, by=request.user, origin=JobOrigin.API)
        except InvalidInput as exc:  # never installed: the variant's state, not the request, is the problem
            raise conflict(str(exc)) from None
        log(request, variant, f"Verify ({data.validated_data['mode']}): job {job.pk}")
        return started(job, joined, "Full verify" if full else "Verify")


@extend_schema(request=None, responses=STARTED)
class Repair(VariantAction):
    def post(self, request, pk: int):
        """Re-download only the files the last verification found bad."""
        variant = self.variant(pk)
        try:
            job, joined = services.repair(variant, by=request.user, origin=JobOrigin.API)
        except InvalidInput as exc:  # nothing found bad yet, or files in another cache
            raise conflict(str(exc)) from None
        log(request, variant, f"Repair: job {job.pk}")
        return started(job, joined, "Repair")


@extend_schema(request=DeleteFilesInput, responses={200: DeletePlanSerializer, **ACTION_ERRORS})
class DeleteFiles(VariantAction):
    permission_classes = [permissions.needs(permissions.DELETE_FILES)]

    def post(self, request, pk: int):
        """Delete the variant's files from disk (what another variant uses stays); the variant remains,
        not downloaded. `dry_run`: only say what would go."""
        variant = self.variant(pk)
        data = DeleteFilesInput(data=request.data)
        data.is_valid(raise_exception=True)
        dry_run = data.validated_data["dry_run"]
        if not variant.installed_files:
            raise conflict(f"{variant} has no installed files to delete.")
        plan = (delete.plan_delete([variant]).variants[0] if dry_run
                else delete.delete_variant_files(variant, by=request.user))
        if plan.refused:
            raise conflict(f"{variant}: not deleted, {plan.refused}")
        if not dry_run:
            log(request, variant, f"Deleted files from disk ({plan.bytes_freed} bytes freed)")
        return Response(DeletePlanSerializer({**plan.as_dict(), "dry_run": dry_run}).data)


def cancel_job(request, job: DownloadJob) -> Response:
    outcome = services.cancel(job, by=request.user)
    if outcome.startswith("already"):
        raise conflict(f"Job {job.pk} is {outcome}; nothing to cancel.")
    log(request, job, f"Cancel: {outcome}")
    job = DownloadJob.objects.select_related("variant", "requested_by").get(pk=job.pk)
    return Response(CancelledSerializer({"job": job, "outcome": outcome}).data)
