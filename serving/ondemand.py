"""Download on demand: a pull of something not installed, by a user allowed to start downloads and with
the Setting on, queues its download through the services and tells the client to come back (503 +
Retry-After). huggingface_hub retries some calls on its own after Retry-After; otherwise the same command
run again succeeds once the variant is installed.

What is queued: the whole repo at the revision asked for, except for a GGUF file, which queues just that
quantization (all parts of a split one): pulling one 4 GB quant must not fetch a repo's 200 GB of others.
A failed download is not re-queued by pulls (a gated repo would be retried at every request): the client
is told why, and an admin fixes the cause and presses Retry.
"""

import re

from django.http import HttpResponse

from downloads import services
from downloads.models import DownloadJob, JobOrigin, JobState, ModelVariant, VariantStatus
from engine.errors import ErrorCode
from engine.selection import InvalidInput
from modelhub.sizes import format_size
from serving.access import Caller
from serving.responses import ENTRY_NOT_FOUND, REPO_NOT_FOUND, REVISION_NOT_FOUND, hub_error
from settings_app.models import Setting

RETRY_AFTER = 30  # seconds: long enough not to hammer the server, short enough for small models
_SPLIT_PART = re.compile(r"-\d{5}-of-(\d{5})\.gguf$")
_GLOB_CHARS = set("*?[]")
_FAILURE_SHAPES = {
    ErrorCode.REPO_NOT_FOUND: (404, REPO_NOT_FOUND),
    ErrorCode.REVISION_NOT_FOUND: (404, REVISION_NOT_FOUND),
    ErrorCode.FILE_NOT_FOUND: (404, ENTRY_NOT_FOUND),
}


def quant_glob(path: str) -> str | None:
    """The include glob for one GGUF quantization: the file, or every part of a split file."""
    if not path.endswith(".gguf") or _GLOB_CHARS & set(path):
        return None
    return _SPLIT_PART.sub(r"-*-of-\1.gguf", path)


def applies(setting: Setting, caller: Caller) -> bool:
    return setting.hub_on_demand and caller.may_start_downloads


def request_download(caller: Caller, *, repo_type: str, repo_id: str, revision: str,
                     path: str = "") -> HttpResponse | None:
    """Queue (or join) the download and answer 503; None when nothing can be queued (the caller then
    answers its usual 404)."""
    glob = quant_glob(path) if path else None
    try:
        variant, _ = services.get_or_create_variant(repo_id=repo_id, repo_type=repo_type, revision=revision,
                                                    include=[glob] if glob else [])
    except InvalidInput:
        return None
    if variant.status == VariantStatus.INSTALLED:
        return None  # installed, yet what was asked is not in it: a plain "not found"
    active = DownloadJob.objects.active().filter(variant=variant).first()
    if active is None and variant.status in (VariantStatus.FAILED, VariantStatus.CORRUPT):
        return _failed(variant)
    if active is None and variant.status == VariantStatus.PAUSED:
        # Someone paused it (bandwidth, a busy link): a pull must not quietly undo that.
        return hub_error(503, None, f"{variant.repo_id}@{variant.revision} is paused on this ModelHub "
                                    f"({variant.status_label}); it continues once someone resumes it "
                                    "(admin: Download jobs, Resume; or `manage.py resume`).")
    job, _ = services.enqueue(variant, requested_by=caller.user, origin=JobOrigin.HUB)
    return being_fetched(variant, job)


def being_fetched(variant: ModelVariant, job: DownloadJob) -> HttpResponse:
    done = ""
    if job.state == JobState.RUNNING and job.bytes_total:
        done = f", {job.percent:.0f}% of {format_size(job.bytes_total)}"
    what = f"{variant.repo_id}@{variant.revision}" + (f" ({', '.join(variant.include)})" if variant.include
                                                       else "")
    message = (f"{what} is not on this ModelHub yet: it is being downloaded now (job {job.pk}, {job.state}"
               f"{done}). Try again in a few minutes: the same command will then succeed.")
    return hub_error(503, None, message, headers={"Retry-After": str(RETRY_AFTER)})


def _failed(variant: ModelVariant) -> HttpResponse:
    job = variant.jobs.order_by("-created_at", "-id").first()
    code = job.error_code if job else ""
    status, shape = _FAILURE_SHAPES.get(code, (502, None))
    reason = (f"[{code}] {job.error_message}" if job and code else variant.problem or variant.status)
    where = f" (job {job.pk})" if job else ""
    return hub_error(status, shape, f"ModelHub could not download {variant.repo_id}@{variant.revision}"
                                    f"{where}: {reason} An admin can fix the cause and press Retry.")
