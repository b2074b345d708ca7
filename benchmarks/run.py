"""ModelHub's performance, measured against `hf download`, curl and openssl on this machine.

    .venv/bin/python benchmarks/run.py [--size 2GiB] [--small-files 200] [--runs 3] [--quick]
                                       [--json out.json]

Everything happens in one temp dir (data, hub server, ModelHub's database and storage, hf's cache),
which is removed at the end; every process it starts is killed at the end, also on Ctrl-C. Prints the
machine, then one table: absolute figures, ratios, and PASS/MISS against each target. Exits 0 even
when a target is missed (1 only if the benchmark itself could not run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench_admin, bench_resilience, bench_transfer, bench_verify  # noqa: E402
from benchmarks.context import Ctx  # noqa: E402
from benchmarks.data import big_repo, describe_size, small_files_repo  # noqa: E402
from benchmarks.fixtures import HubServer, ModelHub  # noqa: E402
from benchmarks.harness import MB, REPO_ROOT, BenchError, Harness, MiB  # noqa: E402
from benchmarks.report import Row, contention, cpu_pressure, machine, render, render_machine  # noqa: E402
from modelhub.sizes import parse_size  # noqa: E402

RATE_FILE = 600 * MB  # 12 s at the 50 MB/s cap: room for a 10-second window
SMALL_FILE = 40 * MiB

PHASES = [  # run order (verification needs section 1's install); printed in section order
    ("large file", bench_transfer.large_file),
    ("verification", bench_verify.verification),
    ("many small files", bench_transfer.small_files),
    ("peak RSS", bench_transfer.peak_rss),
    ("bandwidth caps", bench_resilience.bandwidth_cap),
    ("kill and resume", bench_resilience.resume_after_kill),
    ("admin", bench_admin.admin),
]
GROUPS = {"large file": "1.", "many small files": "2.", "verification": "3.", "peak RSS": "4.",
          "kill and resume": "5.", "bandwidth caps": "6.", "admin": "7."}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", help="the large file (default 2GiB; 512MiB with --quick)")
    ap.add_argument("--small-files", type=int, default=200, metavar="N", help="files in the many-files repo")
    ap.add_argument("--runs", type=int,
                    help="runs per measurement, the median is shown (default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="512 MiB, 1 run: about 2-3 minutes")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--tmpdir", metavar="DIR", help="where the temp dir goes (default: the system's)")
    args = ap.parse_args(argv)
    size = parse_size(args.size or ("512MiB" if args.quick else "2GiB"))
    runs = args.runs or (1 if args.quick else 3)
    if size < 64 * MiB or runs < 1 or args.small_files < 1:
        ap.error("--size must be at least 64MiB, --runs and --small-files at least 1")
    if args.tmpdir:
        import tempfile

        tempfile.tempdir = args.tmpdir

    started = time.monotonic()
    with Harness() as h:
        try:
            return _run(h, size=size, runs=runs, small=args.small_files, quick=args.quick,
                        json_path=args.json, started=started)
        except KeyboardInterrupt:
            print("\ninterrupted: every process stopped, temp dir removed", file=sys.stderr)
            return 130
        except BenchError as exc:
            print(f"benchmark could not run: {exc}", file=sys.stderr)
            return 1


def _run(h: Harness, *, size: int, runs: int, small: int, quick: bool, json_path: str | None,
         started: float) -> int:
    psi_before = cpu_pressure()  # before the benchmark adds its own load
    # ModelHub as scripts/bootstrap.sh leaves it: byte-compiled. Without this, an edit since the last
    # bootstrap (and PYTHONDONTWRITEBYTECODE) would add the compile time to every command measured.
    subprocess.run([str(REPO_ROOT / "scripts" / "compile.sh")], check=True)
    info = machine(h.root)
    print("ModelHub benchmark\n" + render_machine(info), flush=True)
    part = size // 4 // MiB * MiB
    needed = 3 * size + 2 * 4 * part + 2 * RATE_FILE + 4 * SMALL_FILE
    free = shutil.disk_usage(h.root).free
    if free < needed * 1.1:
        raise BenchError(f"needs about {needed / 1024**3:.1f} GiB free in {h.root.parent}, "
                         f"has {free / 1024**3:.1f}")

    _say(started, f"generating data ({(size + 4 * part + RATE_FILE + SMALL_FILE) / 1024**3:.1f} GiB)")
    data = h.path("data")
    repos = {
        "big": big_repo(data / "big", "org/big", {"big.bin": size}),
        "quad": big_repo(data / "quad", "org/quad", {f"part-{i}.bin": part for i in range(4)}),
        "small": small_files_repo(data / "small", "org/small", small),
        "f40": big_repo(data / "f40", "org/f40", {"model.bin": SMALL_FILE}),
        "rate": big_repo(data / "rate", "org/rate", {"rate.bin": RATE_FILE}),
    }
    os.sync()  # written back now, not while something is being timed
    _say(started, "starting the hub server (it hashes every file first)")
    # org/big first: the throttled server's commit matches
    hub = HubServer(h, list(repos.values()), name="main")
    mh = ModelHub(h)
    mh.setup(hub.url)
    ctx = Ctx(h=h, hub=hub, mh=mh, repos=repos, runs=runs, quick=quick)

    rows: list[Row] = []
    for name, phase in PHASES:
        _say(started, name)
        try:
            rows += phase(ctx)
        except Exception as exc:  # noqa: BLE001 - one failed measurement must not lose the others
            why = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
            rows.append(Row(f"{GROUPS[name]} {name}", name, f"could not measure: {why}"[:2000],
                            status="ERROR"))
    rows.sort(key=lambda r: int(r.group.split(".")[0]))
    elapsed = time.monotonic() - started

    print(f"\nResults: large file {describe_size(size)}, {small} small files, median of {runs} run(s); "
          f"took {elapsed / 60:.1f} min; at the end: {contention()}")
    print(render(rows))
    for r in rows:
        if r.status == "ERROR":
            print(f"\nERROR in {r.group}: {r.result}")
    counts = {s: sum(r.status == s for r in rows) for s in ("PASS", "MISS", "ERROR")}
    print(f"\n{counts['PASS']} PASS, {counts['MISS']} MISS, {counts['ERROR']} ERROR")
    if psi_before is not None and psi_before > 10:
        print("Note: other processes were competing for the CPU when the run started "
              f"(PSI {psi_before:.0f}%): wall-clock figures are pessimistic, CPU seconds less so. "
              "Re-run on an idle machine.")
    if json_path:
        Path(json_path).write_text(json.dumps({"machine": info, "size": size, "runs": runs,
                                               "small_files": small, "elapsed_s": elapsed,
                                               "rows": [r.as_dict() for r in rows], "raw": ctx.raw},
                                              indent=2, default=str))
    return 0


def _say(started: float, what: str) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {what}…", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
