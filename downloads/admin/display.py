"""HTML fragments of the admin: badges, progress bars, human sizes, guidance with clickable links.

Everything goes through format_html, so values are escaped. Live elements carry `data-mh-job` (the job
id) and `data-mh-field` (what they show); downloads/static/downloads/progress.js updates them in place
from the progress endpoint, so the server-side rendering and the live one stay the same markup.
"""

import re
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from downloads.models import ACTIVE_STATES, DownloadJob, ModelVariant
from modelhub.sizes import format_size

ACTIVE = {s.value for s in ACTIVE_STATES}
# http(s) URLs up to whitespace or a quote/bracket; trailing sentence punctuation is not part of a link.
# http(s) URLs, and paths inside this admin (guidance written by a worker, which doesn't know the
# site's own address, names the Settings page as /admin/settings_app/setting/).
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+|(?<![\w/:.])/admin/[^\s<>\"'()\[\]{}]*")
_TRAILING = ".,;:!?"


def human_size(n: int | float | None) -> str:
    return format_size(n) if n is not None else "—"


def human_speed(bps: float | None) -> str:
    return f"{format_size(bps)}/s" if bps else ""


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def human_eta(seconds: float | None) -> str:
    return f"{human_duration(seconds)} left" if seconds is not None else ""


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """"3 min ago": what a person reads at a glance in a list (the exact time is in the title)."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def exact_time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else ""


def clipped(text: str, cls: str = "") -> SafeString:
    """One line cut with an ellipsis by the stylesheet when it is too long; the whole text on hover."""
    return format_html('<span class="mh-clip {}" title="{}">{}</span>', cls, text, text)


def variant_cell(variant: ModelVariant) -> SafeString:
    """The variant in one cell: its name, then repo and revision on a quiet line, so a long name cannot
    push status and progress off the screen (each line is clipped, full text on hover). The list adds
    type, kind and age below (list_cells.kind_line)."""
    repo = variant.repo_id + (f"@{variant.revision}" if variant.revision != "main" else "")
    return format_html("{}{}", clipped(variant.name or variant.repo_id, "mh-name"), clipped(repo, "mh-sub"))


def variant_status_cell(variant: ModelVariant) -> SafeString:
    """Status badge, an "update available" badge only when there is one, and when it was verified."""
    update = (format_html(' <span class="mh-badge mh-badge-update" title="upstream is at {}">update</span>',
                          variant.upstream_commit[:12]) if variant.update_available else "")
    verified = (format_html('<span class="mh-sub" title="{}">verified {}</span>',
                            exact_time(variant.last_verified_at), relative_time(variant.last_verified_at))
                if variant.last_verified_at else "")
    return format_html("{}{}{}", status_badge(variant), update, verified)


def state_badge(job: DownloadJob) -> SafeString:
    return format_html('<span class="mh-badge mh-state-{}" data-mh-job="{}" data-mh-field="state" '
                       'data-mh-state="{}">'
                       "{}</span>", job.state, job.pk, job.state, job.get_state_display())


def status_badge(variant: ModelVariant) -> SafeString:
    return format_html('<span class="mh-badge mh-status-{}" data-mh-variant="{}" data-mh-field="status" '
                       'data-mh-status="{}">{}</span>', variant.status, variant.pk, variant.status,
                       variant.status_label)  # "partial (30 %)": how much a stopped download kept


def progress_bar(job: DownloadJob | None, *, variant_id: int | None = None, sizes: bool = True,
                 rate: bool = True) -> SafeString:
    """Bar + percent (+ bytes done/total, speed and ETA). In a variant row it follows that variant's
    latest job."""
    follow = format_html(' data-mh-variant-progress="{}"', variant_id) if variant_id else ""
    if job is None:  # a hidden bar the live update can fill once a job appears
        return format_html('<div class="mh-progress" hidden{}></div>', follow)
    pct = f"{job.percent:.1f}"
    # Not "0 B / 0 B" before the size is known (a queued job's line says what it expects)
    known = f"{human_size(job.bytes_done)} / {human_size(job.bytes_total)}" if job.bytes_total else ""
    extra = format_html(' <span class="mh-bytes" data-mh-job="{}" data-mh-field="bytes">{}</span>',
                        job.pk, known) if sizes else ""
    if rate:
        extra = format_html("{} {} {}", extra, live_speed(job), live_eta(job))
    return format_html(
        '<div class="mh-progress"{follow} data-mh-job="{id}" data-mh-field="progress" '
        'data-mh-state="{state}">'
        '<a class="mh-bar" href="{url}" role="progressbar" aria-label="Job {id} progress" aria-valuemin="0" '
        'aria-valuemax="100" aria-valuenow="{pct}" data-mh-job="{id}" data-mh-field="bar">'
        '<span class="mh-bar-fill mh-fill-{state}" style="width: {pct}%" data-mh-job="{id}" '
        'data-mh-field="fill">'
        '</span></a> <span class="mh-pct" data-mh-job="{id}" data-mh-field="pct">{pct}%</span>{extra}</div>',
        follow=follow, id=job.pk, state=job.state, pct=pct, extra=extra,
        url=reverse("admin:downloads_downloadjob_change", args=[job.pk]),
    )


def live_speed(job: DownloadJob) -> SafeString:
    return format_html('<span class="mh-speed" data-mh-job="{}" data-mh-field="speed">{}</span>', job.pk,
                       human_speed(job.speed_bps if job.is_active else 0))


def live_eta(job: DownloadJob) -> SafeString:
    return format_html('<span class="mh-eta" data-mh-job="{}" data-mh-field="eta">{}</span>', job.pk,
                       human_eta(job.eta_seconds))


def linkify(text: str | None) -> SafeString:
    """Escape the text, and turn its http(s) URLs and /admin/ paths into links. The URL itself is escaped
    too (as the link text and inside href), so nothing in guidance or an error message can inject markup."""
    text = text or ""
    pieces = []
    at = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        pieces.append(format_html("{}", text[at:match.start()]))
        if url.startswith("/"):
            pieces.append(format_html('<a href="{}">{}</a>', url, url))
        else:
            pieces.append(format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>',
                                      url, url))
        at = end
    pieces.append(format_html("{}", text[at:]))
    return mark_safe("".join(pieces))


def job_links(jobs) -> SafeString:
    return format_html_join(", ", '<a href="{}">{}</a>',
                            ((reverse("admin:downloads_downloadjob_change", args=[j.pk]), j.pk)
                             for j in jobs))
