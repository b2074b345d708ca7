"""1. One large file, 2. many small files, 4. peak RSS: ModelHub vs `hf download` (+ `hf cache verify`)
vs curl."""

from __future__ import annotations

import hashlib
import os
import time

from benchmarks.context import Ctx
from benchmarks.data import Repo, describe_size
from benchmarks.harness import MB, MiB, clear_dir, median
from benchmarks.report import Row, check, mb, rate, ratio, secs

SEGMENTS = 4


def _timings(ctx: Ctx, repo: Repo, *, with_segments: bool) -> dict[str, dict[str, list]]:
    """Each run does every tool once (interleaved, so drift hits them alike); storage is emptied first."""
    keys = ("curl", "curl_null", "curl_sync", "hf_dl", "hf_verify", "hf_total", "mh", "mh_seg")
    t: dict[str, list] = {k: [] for k in keys}      # wall seconds
    cpu: dict[str, list] = {k: [] for k in keys}    # user+sys seconds of the process
    rss: dict[str, list] = {"mh": [], "mh_seg": [], "hf_dl": []}

    def record(key, res):
        t[key].append(res.wall)
        cpu[key].append(res.cpu)
        if key in rss:
            rss[key].append(res.maxrss)

    for _ in range(ctx.runs):
        record("curl", ctx.curl(repo))
        clear_dir(ctx.curl_dir)  # deleted at once: its dirty pages vanish instead of being written back
        if with_segments:
            record("curl_null", ctx.curl(repo, to_null=True))
            record("curl_sync", ctx.curl(repo, durable=True))
            clear_dir(ctx.curl_dir)
        dl = ctx.hf_download(repo)
        ver = ctx.hf_verify(repo)
        clear_dir(ctx.hf_cache)
        record("hf_dl", dl)
        record("hf_verify", ver)
        t["hf_total"].append(dl.wall + ver.wall)
        cpu["hf_total"].append(dl.cpu + ver.cpu)
        if with_segments:
            ctx.mh.configure("--segments-per-file", str(SEGMENTS), "--segment-min-size", "1MB")
            try:
                ctx.mh.clear_storage()
                record("mh_seg", ctx.mh.download(repo.repo_id))
            finally:
                ctx.mh.configure("--segments-per-file", "1")
        ctx.mh.clear_storage()
        res = ctx.mh.download(repo.repo_id)  # the last run leaves the repo installed (for verification)
        record("mh", res)
        ctx.raw.setdefault("variants", {})[repo.repo_id] = res.extra["job"]["variant_id"]
    return {"times": t, "cpu": cpu, "rss": rss}


def _rows(group: str, repo: Repo, out: dict, *, extra: str = "") -> list[Row]:
    m = {k: median(v) for k, v in out["times"].items()}
    c = {k: median(v) for k, v in out["cpu"].items()}
    n = repo.size

    def fig(key: str) -> str:
        best = min(out["times"][key])
        return f"{secs(m[key])}  {rate(n, m[key])}  (best {secs(best)}, CPU {c[key]:.2f} s)"

    rows = []
    if out["times"]["curl_null"]:
        rows.append(Row(group, "curl -o /dev/null (the network alone)", fig("curl_null")))
    rows.append(Row(group, "curl (no hash, no metadata)", fig("curl")))
    if out["times"]["curl_sync"]:
        rows.append(Row(group, "curl, then sync FILE (on disk, as ModelHub before publishing)",
                        fig("curl_sync")))
    rows += [
        Row(group, "hf download", fig("hf_dl")),
        Row(group, "hf cache verify", fig("hf_verify")),
        Row(group, "hf download + hf cache verify", fig("hf_total")),
        Row(group, f"ModelHub download --wait (verified){extra}", fig("mh")),
    ]
    if out["times"]["mh_seg"]:
        rows.append(Row(group, f"ModelHub, segments_per_file={SEGMENTS}", fig("mh_seg")))
    for label, a, b, target in (
        ("ModelHub / (hf download + verify)", "mh", "hf_total", 1.0),
        ("ModelHub / hf download alone", "mh", "hf_dl", 1.0),
        ("ModelHub / curl", "mh", "curl", 1.25),
        (f"ModelHub {SEGMENTS} segments / curl", "mh_seg", "curl", 1.25),
        ("ModelHub / (curl + sync FILE)", "mh", "curl_sync", None),
    ):
        r = ratio(m.get(a), m.get(b))
        if r is not None:
            rows.append(Row(group, label, f"{r:.2f}×",
                            *((f"≤ {target:.2f}", check(r <= target)) if target else ())))
    return rows


def large_file(ctx: Ctx) -> list[Row]:
    repo = ctx.repos["big"]
    group = f"1. Large file: {describe_size(repo.size)} (median of {ctx.runs})"
    out = _timings(ctx, repo, with_segments=True)
    floor = {"startup": [ctx.mh.manage("download", "--help").ok().wall for _ in range(ctx.runs)],
             "sha256": [_sha256_in_memory(repo.size) for _ in range(ctx.runs)]}
    ctx.raw["large_file"] = {**out, "floor": floor}
    startup, sha = median(floor["startup"]), median(floor["sha256"])
    mh = median(out["times"]["mh"])
    return _rows(group, repo, out) + [
        Row(group, "floor: sha256 of as many bytes in memory, one core (no I/O)",
            f"{secs(sha)}  {rate(repo.size, sha)}"),
        Row(group, "floor: process start-up (manage.py download --help)", secs(startup)),
        Row(group, "ModelHub / (start-up + sha256 in memory)", f"{ratio(mh, startup + sha):.2f}×"),
    ]


def _sha256_in_memory(size: int) -> float:
    """Seconds one core takes to sha256 `size` bytes that are already in memory. A verified download
    cannot finish sooner (SHA-256 does not split across cores): when this exceeds curl's time, the
    hash, not the disk, is the practical limit."""
    buf = os.urandom(64 * MiB)
    h = hashlib.sha256()
    t0 = time.perf_counter()
    for _ in range(size // len(buf)):
        h.update(buf)
    h.update(buf[: size % len(buf)])
    return time.perf_counter() - t0


def small_files(ctx: Ctx) -> list[Row]:
    repo = ctx.repos["small"]
    group = f"2. Many small files: {len(repo.files)} files, {mb(repo.size)} (median of {ctx.runs})"
    out = _timings(ctx, repo, with_segments=False)
    ctx.raw["small_files"] = out
    rows = _rows(group, repo, out, extra=" [4 files at once]")
    for r in rows:
        if r.name.startswith("curl"):
            r.name = "curl --parallel --parallel-max 8 (no hash)"
        elif r.name == "hf download":
            r.name = "hf download [8 workers]"
    mh = median(out["times"]["mh"])
    rows.insert(5, Row(group, "  = ModelHub files per second",
                       f"{len(repo.files) / mh:,.0f} files/s" if mh else "—"))
    return rows


def peak_rss(ctx: Ctx) -> list[Row]:
    """Peak RSS of the `download --wait` process: large file (from section 1) vs a 40 MiB file."""
    small = ctx.repos["f40"]
    big = ctx.repos["big"]
    rss40 = []
    for _ in range(ctx.runs):
        ctx.mh.clear_storage()
        rss40.append(ctx.mh.download(small.repo_id).maxrss)
    large = ctx.raw["large_file"]["rss"]
    peak = {"mh_big": max(large["mh"]), "mh_seg": max(large["mh_seg"]) if large["mh_seg"] else None,
            "mh_40": max(rss40), "hf_big": max(large["hf_dl"])}
    ctx.raw["peak_rss"] = peak
    limit = 200 * MB
    group = "4. Peak RSS of download --wait (max over runs)"
    growth = peak["mh_big"] - peak["mh_40"]
    rows = [
        Row(group, f"ModelHub, {describe_size(small.size)} file", mb(peak["mh_40"]), "< 200 MB",
            check(peak["mh_40"] < limit)),
        Row(group, f"ModelHub, {describe_size(big.size)} file", mb(peak["mh_big"]), "< 200 MB",
            check(peak["mh_big"] < limit)),
    ]
    if peak["mh_seg"]:
        rows.append(Row(group, f"ModelHub, {describe_size(big.size)}, {SEGMENTS} segments",
                        mb(peak["mh_seg"]), "< 200 MB", check(peak["mh_seg"] < limit)))
    rows += [
        Row(group, f"flat: {describe_size(big.size)} peak − {describe_size(small.size)} peak", mb(growth),
            "< 32 MB", check(growth < 32 * MB)),
        Row(group, f"(hf download, {describe_size(big.size)} file, for reference)", mb(peak["hf_big"])),
    ]
    return rows
