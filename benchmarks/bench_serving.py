"""Serving the team (issue 15): N concurrent `hf download` clients of one big file from ModelHub's /hub
(gunicorn as run.sh starts it) against the same clients from nginx serving the same verified blob, while
a logged-in admin polls the progress endpoint. One command:

    .venv/bin/python -m benchmarks.bench_serving                 # 1 GiB, 8 clients, 2 rounds each
    .venv/bin/python -m benchmarks.bench_serving --size 256MiB --clients 4 --runs 1
    .venv/bin/python -m benchmarks.bench_serving --size 256MiB --no-curl --worker gthread   # one pool

nginx is Debian's package (`apt-get install nginx`); without it that side says N/A. olah is not run: it
mirrors an upstream Hub into its own store and cannot serve ModelHub's verified cache as it is.
Targets from the issue: aggregate throughput ≥ 0.8 × nginx, admin progress p99 < 100 ms meanwhile.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
import threading
from pathlib import Path

from benchmarks.data import big_repo, describe_size
from benchmarks.fixtures import HubServer, ModelHub
from benchmarks.harness import MB, BenchError, Harness, percentile
from benchmarks.serving_setup import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    FILE,
    PROGRESS,
    REPO,
    admin_session,
    poller,
    round_of_clients,
    split_cpus,
    start_gunicorn,
    start_nginx,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1GiB", help="size of the served file, e.g. 1GiB, 256MiB")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2, help="rounds per server, interleaved")
    ap.add_argument("--warmup", type=int, default=1, metavar="N",
                    help="untimed `hf download` rounds per server first (the first round of all is slow)")
    ap.add_argument("--hub-nice", type=int, default=0, metavar="N",
                    help="serve /hub from a second gunicorn at this nice level, the admin from the first "
                         "(the split the README suggests for many clients); 0: one gunicorn for both")
    ap.add_argument("--worker", choices=("hub", "gthread"), default="hub",
                    help="hub: run.sh's worker (a /hub thread pool at lower priority); gthread: gunicorn's "
                         "plain threaded worker, every request in one pool")
    ap.add_argument("--hub-threads-nice", type=int, default=10, metavar="N",
                    help="MODELHUB_HUB_NICE for run.sh's worker: how much lower the /hub threads' priority")
    ap.add_argument("--client-nice", type=int, default=0, metavar="N",
                    help="run the clients at this nice level: on one machine they stand in for the team's "
                         "other machines, whose CPU the server does not share (19: they get what is left)")
    ap.add_argument("--client-cpus", default="auto", metavar="LIST",
                    help="CPUs the clients run on (taskset list, e.g. 1 or 2-3); the servers, the admin and "
                         "this script get the others, as if the clients were the team's other machines. "
                         "auto: the last CPU when there are at least 2; none: everything shares every CPU")
    ap.add_argument("--client-dir", metavar="DIR",
                    help="where the clients' caches go (default: the temp dir); /dev/shm keeps their writes "
                         "off the server's disk, as on the team's other machines")
    ap.add_argument("--no-curl", action="store_true", help="skip the curl rounds")
    args = ap.parse_args()
    from modelhub.sizes import parse_size

    size = parse_size(args.size)
    with Harness(prefix="modelhub-bench-serving-") as h:
        try:
            run(h, args, size)
        except BenchError:
            for log in sorted(h.logs.glob("gunicorn-*.log")):  # the server's side of a failed round
                print(f"--- {log.name} (last lines)\n{log.read_text(errors='replace')[-3000:]}", flush=True)
            raise


def run(h: Harness, args, size: int) -> None:
    client_root = Path(tempfile.mkdtemp(prefix="modelhub-serving-clients-", dir=args.client_dir)) \
        if args.client_dir else None
    try:
        _run(h, args, size, client_root)
    finally:
        if client_root:
            shutil.rmtree(client_root, ignore_errors=True)


def _run(h: Harness, args, size: int, client_root: Path | None) -> None:
    client_cpus, server_cpus = split_cpus(args.client_cpus)
    if server_cpus:  # every server this script starts inherits it
        os.sched_setaffinity(0, server_cpus)
    print(f"Serving benchmark: {describe_size(size)}, {args.clients} concurrent `hf download` clients, "
          f"{args.runs} round(s) per server; temp dir {h.root}", flush=True)
    repo = big_repo(h.path("repo"), REPO, {FILE: size})
    hub = HubServer(h, [repo], name="origin")
    mh = ModelHub(h)
    mh.setup(hub.url)
    job = mh.download(REPO).extra["job"]
    mh.manage("ensure_admin", env={"MODELHUB_ADMIN_USER": ADMIN_USER,
                                   "MODELHUB_ADMIN_PASSWORD": ADMIN_PASSWORD}).ok()
    token = mh.manage("api_token", "create", ADMIN_USER).ok().out.strip().splitlines()[-1]
    blob = Path(job["path"], FILE).resolve()
    sha256 = hashlib.sha256(blob.read_bytes()).hexdigest()
    hub.stop()  # the origin is not needed any more: nothing may come from it

    load_before = _load()
    base = start_gunicorn(h, mh, worker=args.worker, hub_threads_nice=args.hub_threads_nice)
    session = admin_session(base)
    idle: list[float] = []
    poller(session, f"{base}{PROGRESS}", idle, 0.05)(_stop_after(2.0))
    nginx = start_nginx(h, blob, job["commit"], sha256, size)
    hub_base = start_gunicorn(h, mh, nice=args.hub_nice, worker=args.worker,
                                  hub_threads_nice=args.hub_threads_nice) if args.hub_nice else base
    servers = {"modelhub": f"{hub_base}/hub", "nginx": nginx}
    results: dict[str, list[dict]] = {}
    busy: dict[str, list[float]] = {}
    # Untimed: the machine's first round of client writes is ~50 % slower, whichever server goes first.
    for _ in range(args.warmup):
        for endpoint in filter(None, servers.values()):
            round_of_clients(h, endpoint, token, args.clients, size, nice=args.client_nice, root=client_root,
                             cpus=client_cpus)
    for _ in range(args.runs):
        for curl in (False,) if args.no_curl else (False, True):
            for server, endpoint in servers.items():
                if endpoint is None:
                    continue
                key = server + (" curl" if curl else "")
                # The admin is polled during nginx's rounds too: what the machine's load alone costs it.
                watch = poller(session, f"{base}{PROGRESS}", busy.setdefault(key, []))
                results.setdefault(key, []).append(
                    round_of_clients(h, endpoint, token, args.clients, size, curl=curl, watch=watch,
                                 nice=args.client_nice, root=client_root, cpus=client_cpus))
    split = f", /hub on its own gunicorn at nice {args.hub_nice}" if args.hub_nice else ""
    pools = (f"2 workers × 8 threads + 32 /hub threads at nice +{args.hub_threads_nice} (run.sh)"
             if args.worker == "hub"
             else "gunicorn's gthread, 2 workers × 8 threads")
    clients = f", clients at nice {args.client_nice}" if args.client_nice else ""
    if client_cpus:
        clients += (f", clients on CPU {client_cpus}, servers and admin on CPU "
                    f"{','.join(map(str, sorted(server_cpus)))}")
    if client_root:
        clients += f", client caches in {args.client_dir}"
    print(f"\n{args.clients} clients × {describe_size(size)}; {pools}, sendfile{split}{clients}; "
          f"load average before: {load_before}, after: {_load()}")
    report(results, sha256, idle, busy)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def _stop_after(seconds: float) -> threading.Event:
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    return stop


def report(results: dict, sha256: str, idle: list[float], busy: dict) -> None:
    def agg(kind: str) -> float | None:
        runs = results.get(kind)
        return statistics.median(r["aggregate"] for r in runs) if runs else None

    def walls(kind: str) -> str:
        return "walls " + ", ".join(f"{r['wall']:.1f} s" for r in results[kind])

    def latency(samples: list[float] | None) -> tuple[str, str]:
        if not samples:
            return "no samples", ""
        p99 = percentile(samples, 0.99)
        return (f"p50 {percentile(samples, 0.5) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
                f"target p99 < 100 ms: {'PASS' if p99 < 0.1 else 'MISS'} ({len(samples)} polls)")

    rows = []
    for suffix, what in (("", "`hf download` clients"), (" curl", "curl clients (server side only)")):
        ours, theirs = agg("modelhub" + suffix), agg("nginx" + suffix)
        if ours is None:  # --no-curl
            continue
        rows += [
            (f"ModelHub /hub, {what}", f"{ours / MB:,.0f} MB/s aggregate", walls("modelhub" + suffix)),
            (f"nginx, {what}", f"{theirs / MB:,.0f} MB/s aggregate" if theirs else "N/A",
             walls("nginx" + suffix) if theirs else "install the Debian package nginx"),
            (f"ModelHub / nginx, {what}", f"{ours / theirs:.2f}" if theirs else "N/A",
             "target ≥ 0.80: " + (("PASS" if ours / theirs >= 0.8 else "MISS") if theirs else "N/A")),
            ("  admin progress meanwhile", *latency(busy.get("modelhub" + suffix))),
            ("  admin progress while nginx serves (control)", *latency(busy.get("nginx" + suffix))),
        ]
    right = all(r["sha256"] == sha256 for k, rs in results.items() if "curl" not in k for r in rs)
    rows += [("admin progress, idle", *latency(idle)),
             ("bytes every hf client got", "sha256 matches" if right else "WRONG BYTES", ""),
             ("olah", "N/A", "mirrors an upstream into its own store; cannot serve this verified cache")]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<30} {note}")


if __name__ == "__main__":
    main()
