"""What a fault-injection scenario runs on: its own PostgreSQL database (or SQLite file) and its own
`redis-server`, which it may stop and restart at will; and whether this machine has them at all."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_ADMIN_URL = os.environ.get("MODELHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("MODELHUB_REQUIRE_SCALEOUT") == "1"
DB_PREFIX = "modelhub_fi_"


def unavailable(message: str) -> None:
    """Skip (or, when the scale-out suite is required, fail) with a message saying what is missing."""
    if REQUIRED:
        pytest.fail(f"{message} (MODELHUB_REQUIRE_SCALEOUT=1, so this is a failure, not a skip)",
                    pytrace=False)
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
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "no"],
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

