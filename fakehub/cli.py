"""``python -m fakehub``: serve directories as repos until SIGTERM/SIGINT (benchmarks run it as a
subprocess and wait for its ``READY <url>`` line)."""

from __future__ import annotations

import argparse
import json
import pathlib
import signal
import sys
import threading

from fakehub.server import FakeHub, Handler

_DESCRIPTION = "A Hugging Face Hub compatible HTTP server for tests and benchmarks (standard library only)."


def _dir_files(root: pathlib.Path) -> dict[str, pathlib.Path]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(".git/") or rel == ".git" or rel.startswith(".cache/huggingface/"):
            continue
        if p.is_file():
            out[rel] = p
    return out


def _log_finished_requests(path: str) -> None:
    """CLI only: after each request, append {method, path, file_path, status, range, bytes_sent, times}."""
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    lock = threading.Lock()
    dispatch = Handler._dispatch

    def dispatch_and_log(handler: Handler) -> None:
        try:
            dispatch(handler)
        finally:
            rec = getattr(handler, "_rec", None)
            if rec is not None:
                line = json.dumps({
                    "method": rec.method, "path": rec.path, "repo_id": rec.repo_id,
                    "file_path": rec.file_path, "status": rec.status,
                    "range_start": rec.range_start, "range_end": rec.range_end,
                    "bytes_sent": rec.bytes_sent, "time": rec.time, "end_time": rec.end_time,
                })
                with lock:
                    out.write(line + "\n")

    Handler._dispatch = dispatch_and_log


def _quota(text: str) -> tuple[int, float]:
    """``QUOTA/SECONDS`` (``3000/300``: the Hub's 3000 resolver requests per 5 minutes) -> (3000, 300.0)."""
    quota, sep, window = text.partition("/")
    try:
        value = (int(quota), float(window))
    except ValueError:
        value = None
    if not sep or value is None or value[0] < 0 or value[1] <= 0:
        raise argparse.ArgumentTypeError(f"expected QUOTA/SECONDS such as 100/2.5, not {text!r}")
    return value


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'NAME: VALUE', not {text!r}")
    return name.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fakehub", description=_DESCRIPTION)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument(
        "--repo", action="append", default=[], metavar="ORG/NAME=DIR", help="serve DIR as a model repo"
    )
    ap.add_argument(
        "--dataset", action="append", default=[], metavar="ORG/NAME=DIR", help="serve DIR as a dataset"
    )
    ap.add_argument("--throttle", type=int, default=None, metavar="BPS", help="pace every file body")
    ap.add_argument("--cdn", action="store_true", help="redirect LFS files to a second origin")
    ap.add_argument("--cdn-connection-cap", type=int, metavar="BPS", help="cap each CDN connection")
    ap.add_argument("--cdn-ttfb", type=float, default=0.0, metavar="S", help="delay before a CDN body")
    ap.add_argument("--cdn-link-cap", type=int, metavar="BPS", help="cap all CDN connections together")
    ap.add_argument("--tree-page-size", type=int, default=1000)
    ap.add_argument("--token", action="append", default=[], help="a token that can read every repo")
    ap.add_argument("--log", metavar="FILE", help="append one JSON line per finished request (benchmarks)")
    # FakeHub.rate_limit(api=..., resolvers=..., headers=...): quotas per fixed window on the hub origin
    # (never the CDN), announced in RateLimit / RateLimit-Policy headers and answered with 429 beyond.
    limits = ap.add_argument_group("rate-limit mode (the Hub's quotas; the CDN origin is never limited)")
    limits.add_argument("--rate-limit-api", type=_quota, metavar="QUOTA/SECONDS",
                        help="allow QUOTA requests to /api/ per window of SECONDS, then 429 with Retry-After")
    limits.add_argument("--rate-limit-resolvers", type=_quota, metavar="QUOTA/SECONDS",
                        help="allow QUOTA /resolve/ file requests per window of SECONDS, then 429")
    limits.add_argument("--rate-limit-header", type=_header, action="append", metavar="'NAME: VALUE'",
                        help="send this header line on every hub answer instead and enforce nothing "
                             "(repeatable; for clients that must survive malformed values)")
    args = ap.parse_args(argv)
    if args.rate_limit_header and (args.rate_limit_api or args.rate_limit_resolvers):
        ap.error("--rate-limit-header sends fixed lines and enforces nothing: it excludes the quotas")

    hub = FakeHub(tree_page_size=args.tree_page_size, use_cdn=args.cdn, port=args.port)
    for specs, repo_type in ((args.repo, "model"), (args.dataset, "dataset")):
        for spec in specs:
            repo_id, sep, directory = spec.partition("=")
            if not sep or not repo_id:
                ap.error(f"bad repo spec {spec!r}; expected ORG/NAME=DIR")
            root = pathlib.Path(directory)
            if not root.is_dir():
                ap.error(f"not a directory: {directory}")
            hub.add_repo(repo_id, _dir_files(root), repo_type=repo_type)
    for token in args.token:
        hub.add_token(token, can_access=["*"])
    if args.throttle:
        hub.throttle(args.throttle)
    if args.cdn_connection_cap or args.cdn_ttfb or args.cdn_link_cap:
        hub.cdn_profile(args.cdn_connection_cap, ttfb=args.cdn_ttfb, link=args.cdn_link_cap)
    if args.rate_limit_api or args.rate_limit_resolvers or args.rate_limit_header:
        hub.rate_limit(api=args.rate_limit_api, resolvers=args.rate_limit_resolvers,
                       headers=args.rate_limit_header)
    if args.log:
        _log_finished_requests(args.log)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    hub.start()
    print(f"READY {hub.url}", flush=True)
    if hub.cdn_url:
        print(f"CDN {hub.cdn_url}", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    hub.stop()
    return 0
