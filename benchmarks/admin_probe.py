"""7. The admin with many jobs. Runs inside ModelHub's Django (a subprocess of run.py, with its env):

    python -m benchmarks.admin_probe --rows 10000 --pollers 50 --paced 9 --burst 5

Seeds the benchmark database with DownloadJob rows (bulk_create), measures the job changelist (SQL
queries and time, through Django's test Client as a logged-in superuser) at 1/10 and all of the rows,
then starts real servers (gunicorn as run.sh starts it, and a threaded stdlib WSGI server) and polls the
progress endpoint from concurrent threads with the session cookie, as progress.js does. Prints JSON.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelhub.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.harness import percentile  # noqa: E402
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus  # noqa: E402

ACTIVE_JOBS = 30  # 20 running + 10 queued, each on its own variant (one active job per variant)
VERIFICATION = {"ok": True, "mode": "download", "summary": "4 file(s) verified (download)",
                "failed_files": [],
                "completeness": {"ok": True, "rule": "text", "detail": "matches *.gguf", "missing": []},
                "files": [{"path": f"model-{i}.gguf", "size_expected": 4_000_000_000,
                           "size_actual": 4_000_000_000,
                           "algo": "sha256", "hash_expected": "ab" * 32, "hash_actual": "ab" * 32,
                           "hash_source": "stream", "format": {"ok": True, "check": "gguf", "detail": "v3"},
                           "ok": True, "reason": ""} for i in range(4)]}


def seed(total: int, already: int, user) -> None:
    """Add jobs (`already` exist); the first call also adds the active ones."""
    now = timezone.now()
    variants = list(ModelVariant.objects.filter(repo_id__startswith="bench/"))
    if not variants:
        variants = ModelVariant.objects.bulk_create([
            ModelVariant(repo_id=f"bench/model-{i:04d}", name=f"Q{i % 8}", kind="text", commit="c" * 40,
                         size_bytes=4_000_000_000, status=VariantStatus.INSTALLED) for i in range(500)])
        variants = list(ModelVariant.objects.filter(repo_id__startswith="bench/"))
    jobs = []
    finished = (JobState.SUCCEEDED, JobState.SUCCEEDED, JobState.SUCCEEDED, JobState.FAILED,
                JobState.CANCELLED)
    for i in range(already, total - (ACTIVE_JOBS if already == 0 else 0)):
        created = now - timedelta(minutes=10 + i * 7)
        state = finished[i % len(finished)]
        failed = state == JobState.FAILED
        jobs.append(DownloadJob(
            variant=variants[ACTIVE_JOBS + i % (len(variants) - ACTIVE_JOBS)], state=state, origin="admin",
            requested_by=user if i % 2 else None, created_at=created, dispatched_at=created,
            started_at=created, finished_at=created + timedelta(minutes=5), heartbeat_at=created,
            worker="bench:1", commit="c" * 40, bytes_total=4_000_000_000, bytes_done=4_000_000_000,
            files_total=4, files_done=4, bytes_transferred=4_000_000_000,
            error_code="network" if failed else "", error_message="connection reset (gave up after 5 retries)"
            if failed else "", guidance="Retry; partials are kept." if failed else "",
            verification={} if failed else VERIFICATION))
    if already == 0:
        for k in range(ACTIVE_JOBS):
            running = k < 20
            jobs.append(DownloadJob(
                variant=variants[k], state=JobState.RUNNING if running else JobState.QUEUED, origin="admin",
                requested_by=user, created_at=now - timedelta(seconds=60 - k),
                started_at=now if running else None, heartbeat_at=now if running else None,
                bytes_total=4_000_000_000, bytes_done=1_000_000_000 * (k % 4) if running else 0,
                files_total=4, speed_bps=80e6 if running else 0))
        ModelVariant.objects.filter(pk__in=[v.pk for v in variants[:20]]).update(
            status=VariantStatus.DOWNLOADING)
        ModelVariant.objects.filter(pk__in=[v.pk for v in variants[20:ACTIVE_JOBS]]).update(
            status=VariantStatus.QUEUED)
    DownloadJob.objects.bulk_create(jobs, batch_size=500)


def measure_page(client: Client, url: str, repeat: int) -> dict:
    client.get(url)  # warm: templates, URL resolver, SQLite page cache
    times, sql_times, queries, status = [], [], [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append(time.perf_counter() - t0)
        queries.append(len(ctx.captured_queries))
        sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries))
        status = resp.status_code
    return {"status": status, "queries": max(queries), "time_median": statistics.median(times),
            "sql_time_median": statistics.median(sql_times), "bytes": len(resp.content),
            "sql": [q["sql"][:1000] for q in ctx.captured_queries]}


# --- servers and pollers ---------------------------------------------------------------------------

def start_server(kind: str) -> tuple[subprocess.Popen, str]:
    if kind == "gunicorn":
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [str(Path(sys.executable).parent / "gunicorn"), "modelhub.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--threads", "8", "--log-level", "warning"]  # as run.sh starts it
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.wsgi_server"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = int(proc.stdout.readline().split()[1])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=5)
            return proc, base
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def poll(url: str, cookie: str, *, pollers: int, seconds: float, interval: float, max_requests: int) -> dict:
    """`pollers` threads each GET `url` every `interval` s (0: back to back) for `seconds`; bounded count."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(pollers + 1)
    per_thread = max(1, max_requests // pollers)

    def worker(k: int) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback: never through a proxy
        session.headers["Cookie"] = cookie
        session.headers["Accept"] = "application/json"
        start.wait()
        if interval:
            time.sleep(k * interval / pollers)  # independent browsers: polls spread over the interval
        t_end = time.perf_counter() + seconds
        for _ in range(per_thread):
            t0 = time.perf_counter()
            if t0 >= t_end:
                break
            try:
                resp = session.get(url, timeout=30)
                ok = resp.status_code == 200 and "jobs" in resp.json()
                err = None if ok else f"HTTP {resp.status_code}"
            except (requests.RequestException, ValueError) as exc:
                err = type(exc).__name__
            dt = time.perf_counter() - t0
            with lock:
                (errors.append(err) if err else latencies.append(dt))
            if interval:
                time.sleep(max(0.0, t0 + interval - time.perf_counter()))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(pollers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(seconds + 60)
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    return {"requests": len(lat), "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
            "p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99), "max": lat[-1] if lat else None,
            "rps": len(lat) / wall}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--pollers", type=int, default=50)
    ap.add_argument("--paced", type=float, default=9.0,
                    help="seconds of polling every 1.5 s (as progress.js)")
    ap.add_argument("--burst", type=float, default=5.0, help="seconds of back-to-back polling")
    ap.add_argument("--servers", default="gunicorn,wsgiref")
    args = ap.parse_args()

    out: dict = {"available": True}
    try:
        changelist = reverse("admin:downloads_downloadjob_changelist")
    except NoReverseMatch:
        print(json.dumps({"available": False, "reason": "no admin for DownloadJob"}))
        return
    try:
        progress = reverse("admin:downloads_downloadjob_progress")
    except NoReverseMatch:
        progress = None

    User = get_user_model()
    user = (User.objects.filter(username="bench").first()
            or User.objects.create_superuser("bench", "b@example.com", "bench-password-1"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    seed(max(ACTIVE_JOBS + 1, args.rows // 10), 0, user)
    out["changelist_small"] = {"rows": DownloadJob.objects.count(), **measure_page(client, changelist, 5)}
    seed(args.rows, DownloadJob.objects.count(), user)
    active = list(DownloadJob.objects.filter(state__in=[JobState.RUNNING, JobState.QUEUED])
                  .values_list("pk", flat=True))
    out["changelist"] = {"rows": DownloadJob.objects.count(), **measure_page(client, changelist, 5)}
    if progress is None:
        out["progress"] = None
        print(json.dumps(out))
        return
    query = f"{progress}?ids={','.join(map(str, active))}&variants="
    out["progress_client"] = measure_page(client, query, 10)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    out["pollers"] = {}
    for kind in filter(None, args.servers.split(",")):
        proc, base = start_server(kind)
        try:
            url = base + query
            paced = poll(url, cookie, pollers=args.pollers, seconds=args.paced, interval=1.5,
                         max_requests=5000)
            burst = poll(url, cookie, pollers=args.pollers, seconds=args.burst, interval=0, max_requests=5000)
            out["pollers"][kind] = {"paced": paced, "burst": burst}
        finally:
            proc.kill()
            proc.wait(10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
