"""5. Bytes sent again after a SIGKILL at 50% and a resume; 6. accuracy of the bandwidth caps."""

from __future__ import annotations

import os
import signal
import time

from benchmarks.context import Ctx
from benchmarks.data import describe_size
from benchmarks.fixtures import HubServer
from benchmarks.harness import MB, BenchError, median
from benchmarks.report import Row, check, mb, secs

HEARTBEAT_TIMEOUT = 2  # MODELHUB_HEARTBEAT_TIMEOUT for these runs: a killed job counts as lost after 2 s
CAP = 50 * MB
WINDOW = 10.0


def resume_after_kill(ctx: Ctx) -> list[Row]:
    """Download from a throttled server, SIGKILL the process group once the partial holds ≥ 50%, wait
    past the heartbeat timeout, download again from an unthrottled server with the same commit; count
    every body byte both servers sent for the file."""
    big = ctx.repos["big"]
    env = {"MODELHUB_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT)}
    slow = HubServer(ctx.h, [big], name="throttled", throttle=max(20 * MB, big.size // 5))  # 50% after ~2.5 s
    runs = []
    try:
        if slow.commit(big.repo_id) != ctx.hub.commit(big.repo_id):
            raise BenchError("the throttled server's commit differs from the main server's")
        for _ in range(ctx.runs):
            runs.append(_kill_and_resume(ctx, slow, env))
    finally:
        slow.stop()
        ctx.mh.configure("--hub-endpoint", ctx.hub.url)
    ctx.raw["resume"] = runs
    resent = median([r["resent"] for r in runs])
    pct = 100 * resent / big.size
    group = f"5. Kill at 50% and resume, {describe_size(big.size)} (median of {ctx.runs})"
    return [
        Row(group, "partial on disk when killed",
            f"{100 * median([r['killed_at_bytes'] for r in runs]) / big.size:.1f}%"
            f" ({mb(median([r['partial_kept'] for r in runs]))} kept)"),
        Row(group, "server sent before kill / after resume",
            f"{mb(median([r['sent_before_kill'] for r in runs]))} / "
            f"{mb(median([r['sent_after'] for r in runs]))}"),
        Row(group, "resumed download --wait (unthrottled)", secs(median([r["resume_wall"] for r in runs]))),
        Row(group, "re-sent bytes (sent − file size)", f"{mb(resent)} = {pct:.2f}% of the file", "< 5%",
            check(pct < 5)),
    ]


def _kill_and_resume(ctx: Ctx, slow: HubServer, env: dict) -> dict:
    big = ctx.repos["big"]
    (name,) = big.files
    ctx.mh.clear_storage()
    ctx.mh.configure("--hub-endpoint", slow.url)
    mark_slow, mark_fast = slow.mark(), ctx.hub.mark()
    killed: dict = {}

    def kill_at_half(proc, elapsed):
        size = ctx.mh.partial_size(big.repo_id)
        if not killed and size and size >= big.size // 2:
            os.killpg(proc.pid, signal.SIGKILL)
            killed.update(size=size, at=elapsed)

    ctx.mh.manage("download", big.repo_id, "--kind", "files", "--wait", "--json", env=env,
                  monitor=kill_at_half, timeout=300)
    if not killed:
        raise BenchError("the throttled download ended before it reached 50%")
    slow.wait_for_get(name, mark_slow)
    kept = ctx.mh.partial_size(big.repo_id) or 0
    time.sleep(HEARTBEAT_TIMEOUT + 0.5)
    ctx.mh.configure("--hub-endpoint", ctx.hub.url)
    second = ctx.mh.download(big.repo_id, env=env)
    ctx.hub.wait_for_get(name, mark_fast)
    sent_slow, sent_fast = slow.bytes_sent(name, mark_slow), ctx.hub.bytes_sent(name, mark_fast)
    return {"killed_at_bytes": killed["size"], "killed_after_s": killed["at"], "partial_kept": kept,
            "sent_before_kill": sent_slow, "sent_after": sent_fast,
            "resent": sent_slow + sent_fast - big.size, "resume_wall": second.wall,
            "bytes_resumed": second.extra["job"].get("bytes_resumed")}


def bandwidth_cap(ctx: Ctx) -> list[Row]:
    repo = ctx.repos["rate"]
    results: dict[str, list] = {"job": [], "global": []}
    for _ in range(ctx.runs):
        results["job"].append(_capped(ctx, "--limit-rate", "50MB"))
        ctx.mh.configure("--bandwidth-limit", "50MB")
        try:
            results["global"].append(_capped(ctx))
        finally:
            ctx.mh.configure("--bandwidth-limit", "0")
    ctx.raw["bandwidth"] = results
    group = (f"6. Bandwidth cap 50 MB/s, {describe_size(repo.size)} file (median of {ctx.runs}; "
             "worst window of all)")
    rows = []
    for mode, label in (("job", "per job: download --limit-rate 50MB"),
                        ("global", "global: configure --bandwidth-limit 50MB")):
        avg = median([r["average"] for r in results[mode]])
        windows = [r["worst_window"] for r in results[mode] if r["worst_window"] is not None]
        worst = max(windows, key=lambda w: abs(w - CAP)) if windows else None
        rows.append(Row(group, f"{label}: average", _vs_cap(avg), "within ±10%",
                        check(abs(avg / CAP - 1) <= 0.10)))
        rows.append(Row(group, f"  worst {WINDOW:.0f}-second window",
                        _vs_cap(worst) if worst else "transfer < 10 s",
                        "within ±10%", check(abs(worst / CAP - 1) <= 0.10) if worst else "N/A"))
    return rows


def _capped(ctx: Ctx, *args: str) -> dict:
    """Download the rate repo, sampling its partial's size every 50 ms."""
    repo = ctx.repos["rate"]
    ctx.mh.clear_storage()
    samples: list[tuple[float, int]] = []

    def sample(proc, elapsed):
        size = ctx.mh.partial_size(repo.repo_id)
        if size:
            samples.append((time.perf_counter(), size))

    res = ctx.mh.download(repo.repo_id, *args, monitor=sample)
    moving = [(t, s) for t, s in samples if s < repo.size]
    if len(moving) < 2:
        raise BenchError("too few samples of the capped transfer")
    (t0, s0), (t1, s1) = moving[0], moving[-1]
    windows = []
    j = 0
    for t, s in moving:
        while j < len(moving) and moving[j][0] - t < WINDOW:
            j += 1
        if j == len(moving):
            break
        tj, sj = moving[j]
        windows.append((sj - s) / (tj - t))
    worst = max(windows, key=lambda w: abs(w - CAP)) if windows else None
    return {"average": (s1 - s0) / (t1 - t0), "transfer_s": t1 - t0, "worst_window": worst,
            "windows": len(windows), "wall": res.wall}


def _vs_cap(value: float) -> str:
    return f"{value / MB:.1f} MB/s ({100 * (value / CAP - 1):+.1f}%)"
