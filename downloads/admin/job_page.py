"""The job page's own context: a readable header and title, the live state panel's buttons, why a queued
job waits, a finished job's sizes, duration and average speed, guidance, verification and events.

One rule keeps the page coherent: whatever moves while the job is active (bytes, files, commit) is
either live (progress.js updates it) or not shown until the job has stopped; static numbers appear only
once they can no longer change.
"""

from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from downloads.admin.display import (
    human_duration,
    human_size,
    linkify,
    progress_bar,
    relative_time,
    state_badge,
)
from downloads.guidance import as_on_disk
from downloads.jobs import partials
from downloads.jobs.queue import QueueSnapshot
from downloads.models import ACTIVE_STATES, DownloadJob, JobKind, JobState
from modelhub.sizes import format_size

EVENT_LIMIT = 1000


def header(job: DownloadJob) -> str:
    """"Q8_0 · TheBloke/Llama-2-7B-GGUF · download #3": what, from where, which attempt."""
    variant = job.variant
    repo = variant.repo_id + (f"@{variant.revision}" if variant.revision != "main" else "")
    parts = [variant.name] if variant.name and variant.name != variant.repo_id else []
    return " · ".join([*parts, repo, f"{job.kind} #{job.pk}"])


def duration(job: DownloadJob) -> float | None:
    if job.started_at is None or job.finished_at is None:
        return None
    return max(0.0, (job.finished_at - job.started_at).total_seconds())


def summary(job: DownloadJob) -> list[str]:
    """A stopped job's numbers, each a short line; nothing while it is active (the live bar has them)."""
    if job.is_active:
        return []
    lines = []
    if job.bytes_total:
        files = f" · {job.files_done} of {job.files_total} files" if job.files_total else ""
        lines.append(f"{format_size(job.bytes_done)} of {format_size(job.bytes_total)}{files}")
    took = duration(job)
    if took is not None:
        speed = (f" · average {format_size(job.bytes_transferred / took)}/s"
                 if took > 0 and job.bytes_transferred else "")
        lines.append(f"took {human_duration(took)}{speed}")
    if job.bytes_transferred or job.bytes_resumed:
        resumed = f", {format_size(job.bytes_resumed)} resumed from earlier partial files" \
            if job.bytes_resumed else ""
        lines.append(f"{format_size(job.bytes_transferred)} received over the network{resumed}")
    return lines


def kept_text(job: DownloadJob, kept: int | None) -> str:
    """Whether the partial files of a stopped download are still there, from the disk, not from memory."""
    if kept is None:
        return ""
    how = "when you resume it" if job.state == JobState.PAUSED else "by Retry or the next Download"
    if kept:
        return f"The {format_size(kept)} already downloaded is on disk and will be reused {how}."
    return "Nothing was kept on disk: the next download starts from the beginning."


def _checked(stamp) -> str:
    """'checked 3 min ago', the exact time on hover (the report stores an ISO timestamp)."""
    moment = parse_datetime(stamp) if isinstance(stamp, str) else None
    if moment is None:
        return ""
    return format_html('— checked <span title="{}">{}</span>', f"{moment:%Y-%m-%d %H:%M:%S %Z}".strip(),
                       relative_time(moment))


def context(model_admin, request, object_id) -> dict:
    try:
        job = DownloadJob.objects.select_related("variant").get(pk=int(object_id))
    except (ValueError, DownloadJob.DoesNotExist):
        return {}  # the admin's own "does not exist" handling takes over
    report = job.verification or {}
    events = list(job.events.order_by("-at", "-id")[:EVENT_LIMIT])[::-1]
    title = header(job)
    kept = partials.kept_bytes(job)
    return {
        "job": job,
        "title": title,
        "subtitle": None,  # Django's "Job 3 (download) for 7: running" would go stale under the live badge
        "state_title": job.get_state_display().capitalize(),
        "can_download": model_admin.has_download_permission(request),
        "can_pause": job.kind != JobKind.VERIFY,
        "queue": QueueSnapshot.take().explain(job) if job.state == JobState.QUEUED else None,
        "summary": summary(job),
        "kept_text": kept_text(job, kept),
        "guidance_html": linkify(as_on_disk(job.guidance, kept)) if job.guidance else "",
        "error_html": linkify(job.error_message) if job.error_message else "",
        "show_guidance": (job.state in (JobState.FAILED, JobState.CANCELLED, JobState.PAUSED)
                          and (job.error_code or job.guidance or job.state == JobState.PAUSED)),
        "state_html": state_badge(job),
        "progress_html": progress_bar(job),
        "report": report,
        "checked_html": _checked(report.get("checked_at")),
        "report_rows": [{**row, "size_expected_human": human_size(row.get("size_expected")),
                         "size_actual_human": human_size(row.get("size_actual"))}
                        for row in report.get("files") or []],
        "events": events,
        "events_truncated": job.events.count() > EVENT_LIMIT if len(events) == EVENT_LIMIT else False,
        "active_states": [s.value for s in ACTIVE_STATES],
    }


def queue_line(job: DownloadJob, snapshot: QueueSnapshot | None) -> str:
    """The live "3rd in line · 2 of 2 download slots in use · 1.2 GB to download" under a bar."""
    info = snapshot.explain(job) if snapshot is not None else None
    return format_html('<span class="mh-queue mh-sub" data-mh-job="{}" data-mh-field="queue"{}>{}</span>',
                       job.pk, "" if info else " hidden", info["text"] if info else "")
