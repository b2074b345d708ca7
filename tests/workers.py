"""Real worker processes for end-to-end tests: `manage.py qcluster` / `manage.py download --wait`
as subprocesses sharing the test database (needs `transactional_db`, so rows are committed)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict:
    """Environment for a child process that talks to the same test database and token key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_TOKEN", "HUGGING_FACE"))}
    env.update(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="modelhub.settings",
        MODELHUB_TOKEN_KEY=",".join(settings.MODELHUB_TOKEN_KEYS) or "",
        MODELHUB_RETRY_BASE_DELAY=str(settings.MODELHUB_RETRY_BASE_DELAY),
        MODELHUB_RETRIES=str(settings.MODELHUB_RETRIES),
        MODELHUB_PROGRESS_INTERVAL=str(settings.MODELHUB_PROGRESS_INTERVAL),
        MODELHUB_HEARTBEAT_TIMEOUT=str(settings.MODELHUB_HEARTBEAT_TIMEOUT),
        PYTHONUNBUFFERED="1",
        SECRET_KEY=settings.SECRET_KEY,
    )
    if not env["MODELHUB_TOKEN_KEY"]:
        env.pop("MODELHUB_TOKEN_KEY")
    env.update(extra)
    return env


def manage(*args: str, env: dict | None = None, log_path: Path | None = None, **popen) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env or subprocess_env(),
        stdout=popen.pop("stdout", out), stderr=popen.pop("stderr", subprocess.STDOUT),
        start_new_session=True, **popen,
    )


def start_qcluster(*, env: dict | None = None, log_path: Path | None = None) -> subprocess.Popen:
    return manage("qcluster", env=env, log_path=log_path)


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop a child and everything it started (qcluster forks workers).

    The signal goes to the main process only: qcluster's own handler stops its sentinel and workers
    in about a second, whereas signalling the whole group kills the sentinel first and leaves the
    main process hanging. Whatever is left after `timeout` is killed as a group.
    """
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def kill9(proc: subprocess.Popen) -> None:
    """What a crash looks like: SIGKILL to the whole process group, no cleanup."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
