#!/usr/bin/env python3
"""`manage.py download ... --wait --json`, with the time of each fixed cost recorded (benchmark only).

    MODELHUB_BENCH_TRACE=trace.json python benchmarks/traced_download.py org/name --kind files

The same command in the same process, with wrappers around the steps a download takes before its
first byte and after its last (nothing in ModelHub changes): Django's start, the Hub's metadata, the
first request and byte, the last byte, the final fsync, publish, links, verification and the job's
record. The stamps (time.time()) go to MODELHUB_BENCH_TRACE at exit; fixed_costs.py reads them.
"""

import atexit
import functools
import gc
import json
import os
import sys
import time

STARTED = time.time()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
marks: dict[str, list[tuple[float, float]]] = {}


def process_start() -> float | None:
    """When the kernel started this process (so the interpreter's own start counts too)."""
    try:
        with open("/proc/self/stat") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def timed(owner, name: str, label: str) -> None:
    """Record every call of owner.name as a (start, end) interval under `label`."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            marks.setdefault(label, []).append((start, time.time()))

    setattr(owner, name, wrapper)


def instrument() -> None:
    from downloads.jobs import lifecycle, runner
    from engine.cache.layout import RepoCache
    from engine.hub.client import HubClient
    from engine.transfer import fetcher, hops, segments, stream

    timed(runner, "run_job", "job")
    timed(HubClient, "snapshot", "metadata")
    timed(hops.Hops, "_get", "request")  # headers of every hop (resolve, CDN)
    timed(fetcher.Fetcher, "account", "bytes")  # first and last byte
    timed(fetcher.Fetcher, "publish", "publish")
    timed(RepoCache, "link", "links")
    timed(RepoCache, "write_ref", "links")
    timed(runner, "verify_streamed", "verify")
    timed(runner, "fingerprint", "fingerprint")
    timed(lifecycle, "finish", "record")
    for module in (stream, segments):  # the final fsync of each file (they call os.fsync by name)
        module.os = _FsyncTimed(module.os)


class _FsyncTimed:
    def __init__(self, os_module):
        self._os = os_module

    def __getattr__(self, name):
        return getattr(self._os, name)

    def fsync(self, fd):
        start = time.time()
        try:
            return self._os.fsync(fd)
        finally:
            marks.setdefault("fsync", []).append((start, time.time()))


def write_trace() -> None:
    path = os.environ.get("MODELHUB_BENCH_TRACE")
    if path:
        with open(path, "w") as fh:
            json.dump({"process": process_start(), "script": STARTED, "exit": time.time(), "marks": marks},
                      fh)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelhub.settings")
    gc.disable()  # as manage.py does; downloads.apps turns it on again
    import django

    django.setup()
    marks["django"] = [(STARTED, time.time())]
    instrument()  # imports the transfer code, which the job would import itself a little later
    marks["instrument"] = [(marks["django"][0][1], time.time())]
    atexit.register(write_trace)
    from django.core.management import call_command

    call_command("download", *sys.argv[1:], "--wait", "--json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
