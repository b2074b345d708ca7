"""A throwaway ModelHub deployment for the fault-injection suite.

Each scenario gets its own PostgreSQL database (or SQLite file) and its own `redis-server`, which it
may stop and restart at will, plus `manage.py qcluster` processes configured only through the
environment, exactly like production ones. The FakeHub runs in the pytest process. Results are read
through the management commands' JSON or straight from the database (psycopg / sqlite3), never
through Django in this process: pytest-django's test database is not involved.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import workers

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("MODELHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("MODELHUB_REQUIRE_SCALEOUT") == "1"
DB_PREFIX = "modelhub_fi_"

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


def unavailable(message: str) -> None:
    """Skip (or, when the scale-out suite is required, fail) with a message saying what is missing."""
    if REQUIRED:
        pytest.fail(f"{message} (MODELHUB_REQUIRE_SCALEOUT=1, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def _pg_where() -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"


def postgres_problem() -> str | None:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed: {exc}"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {_pg_where()} not reachable: {str(exc).strip()}"
    return None


def redis_problem() -> str | None:
    if not shutil.which("redis-server"):
        return "Redis: the redis-server binary is not on PATH (the suite starts and restarts its own server)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_epoch(value) -> float | None:
    """A timestamp column (datetime from psycopg, ISO text from sqlite3) as seconds since the epoch."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Django stores UTC in SQLite
    return value.timestamp()


# --- databases --------------------------------------------------------------------------------------
class PgDatabase:
    """One scenario's PostgreSQL database, created empty and dropped (connections and all) at the end."""

    _counter = itertools.count()

    def __init__(self):
        self.name = f"{DB_PREFIX}{os.getpid()}_{next(self._counter)}"
        parts = urlsplit(PG_ADMIN_URL)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", "", ""))
        self.created = False

    def create(self) -> PgDatabase:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return self

    def drop(self) -> None:
        if self.created:
            drop_database(self.name)
            self.created = False

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5, row_factory=dict_row) as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_leftover_databases() -> list[str]:
    """Databases of earlier runs whose pytest process died before its teardown (kill -9, power cut)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                            (DB_PREFIX + "%",)).fetchall()]
    dropped = []
    for name in names:
        m = re.fullmatch(rf"{DB_PREFIX}(\d+)_\d+", name)
        if m and int(m.group(1)) != os.getpid() and not Path(f"/proc/{m.group(1)}").exists():
            drop_database(name)
            dropped.append(name)
    return dropped


class SqliteDatabase:
    def __init__(self, path: Path):
        self.path = path
        self.url = f"sqlite:///{path}"
        self.name = path.name

    def create(self) -> SqliteDatabase:
        return self

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()


# --- redis ------------------------------------------------------------------------------------------
class RedisServer:
    """A private redis-server without persistence: stopping it loses every queued message."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{tail}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def queue_length(self) -> int:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
        try:
            return client.llen("django_q:modelhub:q")
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM; no persistence, so its queue is gone) and wait for the port."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


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
        proc = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env or self.env(),
                              input=input, capture_output=True, text=True, timeout=timeout)
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
                                "--max-concurrent-downloads", str(max_concurrent), "--min-free-space", "0", *extra)

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
                cmd = [sys.executable, str(ROOT / "manage.py"), "download", repo_id, "--kind", "files", *args, "--json"]
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
            "    u, _ = get_user_model().objects.get_or_create(username='fi-staff', defaults={'is_staff': True})\n"
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
