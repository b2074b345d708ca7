"""What the fault-injection scenarios assert, shared: job chains, overlapping runs, the storage folder
and bytes on the wire (the kill -9 of a worker mid-transfer is in faults.py)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from pathlib import Path

from downloads.services import AUTO_RETRY_CODES
from tests.scaleout.backends import to_epoch
from tests.scaleout.stack import Stack

MB = 1_000_000
MiB = 1 << 20
ACTIVE = ("queued", "running", "verifying")
RETRYABLE = {str(code) for code in AUTO_RETRY_CODES}

JOBS_SQL = """
SELECT j.id, j.variant_id, j.kind, j.state, j.attempt, j.origin, j.error_code, j.error_message, j.worker,
       j.created_at, j.dispatched_at, j.started_at, j.finished_at, j.bytes_total, j.bytes_done,
       j.bytes_transferred, j.bytes_resumed, j.cancel_requested, j.verification,
       v.repo_id, v.include, v.status AS variant_status
FROM downloads_downloadjob j JOIN downloads_modelvariant v ON v.id = j.variant_id
ORDER BY j.id
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def job_rows(stack: Stack) -> list[dict]:
    rows = stack.db.query(JOBS_SQL)
    for r in rows:
        for key in ("created_at", "dispatched_at", "started_at", "finished_at"):
            r[key] = to_epoch(r[key])
        r["include"] = _json(r["include"]) or []
        r["verification"] = _json(r["verification"]) or {}
        r["cancel_requested"] = bool(r["cancel_requested"])
    return rows


def events(stack: Stack, kind: str | None = None) -> list[dict]:
    sql = "SELECT e.job_id, e.kind, e.message FROM downloads_jobevent e"
    return stack.db.query(sql + " WHERE e.kind = ? ORDER BY e.id", (kind,)) if kind else \
        stack.db.query(sql + " ORDER BY e.id")


def worker_pid(row: dict) -> int | None:
    worker = row.get("worker") or ""
    return int(worker.rsplit(":", 1)[1]) if ":" in worker else None


def chains(rows: list[dict]) -> dict[int, list[dict]]:
    """Download/repair jobs per variant, oldest first (verify jobs are not part of a download chain)."""
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] != "verify":
            out[r["variant_id"]].append(r)
    return out


def chain_is_final(chain: list[dict], max_attempts: int) -> bool:
    last = chain[-1]
    if last["state"] in ACTIVE:
        return False
    if last["state"] == "failed" and last["error_code"] in RETRYABLE and last["attempt"] < max_attempts:
        return False  # its next attempt is about to be queued (after_job / reap run right after)
    return True


def describe(rows: list[dict]) -> str:
    return "\n".join(
        f"  job {r['id']:>3} {r['repo_id']}{r['include'] or ''} #{r['attempt']} {r['state']} "
        f"{r['error_code'] or ''} {(r['error_message'] or '')[:120]} worker={r['worker']}"
        for r in rows)


def wait_settled(stack: Stack, *, timeout: float, max_attempts: int = 3, housekeeping_every: float = 3.0,
                 on_poll=None) -> list[dict]:
    """Poll the database until every chain has ended; run `housekeeping` now and then like cron would."""
    deadline = time.monotonic() + timeout
    next_housekeeping = time.monotonic() + housekeeping_every
    rows: list[dict] = []
    while time.monotonic() < deadline:
        rows = job_rows(stack)
        if rows and all(chain_is_final(c, max_attempts) for c in chains(rows).values()):
            return rows
        if on_poll:
            on_poll(rows)
        if housekeeping_every and time.monotonic() >= next_housekeeping:
            stack.housekeeping()
            next_housekeeping = time.monotonic() + housekeeping_every
        time.sleep(0.5)
    unfinished = [c[-1] for c in chains(rows).values() if not chain_is_final(c, max_attempts)]
    raise AssertionError(f"jobs still unfinished after {timeout}s:\n{describe(unfinished)}\n"
                         f"{stack.log_tails()}")


def assert_chains(rows: list[dict], *, expected_failures: dict[str, str], max_attempts: int = 3) -> None:
    """Every chain ends succeeded, except the repos whose fault is permanent (repo -> error code), which
    fail at once; every earlier attempt failed with a code that is retried automatically."""
    for chain in chains(rows).values():
        last, repo = chain[-1], chain[-1]["repo_id"]
        assert [j["attempt"] for j in chain] == list(range(1, len(chain) + 1)), describe(chain)
        assert len(chain) <= max_attempts, describe(chain)
        for earlier in chain[:-1]:
            assert earlier["state"] == "failed" and earlier["error_code"] in RETRYABLE, describe(chain)
        for later in chain[1:]:
            assert later["origin"] == "retry", describe(chain)
        if repo in expected_failures:
            assert (last["state"], last["error_code"]) == ("failed", expected_failures[repo]), describe(chain)
            assert len(chain) == 1, f"a permanent failure must not be retried:\n{describe(chain)}"
        else:
            assert last["state"] == "succeeded", describe(chain)
            assert last["variant_status"] == "installed", describe(chain)


def assert_no_overlapping_runs(rows: list[dict]) -> None:
    """No variant ever had two jobs running at once (by the rows' started_at / finished_at)."""
    by_variant: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r["started_at"] is not None:
            by_variant[r["variant_id"]].append(r)
    for runs in by_variant.values():
        runs.sort(key=lambda r: r["started_at"])
        for a, b in zip(runs, runs[1:], strict=False):
            assert a["finished_at"] is not None and a["finished_at"] <= b["started_at"], \
                f"two jobs of one variant ran at overlapping times:\n{describe([a, b])}"


def git_blob_sha1(path: Path) -> str:
    h = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def partial_files(storage: Path) -> list[Path]:
    return sorted(p for p in storage.rglob("*") if p.name.endswith((".incomplete", ".incomplete.segments")))


def assert_blobs_are_what_they_claim(storage: Path) -> int:
    """Every published blob hashes to its own name (sha256 for LFS files, git-sha1 for others)."""
    count = 0
    for blob in storage.glob("*--*/blobs/*"):
        if blob.name.endswith((".incomplete", ".segments")):
            continue
        assert blob.name in (sha256_file(blob), git_blob_sha1(blob)), f"{blob} does not hash to its name"
        count += 1
    return count


def assert_snapshots_point_at_blobs(storage: Path) -> None:
    """No snapshot link dangles: whatever is linked was published complete."""
    for link in storage.glob("*--*/snapshots/*/**/*"):
        if link.is_symlink():
            assert link.exists(), f"{link} points at a missing blob {os.readlink(link)}"


def verify_all(stack: Stack, *, expect_ok: bool = True) -> list[dict]:
    proc = stack.manage("verify", "--all", "--full", "--json", check=False, timeout=300)
    results = json.loads(proc.stdout)
    if expect_ok:
        bad = [r for r in results if r["state"] != "succeeded"]
        assert proc.returncode == 0 and not bad, \
            f"verify --all --full failed:\n{json.dumps(bad, indent=1)[:4000]}"
    return results


def payload_bytes(hub, repo_id: str, path: str) -> int:
    """File bytes the FakeHub wrote for that repo file (bodies of 200/206 answers, not error pages)."""
    with hub._log_lock:
        recs = list(hub.requests)
    return sum(r.bytes_sent for r in recs if r.method == "GET" and r.repo_id == repo_id
               and r.file_path == path and r.status in (200, 206))


def gets(hub, repo_id: str, path: str, *, after: float = 0.0) -> list:
    with hub._log_lock:
        recs = list(hub.requests)
    return [r for r in recs if r.method == "GET" and r.repo_id == repo_id and r.file_path == path
            and r.status in (200, 206) and r.time > after]

