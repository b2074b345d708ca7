"""ModelHub's state as Prometheus metrics, read from the database at every scrape.

A collector, not counters kept in the process: gunicorn runs several web workers and the downloads run in
qcluster processes, so in-process counters would differ per process and restart at zero. The database
already holds every job, pull and delivery; counting them at scrape time gives the same answer from any
worker. The "_total" counters are sums over rows ModelHub keeps (jobs, the pull log): they only grow,
except when rows are deleted, which Prometheus's rate() treats as a counter reset.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from downloads.models import DownloadJob, JobState, ModelVariant, PreviousStorage, VariantStatus, WorkerBeat
from downloads.storage.overview import volume_usage
from engine.errors import ErrorCode
from modelhub.health import WORKER_SILENCE
from serving.models import PullLog
from settings_app.models import Setting

log = logging.getLogger(__name__)

# Failures found by verifying the files (as opposed to failures to fetch them).
VERIFICATION_CODES = (ErrorCode.VERIFICATION_FAILED, ErrorCode.FORMAT_INVALID, ErrorCode.INCOMPLETE)


def _counts(queryset, field: str) -> dict:
    return dict(queryset.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))


def jobs():
    by_state = _counts(DownloadJob.objects.all(), "state")
    gauge = GaugeMetricFamily("modelhub_jobs",
                              "Jobs by state (download, repair and verify).", labels=["state"])
    for state in JobState:
        gauge.add_metric([state.value], by_state.get(state.value, 0))
    yield gauge
    yield GaugeMetricFamily("modelhub_queue_depth", "Jobs queued, waiting for a worker.",
                            value=by_state.get(JobState.QUEUED.value, 0))
    failed = DownloadJob.objects.filter(state=JobState.FAILED)
    failures = CounterMetricFamily("modelhub_job_failures", "Failed jobs by error code.", labels=["code"])
    for code, n in sorted(_counts(failed, "error_code").items()):
        failures.add_metric([code or "unknown"], n)
    yield failures
    verification = CounterMetricFamily("modelhub_verification_failures",
                                       "Jobs failed by verifying the files, by error code.", labels=["code"])
    by_code = _counts(failed.filter(error_code__in=VERIFICATION_CODES), "error_code")
    for code in VERIFICATION_CODES:
        verification.add_metric([code.value], by_code.get(code.value, 0))
    yield verification
    done = DownloadJob.objects.finished().aggregate(n=Sum("bytes_transferred"))["n"] or 0
    yield CounterMetricFamily("modelhub_downloaded_bytes", "Bytes received from the Hub by finished jobs.",
                              value=done)


def variants():
    by_status = _counts(ModelVariant.objects.all(), "status")
    gauge = GaugeMetricFamily("modelhub_variants", "Model variants by status.", labels=["status"])
    for status in VariantStatus:
        gauge.add_metric([status.value], by_status.get(status.value, 0))
    yield gauge
    installed = ModelVariant.objects.filter(status=VariantStatus.INSTALLED).aggregate(n=Sum("size_bytes"))
    yield GaugeMetricFamily("modelhub_installed_bytes", "Size of the installed variants' files.",
                            value=installed["n"] or 0)


def served():
    total = PullLog.objects.aggregate(n=Sum("bytes_served"))["n"] or 0
    yield CounterMetricFamily("modelhub_hub_served_bytes",
                              "Bytes served to clients by the Hub endpoint (/hub).",
                              value=total)
    pulls = CounterMetricFamily("modelhub_hub_requests", "File requests answered by /hub, by HTTP status.",
                                labels=["status"])
    for status, n in sorted(_counts(PullLog.objects.all(), "status").items()):
        pulls.add_metric([str(status)], n)
    yield pulls


def storage():
    setting = Setting.load()
    locations = [(str(setting.effective_storage_dir), "current")]
    locations += [(path, "previous") for path in PreviousStorage.objects.values_list("path", flat=True)]
    labels = ["location", "role"]
    used = GaugeMetricFamily("modelhub_storage_used_bytes",
                             "Used space on the volume of each storage folder.",
                             labels=labels)
    free = GaugeMetricFamily("modelhub_storage_free_bytes",
                             "Free space on the volume of each storage folder.",
                             labels=labels)
    size = GaugeMetricFamily("modelhub_storage_size_bytes", "Size of the volume of each storage folder.",
                             labels=labels)
    for path, role in locations:
        usage = volume_usage(path)
        if usage is not None:
            used.add_metric([path, role], usage.used)
            free.add_metric([path, role], usage.free)
            size.add_metric([path, role], usage.total)
    yield from (used, free, size)
    yield GaugeMetricFamily("modelhub_storage_min_free_bytes", "Free space downloads must leave (Settings).",
                            value=setting.effective_min_free_space)


def workers():
    now = timezone.now()
    newest = WorkerBeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    alive = WorkerBeat.objects.filter(last_seen__gte=now - WORKER_SILENCE).count()
    yield GaugeMetricFamily("modelhub_workers_alive",
                            "Worker processes seen in the last 3 minutes.", value=alive)
    if newest is not None:  # absent when no worker ever ran: alert on absent() or on workers_alive == 0
        age = (now - newest).total_seconds()
        yield GaugeMetricFamily("modelhub_worker_last_seen_seconds", "Seconds since a worker last reported.",
                                value=age)
    lost = now - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT)
    yield GaugeMetricFamily("modelhub_jobs_stale", "Running jobs whose heartbeat stopped (worker lost?).",
                            value=DownloadJob.objects.working().filter(heartbeat_at__lt=lost).count())


def webhooks():
    from webhooks.services import outcome_counts

    gauge = GaugeMetricFamily("modelhub_webhook_deliveries", "Webhook deliveries kept (30 days), by outcome.",
                              labels=["state"])
    for state, n in outcome_counts().items():
        gauge.add_metric([state], n)
    yield gauge


PARTS = {"jobs": jobs, "variants": variants, "served": served, "storage": storage, "workers": workers,
         "webhooks": webhooks}


class ModelHubCollector(Collector):
    def collect(self):
        errors = GaugeMetricFamily("modelhub_scrape_errors",
                                   "1 when a part of this scrape failed (see the log).",
                                   labels=["part"])
        start = time.monotonic()
        for name, part in PARTS.items():
            try:
                families = list(part())
            except Exception:  # one broken part (an unreadable volume...) must not hide the others
                log.exception("metrics: the %s part failed", name)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors
        yield GaugeMetricFamily("modelhub_scrape_duration_seconds", "Time taken to read these metrics.",
                                value=time.monotonic() - start)
