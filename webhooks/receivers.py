"""Signal receivers: a finished job or a variant's new status becomes deliveries to every webhook URL.

Both signals are sent after the transition commits (downloads.jobs.lifecycle), from inside the
download's own process. So a receiver here must never raise (that would surface in the job's code
path) and must stay cheap: with no URL configured it costs one query.
"""

import logging

from django.dispatch import receiver

from downloads.models import DownloadJob, ModelVariant
from downloads.signals import download_finished, variant_status_changed
from webhooks import payloads, services
from webhooks.models import WebhookEvent

log = logging.getLogger(__name__)


@receiver(download_finished, dispatch_uid="webhooks-download-finished")
def on_download_finished(sender, job, **kwargs):
    try:
        job = DownloadJob.objects.select_related("variant").get(pk=job.pk)
        services.queue(WebhookEvent.JOB_FINISHED, payloads.job_finished(job), job=job, variant=job.variant)
    except Exception:
        log.exception("webhooks: could not queue the end of job %s", getattr(job, "pk", None))


@receiver(variant_status_changed, dispatch_uid="webhooks-variant-status")
def on_variant_status_changed(sender, variant, previous, status, **kwargs):
    try:
        # The status of this change, even if the row has moved on since: each change is one event.
        variant = ModelVariant.objects.get(pk=variant.pk)
        variant.status = status
        payload = payloads.variant_status_changed(variant, previous, status)
        services.queue(WebhookEvent.VARIANT_STATUS, payload, variant=variant)
    except Exception:
        log.exception("webhooks: could not queue the status change of variant %s",
                      getattr(variant, "pk", None))
