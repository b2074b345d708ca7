"""What the admin's actions and buttons do: call a service per object, log it, tell the user.

The list actions, the job page buttons and the variant page buttons share these functions, so a
Download from the list and a Download from a button queue, log and report the same way.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from downloads import services
from downloads.admin.display import job_links
from downloads.jobs import control
from downloads.models import DownloadJob, JobKind, JobOrigin, JobState, ModelVariant
from engine.selection import InvalidInput

PERMISSION = "downloads.download_modelvariant"


def require_download_permission(request) -> None:
    """The actions are hidden without the permission; this refuses them even when posted by hand."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("You may view downloads but not start, cancel or retry them.")


@dataclass
class Report:
    verb: str  # "Download", "Verify"...
    new: list[DownloadJob] = field(default_factory=list)
    joined: list[DownloadJob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, job: DownloadJob, joined: bool) -> None:
        (self.joined if joined else self.new).append(job)

    def text(self) -> str:
        """The same report as plain text, for the JSON answers of the job page buttons."""
        parts = []
        if self.new:
            parts.append(f"{self.verb}: queued {len(self.new)} new job(s): "
                         f"{', '.join(str(j.pk) for j in self.new)}.")
        if self.joined:
            parts.append(f"{len(self.joined)} job(s) were already queued or running and were joined: "
                         f"{', '.join(str(j.pk) for j in self.joined)}.")
        return " ".join(parts + self.notes + self.problems) or f"{self.verb}: nothing to do."

    def send(self, model_admin, request) -> None:
        parts = []
        if self.new:
            parts.append(format_html("{}: queued {} new job(s): {}.", self.verb, len(self.new),
                                     job_links(self.new)))
        if self.joined:
            parts.append(format_html("{} job(s) were already queued or running and were joined: {}.",
                                     len(self.joined), job_links(self.joined)))
        parts += [format_html("{}", note) for note in self.notes]
        if parts:
            model_admin.message_user(request, mark_safe(" ".join(parts)), messages.SUCCESS)
        if self.problems:
            model_admin.message_user(request, format_html_join(" ", "{}", ((p,) for p in self.problems)),
                                     messages.WARNING)
        if not parts and not self.problems:
            model_admin.message_user(request, f"{self.verb}: nothing to do.", messages.INFO)



def _log(model_admin, request, obj, message: str) -> None:
    model_admin.log_change(request, obj, message)


def _queued(report: Report, model_admin, request, obj, job: DownloadJob, joined: bool, what: str) -> None:
    report.add(job, joined)
    _log(model_admin, request, obj,
         f"{what}: joined active job {job.pk}" if joined else f"{what}: queued job {job.pk}")


# --- on variants ----------------------------------------------------------------------------------
def download(model_admin, request, variants) -> Report:
    require_download_permission(request)
    report = Report("Download")
    variants = list(variants)
    for variant, (job, joined) in zip(variants, services.enqueue_downloads(
            variants, requested_by=request.user, origin=JobOrigin.ADMIN), strict=True):
        _queued(report, model_admin, request, variant, job, joined, "Download")
    return report


def verify(model_admin, request, variants, *, full: bool = False) -> Report:
    require_download_permission(request)
    report = Report("Full re-hash verify" if full else "Verify")
    for variant in variants:
        try:
            job, joined = services.verify(variant, full=full, by=request.user, origin=JobOrigin.ADMIN)
        except InvalidInput as exc:
            report.problems.append(str(exc))
            continue
        _queued(report, model_admin, request, variant, job, joined, report.verb)
    return report


def repair(model_admin, request, variants) -> Report:
    require_download_permission(request)
    report = Report("Repair")
    for variant in variants:
        try:
            job, joined = services.repair(variant, by=request.user, origin=JobOrigin.ADMIN)
        except InvalidInput as exc:
            report.problems.append(str(exc))
            continue
        _queued(report, model_admin, request, variant, job, joined, "Repair")
    return report


def cancel_variants(model_admin, request, variants: list[ModelVariant]) -> Report:
    require_download_permission(request)
    report = Report("Cancel")
    for variant in variants:
        job = variant.jobs.active().first()
        if job is None:
            report.problems.append(f"{variant}: no queued or running job to cancel.")
            continue
        outcome = services.cancel(job, by=request.user)
        _log(model_admin, request, variant, f"Cancel job {job.pk}: {outcome}")
        report.notes.append(f"Job {job.pk} ({variant}): {outcome}.")
    return report


def paused_job(variant: ModelVariant) -> DownloadJob | None:
    """The variant's latest job when it is paused: what its Resume continues. Only the latest, since a
    newer job of the variant supersedes its paused ones."""
    latest = variant.jobs.order_by("-created_at", "-id").first()
    return latest if latest is not None and latest.state == JobState.PAUSED else None


def pausable_job(variant: ModelVariant) -> DownloadJob | None:
    """Its queued or running download, which the job page offers to pause too (not a verification: it
    has nothing to resume; not while verifying: the bytes are all there)."""
    return (variant.jobs.filter(state__in=(JobState.QUEUED, JobState.RUNNING))
            .exclude(kind=JobKind.VERIFY).first())


def pause_variants(model_admin, request, variants) -> Report:
    # Its active job whatever it is: the service explains why a verification is not paused.
    return _control_variants(model_admin, request, variants, "Pause", control.pause,
                             lambda variant: variant.jobs.active().first(),
                             "no queued or running job to pause")


def resume_variants(model_admin, request, variants) -> Report:
    return _control_variants(model_admin, request, variants, "Resume", control.resume, paused_job,
                             "no paused job to resume")


def _control_variants(model_admin, request, variants, verb: str, action, pick, missing: str) -> Report:
    """Pause or Resume the job `pick` finds for each variant, reported as the job list's action does."""
    require_download_permission(request)
    jobs, problems = [], []
    for variant in variants:
        job = pick(variant)
        if job is None:
            problems.append(f"{variant}: {missing}.")
        else:
            jobs.append(job)
    report = _control_jobs(model_admin, request, jobs, verb, action)
    report.problems[:0] = problems
    return report


def retry_variants(model_admin, request, variants: list[ModelVariant]) -> Report:
    require_download_permission(request)
    report = Report("Retry")
    for variant in variants:
        last = (variant.jobs.finished()
                .order_by("-created_at", "-id").first())
        if last is None:
            job, joined = services.enqueue(variant, requested_by=request.user, origin=JobOrigin.ADMIN)
        else:
            job, joined = services.retry(last, by=request.user, origin=JobOrigin.ADMIN)
        _queued(report, model_admin, request, variant, job, joined,
                f"Retry of job {last.pk}" if last else "Retry (no earlier job): download")
    return report


# --- on jobs --------------------------------------------------------------------------------------
def cancel_jobs(model_admin, request, jobs) -> Report:
    require_download_permission(request)
    report = Report("Cancel")
    for job in jobs:
        outcome = services.cancel(job, by=request.user)
        _log(model_admin, request, job, f"Cancel: {outcome}")
        report.notes.append(f"Job {job.pk}: {outcome}.")
    return report


def retry_jobs(model_admin, request, jobs) -> Report:
    require_download_permission(request)
    report = Report("Retry")
    for job in jobs:
        if job.is_active:
            report.problems.append(f"Job {job.pk} is still {job.state}; cancel it first or let it finish.")
            continue
        if job.state in (JobState.SUCCEEDED, JobState.PAUSED):
            report.problems.append(
                f"Job {job.pk} succeeded: nothing to retry (Download on the variant fetches updates)."
                if job.state == JobState.SUCCEEDED else f"Job {job.pk} is paused: Resume it instead.")
            continue
        new, joined = services.retry(job, by=request.user, origin=JobOrigin.ADMIN)
        _queued(report, model_admin, request, job, new, joined, "Retry")
    return report


def pause_jobs(model_admin, request, jobs) -> Report:
    return _control_jobs(model_admin, request, jobs, "Pause", control.pause)


def resume_jobs(model_admin, request, jobs) -> Report:
    return _control_jobs(model_admin, request, jobs, "Resume", control.resume)


def _control_jobs(model_admin, request, jobs, verb: str, action) -> Report:
    """Pause or Resume: the outcome per job, a problem when it was "not …" done."""
    require_download_permission(request)
    report = Report(verb)
    for job in jobs:
        outcome = action(job, by=request.user)
        _log(model_admin, request, job, f"{verb}: {outcome}")
        (report.problems if outcome.startswith("not ") else report.notes).append(f"Job {job.pk}: {outcome}.")
    return report
