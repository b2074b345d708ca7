#!/usr/bin/env python3
"""Speed where users are: through a CDN that caps each connection (issue 17), one command.

    .venv/bin/python benchmarks/cdn.py                  # 1 GiB file + 4 x 512 MiB repo, median of 3
    .venv/bin/python benchmarks/cdn.py --size 256MiB --runs 1

The test Hub redirects LFS files to its CDN origin, which caps every connection (default 20 MB/s),
adds time to first byte (40 ms) and caps the whole link (400 MB/s). ModelHub with default settings
(adaptive connections) is timed against `aria2c -x16 -s16` and `hf download` on the same repos,
interleaved run by run. Targets: ModelHub <= 1.1 x aria2c and <= 0.5 x hf download on both repos,
peak RSS < 200 MB. Everything stays on 127.0.0.1 and in one temp dir, removed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.data import big_repo, describe_size  # noqa: E402
from benchmarks.fixtures import HubServer, ModelHub  # noqa: E402
from benchmarks.harness import MB, Harness, MiB, clear_dir, hf_env, median, tool  # noqa: E402
from benchmarks.report import Row, check, machine, render, render_machine, secs  # noqa: E402


def parse_size(text: str) -> int:
    units = {"MiB": MiB, "GiB": 1024 * MiB}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    raise SystemExit(f"--size takes MiB or GiB, e.g. 512MiB: {text!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GiB", help="the single file; the sharded repo is 2 x this (4 parts)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connection-cap", type=int, default=20 * MB, metavar="BPS")
    ap.add_argument("--ttfb", type=float, default=0.04, metavar="S")
    ap.add_argument("--link-cap", type=int, default=400 * MB, metavar="BPS")
    args = ap.parse_args(argv)
    if not shutil.which("aria2c"):
        raise SystemExit("needs aria2c: apt-get install aria2")
    size = parse_size(args.size)
    with Harness(prefix="modelhub-cdn-") as h:
        print("ModelHub CDN benchmark\n" + render_machine(machine(h.root)), flush=True)
        # .bin: random bytes would fail the format checks of .gguf or .safetensors names
        repos = {"single": big_repo(h.path("data", "single"), "org/single", {"model.bin": size}),
                 "sharded": big_repo(h.path("data", "sharded"), "org/sharded",
                                     {f"model-0000{i}-of-00004.bin": size // 2 for i in range(1, 5)})}
        hub = HubServer(h, list(repos.values()), name="cdn",
                        extra=["--cdn", "--cdn-connection-cap", str(args.connection_cap), "--cdn-ttfb",
                               str(args.ttfb), "--cdn-link-cap", str(args.link_cap)])
        mh = ModelHub(h)
        mh.setup(hub.url)
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
            m = {k: median(v) for k, v in t.items()}
            group = f"{name}: {describe_size(repo.size)} in {len(repo.files)} file(s)"
            for tool_name in ("modelhub", "aria2c", "hf"):
                rows.append(Row(group, tool_name, f"{secs(m[tool_name])}  "
                                f"{repo.size / m[tool_name] / MB:,.0f} MB/s"))
            rows.append(Row(group, "ModelHub / aria2c", f"{m['modelhub'] / m['aria2c']:.2f} x",
                            "<= 1.1", check(m["modelhub"] <= 1.1 * m["aria2c"])))
            rows.append(Row(group, "ModelHub / hf download", f"{m['modelhub'] / m['hf']:.2f} x",
                            "<= 0.5", check(m["modelhub"] <= 0.5 * m["hf"])))
            rows.append(Row(group, "ModelHub peak RSS", f"{max(rss) / MB:,.0f} MB", "< 200 MB",
                            check(max(rss) < 200 * MB)))
        print(f"\nCDN: {args.connection_cap / MB:.0f} MB/s per connection, {args.ttfb * 1000:.0f} ms to "
              f"first byte, link {args.link_cap / MB:.0f} MB/s; median of {args.runs} run(s)")
        print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
