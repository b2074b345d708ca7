"""The benchmark's plumbing: one temp dir, child processes that are always killed, per-child timing.

Every child runs in its own session (process group), is registered, and is killed with its group on
exit, Ctrl-C or SIGTERM. `Harness.run` times a command with the child's own rusage (os.wait4):
wall time, user+sys CPU and peak RSS, and can watch it while it runs (`monitor`).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(sys.executable).parent  # the venv's bin/ (not resolved: hf and gunicorn live beside python)
MiB = 1 << 20
MB = 1000**2


class BenchError(Exception):
    """A measurement could not be made (a command failed, a server did not start...)."""


@dataclass
class Result:
    cmd: list[str]
    rc: int
    wall: float
    user: float
    sys: float
    maxrss: int  # bytes
    out: str = ""
    err: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def cpu(self) -> float:
        return self.user + self.sys

    @property
    def cpu_util(self) -> float:
        return self.cpu / self.wall if self.wall > 0 else 0.0

    def ok(self) -> Result:
        if self.rc != 0:
            tail = (self.err or self.out).strip().splitlines()[-5:]
            raise BenchError(f"{' '.join(self.cmd[:4])}… exited {self.rc}: {' | '.join(tail)}")
        return self

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as exc:
            raise BenchError(f"{' '.join(self.cmd[:4])}…: no JSON on stdout ({exc})") from None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """The `q` quantile (0.99: p99) as the sample at that rank, no interpolation; None without samples."""
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


class Harness:
    def __init__(self, *, prefix: str = "modelhub-bench-"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._n = 0

    # --- lifecycle
    def __enter__(self) -> Harness:
        signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            procs, self._procs = self._procs, []
        for p in procs:
            kill_group(p)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- processes
    def spawn(self, cmd: list[str], *, env: dict | None = None, cwd: Path = REPO_ROOT, stdout=None,
              stderr=None) -> subprocess.Popen:
        with self._lock:
            p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=stdout, stderr=stderr,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
            self._procs.append(p)
        return p

    def forget(self, p: subprocess.Popen) -> None:
        kill_group(p)
        with self._lock:
            if p in self._procs:
                self._procs.remove(p)

    def run(self, cmd: list[str], *, env: dict | None = None, timeout: float = 600,
            monitor: Callable[[subprocess.Popen, float], None] | None = None, poll: float = 0.05) -> Result:
        """Run to completion (killed after `timeout`); `monitor(proc, elapsed)` is called every `poll` s.

        Dirty pages are flushed first (not timed): on this kind of VM, writers are throttled to a slow
        writeback rate once ~2 GB are dirty, so a run must not inherit the previous tool's dirty pages.
        """
        os.sync()
        with self._lock:
            self._n += 1
            n = self._n
        out_path, err_path = self.logs / f"{n}.out", self.logs / f"{n}.err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            p = self.spawn(cmd, env=env, stdout=out, stderr=err)
            box: dict = {}

            def reap():
                _, status, usage = os.wait4(p.pid, 0)
                box["end"] = time.perf_counter()
                box["status"], box["usage"] = status, usage

            waiter = threading.Thread(target=reap, daemon=True)
            waiter.start()
            try:
                while waiter.is_alive():
                    elapsed = time.perf_counter() - t0
                    if elapsed > timeout:
                        kill_group(p, reap=False)
                        waiter.join(10)
                        raise BenchError(f"{' '.join(cmd[:4])}… took more than {timeout:.0f} s; killed")
                    if monitor is not None:
                        monitor(p, elapsed)
                    waiter.join(poll)
            finally:
                if waiter.is_alive():
                    kill_group(p, reap=False)
                    waiter.join(10)
                self.forget_reaped(p)
        p.returncode = os.waitstatus_to_exitcode(box["status"])
        usage = box["usage"]
        return Result(cmd, p.returncode, box["end"] - t0, usage.ru_utime, usage.ru_stime,
                      usage.ru_maxrss * 1024, out_path.read_text(errors="replace"),
                      err_path.read_text(errors="replace"))

    def forget_reaped(self, p: subprocess.Popen) -> None:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # stray grandchildren of a finished command
        except OSError:
            pass
        with self._lock:
            if p in self._procs:
                self._procs.remove(p)

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)


def kill_group(p: subprocess.Popen, *, reap: bool = True) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    if reap:
        try:
            p.wait(timeout=10)
        except (subprocess.TimeoutExpired, ChildProcessError):
            pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def clear_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)


def read_ready_line(p: subprocess.Popen, prefix: str, timeout: float) -> str:
    """Wait for a line starting with `prefix` on the child's stdout; return the rest of it."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            for line in buf.decode(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
        elif p.poll() is not None:
            break
    raise BenchError(f"{' '.join(map(str, p.args[:4]))}… did not print {prefix!r} within {timeout:.0f} s")


# --- environments -------------------------------------------------------------------------------

_SCRUB = ("DATABASE_URL", "REDIS_URL", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_CACHE",
          "HUGGINGFACE_HUB_CACHE", "HF_HOME", "HF_ENDPOINT", "HF_HUB_ENABLE_HF_TRANSFER",
          "HF_XET_HIGH_PERFORMANCE", "DJANGO_SETTINGS_MODULE")


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("MODELHUB_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def hf_env(endpoint: str, home: Path) -> dict:
    return {**base_env(), "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(home)}


def tool(name: str) -> str:
    candidate = BIN / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)
