"""The admin's home page: what is downloading now, what failed and needs a person, disk space, and what
happened lately. Read-only selectors, a fixed number of queries, no walk of the storage folder (the
Storage page does that); rendered by the `modelhub_dashboard` tag in templates/admin/index.html.
"""

import time
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery, Sum
from django.urls import reverse

from downloads.admin.display import human_size, linkify, progress_bar, state_badge
from downloads.jobs.queue import QueueSnapshot
from downloads.models import DownloadJob, JobEvent, JobState, ModelVariant, PreviousStorage, VariantStatus
from downloads.storage.overview import volume_usage
from settings_app.models import Setting

ACTIVE_SHOWN = 20
FAILURES_SHOWN = 8
EVENTS_SHOWN = 12


@dataclass
class Failure:
    job: DownloadJob
    guidance: str
    retry_url: str


def dashboard(request) -> dict:
    user = request.user
    storage = Setting.load().effective_storage_dir
    usage = volume_usage(storage)
    counts = dict(ModelVariant.objects.values_list("status").annotate(n=Count("pk")).order_by())
    installed = (ModelVariant.objects.filter(status=VariantStatus.INSTALLED)
                 .aggregate(b=Sum("size_bytes"))["b"])
    active = list(DownloadJob.objects.active().select_related("variant")
                  .order_by("created_at")[:ACTIVE_SHOWN])
    queue = QueueSnapshot.take()
    return {
        "active": [{"job": j, "state": state_badge(j), "bar": progress_bar(j), "queue": queue.explain(j),
                    "url": reverse("admin:downloads_downloadjob_change", args=[j.pk])} for j in active],
        "paused": [{"job": j, "url": reverse("admin:downloads_downloadjob_change", args=[j.pk]),
                    "resume_url": reverse("admin:downloads_downloadjob_resume", args=[j.pk]),
                    "kept": human_size(j.variant.partial_bytes) if j.variant.partial_bytes else ""}
                   for j in _latest(JobState.PAUSED, ACTIVE_SHOWN)],
        "failures": _failures(),
        "storage": storage,
        "usage": usage,
        "used_share": round(100 * usage.used / usage.total) if usage and usage.total else None,
        "free": human_size(usage.free) if usage else "—",
        "total": human_size(usage.total) if usage else "—",
        "installed_bytes": human_size(installed or 0),
        "counts": {s.label: counts[s.value] for s in VariantStatus if counts.get(s.value)},
        "variant_total": sum(counts.values()),
        "previous": list(PreviousStorage.objects.values_list("path", flat=True)),
        "events": list(JobEvent.objects.select_related("job__variant").order_by("-at", "-id")[:EVENTS_SHOWN]),
        "can_add": user.has_perm("downloads.add_modelvariant"),
        "can_download": user.has_perm("downloads.download_modelvariant"),
        "can_settings": user.has_perm("settings_app.change_setting"),
        "since": f"{time.time():.3f}",
    }


def _latest(state: str, limit: int) -> list[DownloadJob]:
    """Jobs in `state` that are their variant's latest job (a later job means it was dealt with)."""
    latest = (DownloadJob.objects.filter(variant=OuterRef("variant")).order_by("-created_at", "-id")
              .values("pk")[:1])
    return list(DownloadJob.objects.filter(state=state, pk=Subquery(latest)).select_related("variant")
                .order_by("-finished_at", "-id")[:limit])


def _failures() -> list[Failure]:
    """Variants whose latest job failed: the ones a person has to act on (a later success or a retry
    in progress means it is handled). Newest first, each with its guidance."""
    return [Failure(j, linkify(j.guidance), reverse("admin:downloads_downloadjob_retry", args=[j.pk]))
            for j in _latest(JobState.FAILED, FAILURES_SHOWN)]
