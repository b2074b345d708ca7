"""Fixed costs of one download on a fast link: the time before its first byte and after its last.

A 512 MiB file through the test Hub's CDN with no per-connection cap moves in a second or two, so the
rest of the command is a large share: the interpreter and Django, the Hub's metadata, the job's
setup, the redirect and time to first byte; then the final fsync, publish, links, verification and
the job's record, and the process exit. `benchmarks/traced_download.py` runs the same `download
--wait` with each step stamped; the test Hub's request log counts the requests each phase made.
"""

from __future__ import annotations

import json

from benchmarks.data import Repo
from benchmarks.fixtures import HubServer, ModelHub
from benchmarks.harness import MB, PY, REPO_ROOT, Harness
from benchmarks.report import Row, secs


def span(marks: dict, label: str) -> tuple[float, float] | None:
    """(first start, last end) of a step's calls."""
    calls = marks.get(label) or []
    return (min(s for s, _ in calls), max(e for _, e in calls)) if calls else None


def total(marks: dict, label: str, after: float = 0.0) -> float:
    return sum(e - s for s, e in marks.get(label) or [] if s >= after)


def traced_download(h: Harness, mh: ModelHub, hub: HubServer, repo: Repo) -> tuple[dict, dict]:
    """Run the traced download; (phases in seconds, request counts)."""
    mh.clear_storage()
    trace = h.path("trace.json")
    since = hub.mark()
    script = REPO_ROOT / "benchmarks" / "traced_download.py"
    res = h.run([PY, str(script), repo.repo_id, "--kind", "files"],
                env={**mh.env, "MODELHUB_BENCH_TRACE": str(trace)}, timeout=900)
    res.ok()
    t = json.loads(trace.read_text())
    m = t["marks"]
    job, meta, requests = span(m, "job"), span(m, "metadata"), span(m, "request")
    data = span(m, "bytes")
    first_byte, last_byte = data
    fsync = total(m, "fsync", after=last_byte - 1)
    records = hub.records(since)
    resolve = [r for r in records if "/resolve/" in r["path"] and r["method"] == "GET"]
    api = [r for r in records if r["path"].startswith("/api/")]
    api_before_job = [r for r in api if r["time"] < job[0]]
    started = t["process"] or t["script"]
    after_publish = span(m, "publish")[1]
    phases = {
        "python and Django start": m["django"][0][1] - started,
        "imports of the transfer code (requests...)": m["instrument"][0][1] - m["instrument"][0][0],
        "command before the job (variant, queue)": job[0] - m["instrument"][0][1],
        "job start (claim, huggingface_hub, client)": meta[0] - job[0],
        "Hub metadata (repo info, file list)": meta[1] - meta[0],
        "job setup (space, tree, threads, lock)": requests[0] - meta[1],
        "redirect and first byte": first_byte - requests[0],
        "transfer (first to last byte)": last_byte - first_byte,
        "final fsync": fsync,
        "hash catch-up, threads, publish": after_publish - last_byte - fsync,
        "links, verification, manifest, job record": job[1] - after_publish,
        "report and exit": res.wall - (job[1] - started),
    }
    detail = {"of which: snapshot links and ref": total(m, "links"),
              "of which: verification (formats, completeness)": total(m, "verify"),
              "of which: fingerprints for the manifest": total(m, "fingerprint"),
              "of which: job record (finish)": total(m, "record")}
    counts = {"metadata requests": len(api), "of them before the job": len(api_before_job),
              "resolve requests (redirects)": len(resolve),
              "CDN requests": len([r for r in records if r["path"].startswith("/lfs/")])}
    phases["_wall"] = res.wall
    phases["_detail"] = detail
    return phases, counts


def rows(phases: dict, counts: dict, repo: Repo, link: str) -> list[Row]:
    group = f"fixed costs: {repo.size / MB:,.0f} MB, one file, through {link}"
    phases = dict(phases)
    wall, detail = phases.pop("_wall"), phases.pop("_detail")
    out = [Row(group, "whole command", secs(wall))]
    fixed = 0.0
    for name, seconds in phases.items():
        out.append(Row(group, name, secs(seconds)))
        if not name.startswith("transfer"):
            fixed += seconds
        if name.startswith("links"):
            out += [Row(group, f"  {k}", secs(v)) for k, v in detail.items()]
    out.append(Row(group, "before the first byte + after the last", f"{secs(fixed)} ({fixed / wall:.0%})"))
    out += [Row(group, name, str(n)) for name, n in counts.items()]
    return out
