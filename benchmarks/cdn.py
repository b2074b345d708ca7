#!/usr/bin/env python3
"""Speed where users are: through a CDN that caps each connection (issue 17), one command.

    .venv/bin/python benchmarks/cdn.py                  # 1 GiB file + 4 x 512 MiB repo, median of 3
    .venv/bin/python benchmarks/cdn.py --size 256MiB --fixed-size 128MiB --runs 1    # a quick look
    .venv/bin/python benchmarks/cdn.py --only fixed     # only the fixed costs of one download

1. Fixed costs: one 512 MiB file through the CDN with no cap (a fast link), with the time before
   its first byte and after its last broken down (fixed_costs.py).
2. The CDN: the test Hub redirects LFS files to its CDN origin, which caps every connection (default
   20 MB/s), adds time to first byte (40 ms) and caps the whole link (400 MB/s). ModelHub with
   default settings (adaptive connections) is timed against `aria2c -x16 -s16` and `hf download` on
   a single file and a sharded repo, interleaved run by run. Targets: ModelHub <= 1.1 x aria2c and
   <= 0.5 x hf download on both, peak RSS < 200 MB.
Everything stays on 127.0.0.1 and in one temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import fixed_costs  # noqa: E402
from benchmarks.data import big_repo, describe_size  # noqa: E402
from benchmarks.fixtures import HubServer, ModelHub  # noqa: E402
from benchmarks.harness import MB, BenchError, Harness, MiB, clear_dir, hf_env, median, tool  # noqa: E402
from benchmarks.report import Row, check, machine, render, render_machine, secs  # noqa: E402


def parse_size(text: str) -> int:
    units = {"MiB": MiB, "GiB": 1024 * MiB}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    raise SystemExit(f"sizes take MiB or GiB, e.g. 512MiB: {text!r}")


def missing_tools(only: str) -> list[str]:
    """What this machine lacks for the comparison, each with how to get it."""
    if only == "fixed":
        return []
    missing = []
    if not shutil.which("aria2c"):
        missing.append("aria2c (Debian/Ubuntu: apt-get install aria2)")
    if not os.path.exists(tool("hf")) and not shutil.which("hf"):
        missing.append("hf, huggingface_hub's CLI (scripts/bootstrap.sh test installs it in .venv)")
    return missing


def fixed_section(h: Harness, mh: ModelHub, size: int, args) -> list[Row]:
    repo = big_repo(h.path("data", "fixed"), "org/fixed", {"model.bin": size})
    caps = ["--cdn-connection-cap", str(args.connection_cap), "--cdn-link-cap", str(args.link_cap)]
    hub = HubServer(h, [repo], name="fast",
                    extra=["--cdn", "--cdn-ttfb", str(args.ttfb), *(caps if args.fixed_capped else [])])
    mh.configure("--hub-endpoint", hub.url)
    runs_done = sorted((fixed_costs.traced_download(h, mh, hub, repo) for _ in range(args.runs)),
                       key=lambda r: r[0]["_wall"])
    phases, counts = runs_done[len(runs_done) // 2]  # the run of median length
    hub.stop()
    mh.clear_storage()
    return fixed_costs.rows(phases, counts, repo, "the capped CDN" if args.fixed_capped else
                            "a fast link (the CDN uncapped)")


def cdn_section(h: Harness, mh: ModelHub, args, size: int) -> list[Row]:
    # .bin: random bytes would fail the format checks of .gguf or .safetensors names
    repos = {"single": big_repo(h.path("data", "single"), "org/single", {"model.bin": size}),
             "sharded": big_repo(h.path("data", "sharded"), "org/sharded",
                                 {f"model-0000{i}-of-00004.bin": size // 2 for i in range(1, 5)})}
    hub = HubServer(h, list(repos.values()), name="cdn",
                    extra=["--cdn", "--cdn-connection-cap", str(args.connection_cap), "--cdn-ttfb",
                           str(args.ttfb), "--cdn-link-cap", str(args.link_cap)])
    mh.configure("--hub-endpoint", hub.url)
    rows = []
    for name, repo in repos.items():
        t = {"modelhub": [], "aria2c": [], "hf": []}
        rss = []
        for _ in range(args.runs):
            mh.clear_storage()
            res = mh.download(repo.repo_id)
            t["modelhub"].append(res.wall)
            rss.append(res.maxrss)
            out = h.path("aria2")
            clear_dir(out)
            urls = h.path("aria2.txt")
            urls.write_text("".join(f"{repo.url(hub.url, p)}\n  out={p}\n" for p in sorted(repo.files)))
            t["aria2c"].append(h.run(["aria2c", "-q", "-x16", "-s16", "-k1M", "-j4", "--dir", str(out),
                                      "-i", str(urls)]).ok().wall)
            clear_dir(out)
            cache = h.path("hf-cache")
            clear_dir(cache)
            t["hf"].append(h.run([tool("hf"), "download", repo.repo_id, "--cache-dir", str(cache)],
                                 env=hf_env(hub.url, h.path("hf-home"))).ok().wall)
            clear_dir(cache)
        mh.clear_storage()
        m = {k: median(v) for k, v in t.items()}
        group = f"CDN, {name}: {describe_size(repo.size)} in {len(repo.files)} file(s)"
        for tool_name in ("modelhub", "aria2c", "hf"):
            rows.append(Row(group, tool_name, f"{secs(m[tool_name])}  "
                            f"{repo.size / m[tool_name] / MB:,.0f} MB/s"))
        rows.append(Row(group, "ModelHub / aria2c", f"{m['modelhub'] / m['aria2c']:.2f} x",
                        "<= 1.1", check(m["modelhub"] <= 1.1 * m["aria2c"])))
        rows.append(Row(group, "ModelHub / hf download", f"{m['modelhub'] / m['hf']:.2f} x",
                        "<= 0.5", check(m["modelhub"] <= 0.5 * m["hf"])))
        rows.append(Row(group, "ModelHub peak RSS", f"{max(rss) / MB:,.0f} MB", "< 200 MB",
                        check(max(rss) < 200 * MB)))
    hub.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GiB", help="the single file; the sharded repo is 2 x this (4 parts)")
    ap.add_argument("--fixed-size", default="512MiB", help="the file of the fixed-costs section")
    ap.add_argument("--only", choices=["fixed", "cdn"], help="run one section")
    ap.add_argument("--fixed-capped", action="store_true",
                    help="take the fixed costs through the capped CDN instead of a fast link")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connection-cap", type=int, default=20 * MB, metavar="BPS")
    ap.add_argument("--ttfb", type=float, default=0.04, metavar="S")
    ap.add_argument("--link-cap", type=int, default=400 * MB, metavar="BPS")
    args = ap.parse_args(argv)
    if missing := missing_tools(args.only):
        print("benchmarks/cdn.py compares ModelHub with other tools; this machine lacks:\n  "
              + "\n  ".join(missing) + "\n(`--only fixed` needs neither)", file=sys.stderr)
        return 1
    size, fixed_size = parse_size(args.size), parse_size(args.fixed_size)
    with Harness(prefix="modelhub-cdn-") as h:
        try:
            print("ModelHub CDN benchmark\n" + render_machine(machine(h.root)), flush=True)
            mh = ModelHub(h)
            mh.setup("http://127.0.0.1:9")  # each section points it at its own test Hub
            rows = []
            if args.only != "cdn":
                rows += fixed_section(h, mh, fixed_size, args)
            if args.only != "fixed":
                rows += cdn_section(h, mh, args, size)
        except KeyboardInterrupt:
            print("\ninterrupted: every process stopped, temp dir removed", file=sys.stderr)
            return 130
        except BenchError as exc:
            print(f"benchmark could not run: {exc}", file=sys.stderr)
            return 1
        print(f"\nCDN: {args.connection_cap / MB:.0f} MB/s per connection, {args.ttfb * 1000:.0f} ms to "
              f"first byte, link {args.link_cap / MB:.0f} MB/s; median of {args.runs} run(s); load "
              f"{os.getloadavg()[0]:.2f} (1 min) at the end")
        print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
