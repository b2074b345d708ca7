"""7. Admin: job changelist with 10,000 jobs, progress endpoint under 50 pollers (see admin_probe.py)."""

from __future__ import annotations

from benchmarks.context import Ctx
from benchmarks.harness import PY
from benchmarks.report import Row, check, secs

# The issue sets no numbers for the admin; these are proposed (marked * in the table).
MAX_QUERIES = 15
MAX_PAGE = 0.5
P50, P99 = 0.1, 0.5


def admin(ctx: Ctx, *, rows: int = 10_000, pollers: int = 50) -> list[Row]:
    paced, burst = (6.0, 3.0) if ctx.quick else (9.0, 5.0)
    res = ctx.h.run([PY, "-m", "benchmarks.admin_probe", "--rows", str(rows), "--pollers", str(pollers),
                     "--paced", str(paced), "--burst", str(burst)], env=ctx.mh.env, timeout=300).ok()
    data = res.json()
    ctx.raw["admin"] = data
    group = f"7. Admin, {rows:,} DownloadJob rows (* = proposed target, none in the issue)"
    if not data.get("available"):
        return [Row(group, "job changelist", "not available: " + data.get("reason", ""), status="N/A")]
    small, big = data["changelist_small"], data["changelist"]
    out = [
        Row(group, f"changelist SQL queries at {small['rows']:,} / {big['rows']:,} rows",
            f"{small['queries']} / {big['queries']}", f"≤ {MAX_QUERIES}, same*",
            check(big["queries"] <= MAX_QUERIES and big["queries"] == small["queries"])),
        Row(group, f"changelist time at {small['rows']:,} / {big['rows']:,} rows (test Client)",
            f"{secs(small['time_median'])} / {secs(big['time_median'])} (SQL {secs(big['sql_time_median'])})",
            f"≤ {secs(MAX_PAGE)}*", check(big["status"] == 200 and big["time_median"] <= MAX_PAGE)),
    ]
    if data.get("progress_client") is None:
        out.append(Row(group, "progress endpoint", "not available", status="N/A"))
        return out
    pc = data["progress_client"]
    out.append(Row(group, "progress JSON (30 active jobs): queries, time",
                   f"{pc['queries']}, {secs(pc['time_median'])}"))
    for kind, label in (("gunicorn", "gunicorn 2×8 threads, as run.sh"), ("wsgiref", "stdlib threaded WSGI")):
        if kind not in data["pollers"]:
            continue
        for mode, what in (("paced", f"{pollers} pollers every 1.5 s"),
                           ("burst", f"{pollers} pollers back to back")):
            p = data["pollers"][kind][mode]
            result = (f"p50 {secs(p['p50'])}, p99 {secs(p['p99'])}, {p['rps']:.0f} req/s"
                      + (f", {p['errors']} errors" if p["errors"] else ""))
            if mode == "paced":
                ok = p["errors"] == 0 and p["p50"] is not None and p["p50"] <= P50 and p["p99"] <= P99
                out.append(Row(group, f"progress, {label}, {what}", result,
                               f"p50 ≤ {secs(P50)}, p99 ≤ {secs(P99)}*", check(ok)))
            else:
                out.append(Row(group, f"progress, {label}, {what}", result))
    return out
