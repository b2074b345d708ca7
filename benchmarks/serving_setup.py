"""The serving benchmark's servers and clients (bench_serving.py): gunicorn as run.sh starts it, nginx on
the same blob, rounds of concurrent `hf download` or curl clients, and the admin poller."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import requests

from benchmarks.fixtures import ModelHub
from benchmarks.harness import BenchError, Harness, clear_dir, hf_env, tool

REPO, FILE = "bench/serve", "weights.bin"
ADMIN_USER, ADMIN_PASSWORD = "bench", "bench-Password-1"
PROGRESS = "/admin/downloads/downloadjob/progress/?ids=&variants="

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s")


def start_gunicorn(h: Harness, mh: ModelHub, *, nice: int = 0, worker: str = "hub", hub_threads_nice: int = 10
                   ) -> str:
    """gunicorn as run.sh starts it (modelhub/gunicorn.conf.py); worker "gthread": gunicorn's own threaded
    worker with the same threads, every request in one pool (the deployment before the /hub pool)."""
    port = free_port()
    log = open(h.path("logs", f"gunicorn-{port}.log"), "wb")  # noqa: SIM115 - the child writes it until killed
    niced = ["nice", "-n", str(nice)] if nice else []
    plain = ["--worker-class", "gthread"] if worker == "gthread" else []
    h.spawn([*niced, tool("gunicorn"), "-c", "modelhub/gunicorn.conf.py", *plain,
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            env={**mh.env, "MODELHUB_HUB_NICE": str(hub_threads_nice)}, stdout=log, stderr=log)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return f"http://127.0.0.1:{port}"


def start_nginx(h: Harness, blob: Path, commit: str, sha256: str, size: int) -> str | None:
    """nginx serving the verified blob at the resolve URL, with the headers hf_hub_download reads."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        return None
    port, root = free_port(), h.path("nginx")
    root.mkdir()
    temps = "\n".join(f"  {kind}_temp_path {root}/{kind};" for kind in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (root / "nginx.conf").write_text(f"""
user root;
worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
{temps}
  server {{
    listen 127.0.0.1:{port};
    location = /hub/{REPO}/resolve/main/{FILE} {{
      alias {blob};
      default_type application/octet-stream;
      add_header X-Repo-Commit {commit};
      add_header X-Linked-Etag '"{sha256}"';
      add_header X-Linked-Size {size};
    }}
  }}
}}
""")
    h.spawn([nginx, "-c", str(root / "nginx.conf"), "-p", str(root)], stdout=None, stderr=None)
    wait_http(f"http://127.0.0.1:{port}/")
    return f"http://127.0.0.1:{port}/hub"


def admin_session(base: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    login = f"{base}/admin/login/"
    session.get(login, timeout=10)
    session.post(login, data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "next": "/admin/",
                              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                 headers={"Referer": login}, timeout=10)
    if session.get(f"{base}{PROGRESS}", timeout=10).status_code != 200:
        raise BenchError("could not log in to the admin")
    return session


def round_of_clients(h: Harness, endpoint: str, token: str, clients: int, size: int, *, curl: bool = False,
                     watch=None, nice: int = 0, root: Path | None = None, cpus: str | None = None) -> dict:
    """`clients` concurrent downloads, `hf download` from empty caches (bytes checked), or curl to
    /dev/null (the server's side alone: curl costs little CPU); wall time of the slowest."""
    homes = [(root or h.path("clients")) / str(i) for i in range(clients)]
    for home in homes:
        clear_dir(home)
    procs = []
    t0 = time.perf_counter()
    for home in homes:
        if curl:
            cmd, env = [tool("curl"), "-sf", "-o", "/dev/null", "-H", f"Authorization: Bearer {token}",
                        f"{endpoint}/{REPO}/resolve/main/{FILE}"], None
        else:
            cmd = [tool("hf"), "download", "--quiet", REPO, FILE]
            env = {**hf_env(endpoint, home), "HF_TOKEN": token, "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]
        if cpus:
            cmd = ["taskset", "-c", cpus, *cmd]
        procs.append(h.spawn(cmd, env=env, stdout=open(home / "out", "wb"),  # noqa: SIM115
                             stderr=open(home / "err", "wb")))  # noqa: SIM115
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(stop,), daemon=True) if watch else None
    if watcher:
        watcher.start()
    for p in procs:
        p.wait(timeout=1800)
    wall = time.perf_counter() - t0
    stop.set()
    if watcher:
        watcher.join(30)
    failed = [i for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        raise BenchError(f"{endpoint}: client {failed[0]} failed: "
                         f"{(homes[failed[0]] / 'err').read_text()[-300:]}")
    digest = None
    if not curl:
        got = Path((homes[0] / "out").read_text().strip().splitlines()[-1])
        digest = hashlib.sha256(got.read_bytes()).hexdigest()
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)
    return {"wall": wall, "aggregate": clients * size / wall, "sha256": digest}


def poller(session: requests.Session, url: str, latencies: list[float], interval: float = 0.1):
    def watch(stop: threading.Event) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            ok = session.get(url, timeout=30).status_code == 200
            if ok:
                latencies.append(time.perf_counter() - t0)
            stop.wait(max(0.0, t0 + interval - time.perf_counter()))
    return watch


def split_cpus(spec: str) -> tuple[str | None, set[int] | None]:
    """(the clients' taskset list, the servers' CPUs) for --client-cpus; (None, None): no split."""
    cpus = sorted(os.sched_getaffinity(0))
    if spec == "none" or (spec == "auto" and len(cpus) < 2):
        return None, None
    if spec == "auto":
        spec = str(cpus[-1])
    clients = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        clients.update(range(int(lo), int(hi or lo) + 1))
    servers = set(cpus) - clients
    if not servers or not clients <= set(cpus):
        raise BenchError(f"--client-cpus {spec}: leave at least one of the CPUs {cpus} to the servers")
    return spec, servers
