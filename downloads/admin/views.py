"""Custom admin views: the live progress JSON and the job/variant page buttons (the job page's context is
in job_page).

All are wrapped by `admin_site.admin_view` in downloads.admin (staff login, CSRF, never cached); the
POST endpoints also demand the download permission and answer 403 without it.
"""

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from downloads.admin import actions
from downloads.admin.presenters import job_dict
from downloads.jobs.queue import QueueSnapshot
from downloads.models import ACTIVE_STATES, DownloadJob, JobState, ModelVariant, VariantStatus, status_label
from engine.selection import is_db_id

ACTIVE = [s.value for s in ACTIVE_STATES]
BUSY_STATUSES = {VariantStatus.QUEUED.value, VariantStatus.DOWNLOADING.value}
MAX_IDS = 500
RECENT = timedelta(minutes=5)
NEW_JOBS_LIMIT = 50


def _ids(raw: str | None) -> list[int]:
    if not raw:
        return []
    ids = [int(part) for part in raw.split(",") if part.strip()]  # ValueError on garbage: answered with 400
    if len(ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} ids per request")
    if not all(is_db_id(i) for i in ids):  # the database would overflow, not answer "none"
        raise ValueError("an id is out of range")
    return ids


def _job_item(job: DownloadJob, queue: QueueSnapshot | None = None) -> dict:
    """`queue`: why a queued job waits, its place in line and expected size (None for other jobs)."""
    return {**job_dict(job, verification=False), "state_label": job.get_state_display(),
            "url": reverse("admin:downloads_downloadjob_change", args=[job.pk]),
            "queue": queue.explain(job) if queue is not None else None}


def _since(raw: str | None) -> datetime | None:
    """`since`: when the page was rendered (seconds since the epoch, as the page's script tag says)."""
    if not raw:
        return None
    seconds = float(raw)  # ValueError on garbage: answered with 400
    if not 0 <= seconds < 1e11:
        raise ValueError("since is out of range")
    return datetime.fromtimestamp(seconds, UTC)


def overall() -> dict:
    """Every queued and running job together, for the tab title: one query, on the state index."""
    totals = DownloadJob.objects.active().aggregate(
        active=Count("pk"), running=Count("pk", filter=~Q(state=JobState.QUEUED)),
        done=Sum("bytes_done"), total=Sum("bytes_total"))
    done, total = totals["done"] or 0, totals["total"] or 0
    return {"active": totals["active"], "running": totals["running"], "bytes_done": done,
            "bytes_total": total, "percent": round(100.0 * done / total, 1) if total else None}


@require_GET
def progress(request, model_admin):
    """`?ids=1,2` (jobs) and/or `?variants=3,4` (their latest job); neither: active + recently finished
    (none when `since` is given: the page shows nothing live). Always `overall` (every active job, for
    the tab title); with `?since=<epoch seconds>`, `new_jobs`: jobs created since then, wherever they
    were started (command line, another admin, a schedule).

    A fixed number of queries whatever the number of rows: variants with their latest job id, jobs with
    variants, the totals, the new jobs.
    """
    # The variant list polls too: viewing either model is enough to see download progress.
    site = model_admin.admin_site
    variant_admin = site.get_model_admin(ModelVariant) if site.is_registered(ModelVariant) else None
    if not (model_admin.has_view_permission(request)
            or (variant_admin is not None and variant_admin.has_view_permission(request))):
        raise PermissionDenied
    try:
        job_ids, variant_ids = _ids(request.GET.get("ids")), _ids(request.GET.get("variants"))
        since = _since(request.GET.get("since"))
    except ValueError as exc:
        return JsonResponse({"error": f"ids must be comma-separated integers, since a number ({exc})"},
                            status=400)

    # Not the variant's manifest nor the job's verification report: a 5000-file repo's manifest took
    # ~90 ms per poll to load and parse, and neither is shown live.
    jobs_qs = DownloadJob.objects.select_related("variant").defer("variant__manifest", "verification")
    variant_rows = []
    if variant_ids:
        latest = (DownloadJob.objects.filter(variant=OuterRef("pk")).order_by("-created_at", "-id")
                  .values("pk")[:1])
        variant_rows = list(ModelVariant.objects.filter(pk__in=variant_ids).annotate(job_id=Subquery(latest))
                            .values("pk", "status", "job_id", "partial_bytes", "size_bytes"))
    if job_ids or variant_ids:
        wanted = set(job_ids) | {row["job_id"] for row in variant_rows if row["job_id"]}
        jobs = list(jobs_qs.filter(pk__in=wanted).order_by("created_at", "id"))
    elif since is not None:  # a page that shows no active job: only news and totals
        jobs = []
    else:
        recent = timezone.now() - RECENT
        jobs = list(jobs_qs.filter(Q(state__in=ACTIVE) | Q(finished_at__gte=recent))
                    .order_by("created_at", "id")[:MAX_IDS])

    variants = {row["pk"]: {"id": row["pk"], "status": row["status"], "job_id": row["job_id"],
                            "status_label": status_label(row["status"], row["partial_bytes"],
                                                         row["size_bytes"])}
                for row in variant_rows}
    for job in jobs:  # variants of the listed jobs too, so every status badge on the page can follow
        variants.setdefault(job.variant_id, {"id": job.variant_id, "status": job.variant.status,
                                             "job_id": job.pk, "status_label": job.variant.status_label})
    active = (any(j.state in ACTIVE for j in jobs)
              or any(v["status"] in BUSY_STATUSES for v in variants.values()))
    # Queued jobs say why they wait: one snapshot (three small queries) for all of them.
    queue = QueueSnapshot.take() if any(j.state == JobState.QUEUED for j in jobs) else None
    answer = {"jobs": [_job_item(j, queue) for j in jobs], "variants": list(variants.values()),
              "active": active, "overall": overall()}
    if since is not None:
        answer["new_jobs"] = [
            {"job_id": pk, "variant_id": variant_id, "label": f"{repo_id} [{name}]" if name else repo_id,
             "url": reverse("admin:downloads_downloadjob_change", args=[pk])}
            for pk, variant_id, repo_id, name in (
                DownloadJob.objects.filter(created_at__gt=since).order_by("-created_at", "-id")
                .values_list("pk", "variant_id", "variant__repo_id", "variant__name")[:NEW_JOBS_LIMIT])]
    return JsonResponse(answer)


@require_POST
def job_button(request, model_admin, pk: int, action: str):
    """Cancel / Pause / Resume / Retry on the job page. JSON for the page's script, a redirect with messages
    without it."""
    actions.require_download_permission(request)
    job = get_object_or_404(DownloadJob.objects.select_related("variant"), pk=pk)
    run = {"cancel": actions.cancel_jobs, "pause": actions.pause_jobs, "resume": actions.resume_jobs,
           "retry": actions.retry_jobs}[action]
    report = run(model_admin, request, [job])
    job.refresh_from_db()
    follow = (report.new or report.joined or [job])[0] if action == "retry" else job
    follow_url = reverse("admin:downloads_downloadjob_change", args=[follow.pk])
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"ok": not report.problems, "message": report.text(), "job": _job_item(job),
                             "follow_url": follow_url if follow.pk != job.pk else None})
    report.send(model_admin, request)
    return redirect(follow_url)


@require_POST
def variant_button(request, model_admin, pk: int, action: str):
    """Download / Resume / Verify / Pause / Cancel on the variant page (a normal POST, back to the page)."""
    actions.require_download_permission(request)
    variant = get_object_or_404(ModelVariant, pk=pk)
    run = {"download": actions.download, "verify": actions.verify, "cancel": actions.cancel_variants,
           "pause": actions.pause_variants, "resume": actions.resume_variants}[action]
    run(model_admin, request, [variant]).send(model_admin, request)
    return redirect(reverse("admin:downloads_modelvariant_change", args=[pk]))
