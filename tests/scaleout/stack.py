"""A throwaway ModelHub deployment for the fault-injection suite.

Each scenario gets its own PostgreSQL database (or SQLite file) and its own `redis-server`, which it
may stop and restart at will, plus `manage.py qcluster` processes configured only through the
environment, exactly like production ones. The FakeHub runs in the pytest process. Results are read
through the management commands' JSON or straight from the database (psycopg / sqlite3), never
through Django in this process: pytest-django's test database is not involved.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import workers
from tests.scaleout.backends import RedisServer, unavailable
from tests.workers import ROOT

# The environment every process of a scenario shares: fast heartbeats, retries and re-dispatch so
# faults are noticed within seconds (production defaults are a minute and more).
FAST_ENV = {
    "MODELHUB_WORKERS": "2",
    "MODELHUB_HEARTBEAT_TIMEOUT": "3",
    "MODELHUB_REDISPATCH_AFTER": "4",
    "MODELHUB_RETRY_BASE_DELAY": "0.05",
    "MODELHUB_RETRIES": "6",
    "MODELHUB_PROGRESS_INTERVAL": "0.2",
    "LOG_LEVEL": "INFO",
}


# --- the deployment ---------------------------------------------------------------------------------
class Stack:
    """Processes and resources of one scenario; `close()` releases all of them, whatever happened."""

    def __init__(self, workdir: Path, *, database, redis: RedisServer | None, env: dict | None = None):
        self.workdir = workdir
        self.db = database
        self.redis = redis
        self.storage: Path | None = None
        self.extra_env = {**FAST_ENV, **(env or {})}
        self.clusters: dict[str, subprocess.Popen] = {}
        self.procs: list[subprocess.Popen] = []
        self.mounts: list[Path] = []
        workdir.mkdir(parents=True, exist_ok=True)

    # --- environment and commands
    def env(self, **extra: str) -> dict:
        env = workers.subprocess_env(DATABASE_URL=self.db.url, **self.extra_env)
        env.pop("REDIS_URL", None)
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
        env.update(extra)
        return env

    def manage(self, *args: str, input: str | None = None, timeout: float = 120, check: bool = True,
               env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT,
                              env=env or self.env(), input=input, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} exited {proc.returncode}\n--- stdout\n"
                                 f"{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
        return proc

    def manage_json(self, *args: str, **kwargs):
        return json.loads(self.manage(*args, "--json", **kwargs).stdout)

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def configure(self, hub_url: str, storage: Path, *, max_concurrent: int, extra: tuple = ()) -> dict:
        self.storage = storage
        storage.mkdir(parents=True, exist_ok=True)
        return self.manage_json("configure", "--hub-endpoint", hub_url, "--storage-dir", str(storage),
                                "--max-concurrent-downloads", str(max_concurrent), "--min-free-space", "0",
                                *extra)

    def download(self, repo_id: str, *args: str) -> dict:
        return self.manage_json("download", repo_id, "--kind", "files", *args)

    def download_many(self, requests: list[tuple], *, parallel: int = 6, timeout: float = 120) -> list[dict]:
        """Queue many downloads with concurrent `manage.py download --json` processes (as several admin
        users clicking at once would), at most `parallel` at a time; returns their JSON in order."""
        results: list[dict | None] = [None] * len(requests)
        running: list[tuple[int, subprocess.Popen]] = []
        pending = list(enumerate(requests))
        deadline = time.monotonic() + timeout
        while pending or running:
            while pending and len(running) < parallel:
                i, (repo_id, *args) = pending.pop(0)
                cmd = [sys.executable, str(ROOT / "manage.py"), "download", repo_id, "--kind", "files", *args,
                       "--json"]
                proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, start_new_session=True)
                self.procs.append(proc)
                running.append((i, proc))
            i, proc = running.pop(0)
            out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
            if proc.returncode != 0:
                raise AssertionError(f"download {requests[i]} exited {proc.returncode}:\n{out}\n{err}")
            results[i] = json.loads(out)
        return results  # type: ignore[return-value]

    def housekeeping(self) -> dict:
        return self.manage_json("housekeeping")

    def jobs(self) -> list[dict]:
        return self.manage_json("jobs")

    def healthz(self, *, staff: bool = True) -> dict:
        """GET /healthz through Django's test client in a subprocess with this deployment's environment."""
        code = (
            "import json\n"
            "from django.contrib.auth import get_user_model\n"
            "from django.test import Client\n"
            "c = Client(HTTP_HOST='localhost')\n"
            f"if {staff!r}:\n"
            "    u, _ = get_user_model().objects.get_or_create(username='fi-staff',\n"
            "                                                  defaults={'is_staff': True})\n"
            "    c.force_login(u)\n"
            "r = c.get('/healthz')\n"
            "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
        )
        out = self.manage("shell", "-c", code).stdout.strip().splitlines()
        return json.loads(out[-1])

    # --- workers
    def start_qcluster(self, label: str, **env: str) -> subprocess.Popen:
        proc = workers.start_qcluster(env=self.env(**env), log_path=self.workdir / f"qcluster-{label}.log")
        self.clusters[label] = proc
        self.procs.append(proc)
        return proc

    def wait_clusters_ready(self, *labels: str, timeout: float = 30) -> None:
        """Until each cluster's log says it runs (its pusher then blocks on the broker)."""
        for label in labels:
            log = self.workdir / f"qcluster-{label}.log"
            workers.wait_for(lambda log=log: log.exists() and "running." in log.read_text(errors="replace"),
                             timeout=timeout, interval=0.2, message=f"qcluster {label} to start")

    def cluster_of_pid(self, pid: int) -> str | None:
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            group = None
        for label, proc in self.clusters.items():
            if group == proc.pid:
                return label
        return None

    def kill9(self, label: str) -> None:
        workers.kill9(self.clusters[label])

    # --- storage
    def mount_tmpfs(self, path: Path, size: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            unavailable(f"cannot mount a {size} tmpfs at {path} (needs root): {result.stderr.strip()}")
        self.mounts.append(path)
        return path

    # --- teardown
    def log_tails(self, lines: int = 40) -> str:
        out = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log} (last {lines} lines)\n" + "\n".join(text))
        return "\n".join(out)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        if self.redis is not None:
            self.redis.stop()
        for path in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        self.mounts.clear()
        self.db.drop()

