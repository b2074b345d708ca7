"""Reads for the API: variants with their active job and last verification, in a constant number of
queries per page (never one per row)."""

from django.db.models import OuterRef, Subquery

from downloads.models import DownloadJob, JobState, ModelVariant
from downloads.storage.overview import storage_dir, variant_size_on_disk

RECENT_JOBS = 5


def variants(filters: dict):
    qs = ModelVariant.objects.order_by("repo_id", "revision", "name", "pk")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("repo"):
        repo = filters["repo"]
        qs = qs.filter(repo_id__startswith=repo[:-1]) if repo.endswith("*") else qs.filter(repo_id=repo)
    for field in ("repo_type", "kind", "revision"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    return qs.annotate(api_last_verification_id=Subquery(_last_verifications().values("pk")[:1]))


def _last_verifications():
    finished = [JobState.SUCCEEDED, JobState.FAILED]
    return (DownloadJob.objects.filter(variant=OuterRef("pk"), state__in=finished)
            .exclude(verification={}).order_by("-finished_at", "-id"))


def attach(page: list[ModelVariant]) -> list[ModelVariant]:
    """Give each variant of a page `api_active_job` and `api_last_verification` (two queries)."""
    ids = [v.pk for v in page]
    active = {j.variant_id: j for j in DownloadJob.objects.active().filter(variant_id__in=ids)}
    wanted = [v.api_last_verification_id for v in page if getattr(v, "api_last_verification_id", None)]
    verified = {j.pk: j for j in DownloadJob.objects.filter(pk__in=wanted).only("pk", "verification")}
    for v in page:
        v.api_active_job = active.get(v.pk)
        v.api_last_verification = verified.get(getattr(v, "api_last_verification_id", None))
    return page


def detail(variant: ModelVariant) -> ModelVariant:
    """One variant with the list's attachments plus its size on disk and newest jobs."""
    attach([variant])
    installed = variant.installed_files
    variant.api_size_on_disk = variant_size_on_disk(variant, storage_dir()) if installed else None
    variant.api_installed_files = len(variant.installed_files)
    variant.api_recent_jobs = list(variant.jobs.select_related("variant", "requested_by")
                                   .order_by("-created_at", "-id")[:RECENT_JOBS])
    return variant


def jobs(filters: dict):
    qs = DownloadJob.objects.select_related("variant", "requested_by").order_by("-created_at", "-id")
    if filters.get("variant"):
        qs = qs.filter(variant_id=filters["variant"])
    for field in ("state", "kind"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("active") is True:
        qs = qs.active()
    elif filters.get("active") is False:
        qs = qs.finished()
    return qs
