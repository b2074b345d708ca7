"""GET /healthz: database, broker, storage and workers, as JSON; 503 when something is wrong.

Monitors call it without logging in, so anonymous callers get only ok/failed per check; staff
sessions also get the details (paths, counts, ages).
"""

import shutil
import tempfile
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

WORKER_SILENCE = timedelta(minutes=3)  # housekeeping runs every minute on every cluster


def _database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "engine": connection.vendor}


def _broker() -> dict:
    from django_q.brokers import get_broker

    broker = get_broker()
    name = type(broker).__name__
    if not broker.ping():
        return {"ok": False, "broker": name, "message": "the task broker does not answer"}
    return {"ok": True, "broker": name, "queued_tasks": broker.queue_size()}


def _storage() -> dict:
    from settings_app.models import Setting

    setting = Setting.load()
    path = setting.effective_storage_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".healthz-"):
            pass
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return {"ok": False, "path": str(path), "message": f"not writable: {exc.strerror or exc}"}
    min_free = setting.effective_min_free_space
    result = {"ok": free >= min_free, "path": str(path), "free_bytes": free, "min_free_bytes": min_free}
    if not result["ok"]:
        result["message"] = "free space is below the configured minimum"
    return result


def _workers() -> dict:
    from downloads.models import DownloadJob, JobState, WorkerBeat

    now = timezone.now()
    recent = list(WorkerBeat.objects.filter(last_seen__gte=now - WORKER_SILENCE)
                  .values_list("worker", flat=True))
    lost_cutoff = now - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT)
    stale = list(DownloadJob.objects.working().filter(heartbeat_at__lt=lost_cutoff)
                 .values_list("pk", flat=True))
    waiting = DownloadJob.objects.filter(state=JobState.QUEUED).count()
    result = {"ok": bool(recent) and not stale, "alive": recent, "stale_jobs": stale, "queued_jobs": waiting}
    if not recent:
        result["message"] = "no worker has reported in 3 minutes: is `manage.py qcluster` running?"
    elif stale:
        result["message"] = f"running job(s) {stale} stopped sending heartbeats"
    return result


CHECKS = {"database": _database, "broker": _broker, "storage": _storage, "workers": _workers}


@never_cache
def healthz(request):
    checks = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a health check reports failures, it must not raise them
            checks[name] = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}
    ok = all(c["ok"] for c in checks.values())
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_staff):
        checks = {name: {"ok": c["ok"]} for name, c in checks.items()}
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)
