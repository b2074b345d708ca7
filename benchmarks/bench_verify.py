"""3. Verification alone: `manage.py verify ID --full --json` vs `openssl dgst -sha256`, plus
hash_file in-process."""

from __future__ import annotations

import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.context import Ctx
from benchmarks.data import describe_size
from benchmarks.harness import median
from benchmarks.report import Row, check, rate, ratio, secs

TARGET = 1.10


def _hash_in_process(paths, workers: int) -> tuple[float, float]:
    """(wall, CPU) of hashing the files with engine.verify.hashing.hash_file on `workers` threads, as
    verify does."""
    from engine.verify import hash_file  # no Django, no process start-up

    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda p: hash_file(p, "sha256", os.path.getsize(p)), paths))
    ru1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)


def verification(ctx: Ctx) -> list[Row]:
    big, quad = ctx.repos["big"], ctx.repos["quad"]
    quad_job = ctx.mh.download(quad.repo_id).extra["job"]  # installed beside section 1's file (not timed)
    ids = {"big": ctx.raw["variants"][big.repo_id], "quad": quad_job["variant_id"]}
    cases = {"big": ctx.mh.installed_files(big), "quad": ctx.mh.installed_files(quad)}
    cores = os.cpu_count() or 1
    t: dict[str, list] = {f"{k}_{what}": [] for k in cases
                          for what in ("mh", "mh_cpu", "openssl", "inproc", "inproc_cpu")}
    t["startup"], t["startup_cpu"] = [], []
    for _ in range(ctx.runs):
        start = ctx.mh.manage("verify", "--help").ok()
        t["startup"].append(start.wall)
        t["startup_cpu"].append(start.cpu)
        for key, files in cases.items():
            res = ctx.mh.verify(ids[key])
            t[f"{key}_mh"].append(res.wall)
            t[f"{key}_mh_cpu"].append(res.cpu)
            t[f"{key}_openssl"].append(ctx.h.run(["openssl", "dgst", "-sha256", *map(str, files)]).ok().wall)
            wall, cpu = _hash_in_process(files, max(1, min(len(files), cores)))
            t[f"{key}_inproc"].append(wall)
            t[f"{key}_inproc_cpu"].append(cpu)
    ctx.raw["verification"] = {"times": t, "quad_download": quad_job}
    m = {k: median(v) for k, v in t.items()}

    group = f"3. Verification alone, warm page cache (median of {ctx.runs})"
    rows = [Row(group, "process start-up: manage.py verify --help",
                f"{secs(m['startup'])} (CPU {m['startup_cpu']:.2f} s)")]
    for key, label in (("big", f"1 × {describe_size(big.size)}"),
                       ("quad", f"{len(quad.files)} × {describe_size(quad.size // len(quad.files))}")):
        n = sum(os.path.getsize(f) for f in cases[key])
        workers = max(1, min(len(cases[key]), cores))

        def fig(k: str) -> str:
            return f"{secs(m[k])}  {rate(n, m[k])}  (best {secs(min(t[k]))})"  # noqa: B023 - used at once

        # CPU use of the command once start-up is taken out: are both cores hashing? Only meaningful
        # if the machine lets the in-process reference (same threads, no Django) use them.
        busy = (m[key + "_mh_cpu"] - m["startup_cpu"]) / max(1e-3, m[key + "_mh"] - m["startup"])
        inproc_cores = m[key + "_inproc_cpu"] / m[key + "_inproc"]
        want = 0.75 * workers
        verdict = check(busy >= want) if busy >= want or inproc_cores >= want else "N/A"
        rows += [
            Row(group, f"ModelHub verify ID --full --json, {label}", fig(key + "_mh")),
            Row(group, "  CPU use, whole command (user+sys)/wall",
                f"{m[key + '_mh_cpu'] / m[key + '_mh']:.2f} cores"),
            Row(group, "  CPU use after start-up (hashing)",
                f"{busy:.2f} cores" + (" (machine busy: the in-process reference got "
                                       f"{inproc_cores:.2f})" if verdict == "N/A" else ""),
                f"≥ {want:.2f}" if workers > 1 else "", verdict if workers > 1 else ""),
            Row(group, f"openssl dgst -sha256, {label}" + (" (sequential)" if len(cases[key]) > 1 else ""),
                fig(key + "_openssl")),
            Row(group, f"hash_file in-process, {label}, {workers} thread(s)",
                f"{fig(key + '_inproc')}, {inproc_cores:.2f} cores"),
        ]
        r = ratio(m[key + "_mh"], m[key + "_openssl"])
        rows.append(Row(group, "ModelHub verify / openssl", f"{r:.2f}×", f"≤ {TARGET:.2f}",
                        check(r <= TARGET)))
        r1 = ratio(m[key + "_mh"] - m["startup"], m[key + "_openssl"])
        rows.append(Row(group, "(ModelHub verify − start-up) / openssl", f"{r1:.2f}×"))
        r2 = ratio(m[key + "_inproc"], m[key + "_openssl"])
        rows.append(Row(group, "hash_file in-process / openssl", f"{r2:.2f}×"))
    return rows
