"""The hub server (fakehub as a subprocess, with its request log) and an isolated ModelHub."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from benchmarks.data import Repo
from benchmarks.harness import (
    PY,
    REPO_ROOT,
    BenchError,
    Harness,
    Result,
    base_env,
    clear_dir,
    read_ready_line,
)


class HubServer:
    """`python -m fakehub` serving the repos (the first one first: commit shas depend on order)."""

    def __init__(self, h: Harness, repos: list[Repo], *, name: str, throttle: int | None = None,
                 extra: list[str] = ()):
        self.h = h
        self.log = h.path(f"hub-{name}.jsonl")
        self.log.touch()
        cmd = [PY, "-m", "fakehub", "--port", "0", "--log", str(self.log)]
        for repo in repos:
            cmd += ["--repo", f"{repo.repo_id}={repo.root}"]
        if throttle:
            cmd += ["--throttle", str(int(throttle))]
        cmd += list(extra)
        self._err = open(h.path("logs", f"hub-{name}.err"), "wb")  # noqa: SIM115 - closed in stop()
        self.proc = h.spawn(cmd, env=base_env(), stdout=subprocess.PIPE, stderr=self._err)
        self.url = read_ready_line(self.proc, "READY ", timeout=600)

    def commit(self, repo_id: str) -> str:
        with urllib.request.urlopen(f"{self.url}/api/models/{repo_id}", timeout=30) as resp:
            return json.load(resp)["sha"]

    def mark(self) -> int:
        return self.log.stat().st_size

    def records(self, since: int = 0) -> list[dict]:
        with open(self.log, "rb") as fh:
            fh.seek(since)
            data = fh.read()
        lines = data.decode().splitlines()
        if data and not data.endswith(b"\n"):
            lines = lines[:-1]  # a line being written
        return [json.loads(line) for line in lines if line]

    def bytes_sent(self, file_path: str, since: int = 0) -> int:
        return sum(r["bytes_sent"] for r in self.records(since)
                   if r["method"] == "GET" and r["file_path"] == file_path)

    def wait_for_get(self, file_path: str, since: int, timeout: float = 10) -> None:
        """Wait until a GET of `file_path` after `since` is logged (it is logged when it ends)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(r["method"] == "GET" and r["file_path"] == file_path for r in self.records(since)):
                return
            time.sleep(0.05)
        raise BenchError(f"the hub server did not log the end of GET {file_path}")

    def stop(self) -> None:
        self.h.forget(self.proc)
        self._err.close()


class ModelHub:
    """ModelHub with its own var/ (SQLite) and storage/ in the temp dir."""

    def __init__(self, h: Harness):
        self.h = h
        self.var = h.path("var")
        self.storage = h.path("storage")
        self.env = {**base_env(), "MODELHUB_VAR_DIR": str(self.var),
                    "MODELHUB_STORAGE_DIR": str(self.storage),
                    "DATABASE_URL": f"sqlite:///{self.var / 'modelhub.sqlite3'}", "REDIS_URL": "",
                    "LOG_LEVEL": "WARNING"}

    def manage(self, *args: str, env: dict | None = None, timeout: float = 900, monitor=None) -> Result:
        return self.h.run([PY, str(REPO_ROOT / "manage.py"), *args], env={**self.env, **(env or {})},
                          timeout=timeout, monitor=monitor)

    def setup(self, endpoint: str) -> None:
        self.manage("migrate", "--noinput", "-v", "0").ok()
        self.configure("--hub-endpoint", endpoint, "--min-free-space", "0")

    def configure(self, *args: str) -> None:
        self.manage("configure", *args).ok()

    def clear_storage(self) -> None:
        clear_dir(self.storage)

    def download(self, repo_id: str, *args: str, env: dict | None = None, monitor=None) -> Result:
        """`download REPO --kind files --wait --json`; fails unless the job succeeded."""
        res = self.manage("download", repo_id, "--kind", "files", "--wait", "--json", *args, env=env,
                          monitor=monitor)
        job = res.ok().json()
        if job.get("state") != "succeeded":
            raise BenchError(f"download {repo_id}: job {job.get('state')} {job.get('error_code')}")
        res.extra["job"] = job
        return res

    def verify(self, variant_id: int) -> Result:
        res = self.manage("verify", str(variant_id), "--full", "--json")
        jobs = res.ok().json()
        if not jobs or any(j.get("state") != "succeeded" for j in jobs):
            raise BenchError(f"verify {variant_id}: {[j.get('state') for j in jobs]}")
        res.extra["jobs"] = jobs
        return res

    def partial_size(self, repo_id: str) -> int | None:
        """Bytes written to the repo's `blobs/*.incomplete` partial, or None when there is none. A
        segmented partial is sparse at its full size from the start: its allocated blocks count."""
        blobs = self.storage / f"models--{repo_id.replace('/', '--')}" / "blobs"
        try:
            for p in blobs.iterdir():
                if p.name.endswith(".incomplete"):
                    st = p.stat()
                    return min(st.st_size, st.st_blocks * 512)
        except OSError:
            pass
        return None

    def installed_files(self, repo: Repo) -> list[Path]:
        """The repo's files in its (single) snapshot folder: symlinks to the verified blobs."""
        snapshots = list((self.storage / f"models--{repo.repo_id.replace('/', '--')}"
                          / "snapshots").iterdir())
        if len(snapshots) != 1:
            raise BenchError(f"{repo.repo_id}: expected one snapshot, found {len(snapshots)}")
        return [snapshots[0] / path for path in sorted(repo.files)]
