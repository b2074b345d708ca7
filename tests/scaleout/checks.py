"""What the fault-injection scenarios assert, shared: job chains, overlapping runs, the storage folder,
bytes on the wire, and the kill -9 of a worker in the middle of a transfer."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from downloads.services import AUTO_RETRY_CODES
from tests import workers
from tests.scaleout.stack import Stack, to_epoch

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
    raise AssertionError(f"jobs still unfinished after {timeout}s:\n{describe(unfinished)}\n{stack.log_tails()}")


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
        assert proc.returncode == 0 and not bad, f"verify --all --full failed:\n{json.dumps(bad, indent=1)[:4000]}"
    return results


def payload_bytes(hub, repo_id: str, path: str) -> int:
    """File bytes the FakeHub wrote for that repo file (bodies of 200/206 answers, not error pages)."""
    with hub._log_lock:
        recs = list(hub.requests)
    return sum(r.bytes_sent for r in recs if r.method == "GET" and r.repo_id == repo_id and r.file_path == path
               and r.status in (200, 206))


def gets(hub, repo_id: str, path: str, *, after: float = 0.0) -> list:
    with hub._log_lock:
        recs = list(hub.requests)
    return [r for r in recs if r.method == "GET" and r.repo_id == repo_id and r.file_path == path
            and r.status in (200, 206) and r.time > after]


# --- kill -9 in the middle of a transfer -------------------------------------------------------------
def group_pids(pgid: int) -> set[int]:
    """Every live process in a process group (a qcluster and the workers it forked)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            pids.add(int(entry.name))
    return pids


@dataclass
class Kill:
    label: str
    at: float
    job_ids: set[int]
    repos: set[str] = field(default_factory=set)  # of the jobs that died
    # (repo_id, path) -> bytes of its partial when the process died, for `prefix` repos: no other variant
    # needs their blobs, so nobody else may continue a partial before the next attempt does
    partials: dict[tuple[str, str], int] = field(default_factory=dict)


def _folder(repo_id: str) -> str:
    return "models--" + repo_id.replace("/", "--")


def kill_mid_transfer(stack: Stack, repos: dict, *, prefix: str, min_bytes: int = MB, timeout: float = 60) -> Kill:
    """Wait until a cluster is transferring the big file of a repo named `prefix*` (at least `min_bytes`
    on disk, 2 MB still to go), then SIGKILL that cluster's whole process group."""
    storage = stack.storage

    def candidate():
        for r in job_rows(stack):
            if r["state"] != "running" or not r["repo_id"].startswith(prefix):
                continue
            label = stack.cluster_of_pid(worker_pid(r) or 0)
            if label is None or stack.clusters[label].poll() is not None:
                continue
            big = max(repos[r["repo_id"]].files.values(), key=lambda f: f.size)
            partial = storage / _folder(r["repo_id"]) / "blobs" / f"{big.etag}.incomplete"
            have = partial.stat().st_size if partial.exists() else 0
            if min_bytes <= have <= big.size - 2 * MB:
                return label
        return None

    label = workers.wait_for(candidate, timeout=timeout, interval=0.05, message=f"a transfer of {prefix}* to kill")
    pids = group_pids(stack.clusters[label].pid)
    stack.kill9(label)
    at = time.time()
    killed = [r for r in job_rows(stack) if r["state"] in ("running", "verifying") and worker_pid(r) in pids]
    kill = Kill(label, at, {r["id"] for r in killed}, {r["repo_id"] for r in killed})
    for r in killed:
        if not r["repo_id"].startswith(prefix):
            continue
        by_etag = {f.etag: path for path, f in repos[r["repo_id"]].files.items()}
        for partial in (storage / _folder(r["repo_id"]) / "blobs").glob("*.incomplete"):
            path = by_etag[partial.name.removesuffix(".incomplete")]
            kill.partials[(r["repo_id"], path)] = partial.stat().st_size
    return kill


def assert_resumed_not_restarted(hub, repos: dict, kill: Kill, rows: list[dict]) -> None:
    """After the kill, each interrupted file continued at exactly the byte its partial held, and the Hub
    sent that file about once: its size plus at most what the dead process received but never wrote."""
    resumed = {k: v for k, v in kill.partials.items() if v > 0}
    assert resumed, f"the killed cluster {kill.label} held no partial file: {kill}"
    for (repo_id, path), on_disk in resumed.items():
        size = repos[repo_id].files[path].size
        later = gets(hub, repo_id, path, after=kill.at)
        assert later, f"{repo_id}/{path}: never requested again after the kill"
        assert later[0].range_start == on_disk, \
            f"{repo_id}/{path}: resumed at {later[0].range_start}, but {on_disk} bytes were on disk"
        sent = payload_bytes(hub, repo_id, path)
        assert sent <= size + 8 * MiB, f"{repo_id}/{path}: {sent:,} bytes sent for a {size:,}-byte file"
        variant_jobs = [r for r in rows if r["repo_id"] == repo_id and r["created_at"] > kill.at]
        assert any(r["bytes_resumed"] >= on_disk for r in variant_jobs), \
            f"{repo_id}: no later attempt reports resuming {on_disk:,} bytes:\n{describe(variant_jobs)}"


def assert_nothing_lost(stack: Stack, hub, repos: dict, kill: Kill, rows: list[dict], *,
                        expected_failures: dict[str, str], corrupted: str, installed: int) -> None:
    """The end state every fault scenario must reach (see the scenarios for the faults)."""
    # Every chain ended as it should, and the faults really happened.
    assert_chains(rows, expected_failures=expected_failures)
    lost = {r["id"] for r in rows if r["error_code"] == "worker_lost"}
    assert lost == kill.job_ids, f"only the killed cluster's jobs may be declared lost:\n{describe(rows)}"
    corrupt_chain = [r for r in rows if r["repo_id"] == corrupted]
    assert [r["error_code"] for r in corrupt_chain][:1] == ["verification_failed"], describe(corrupt_chain)
    retries = [e["message"] for e in events(stack, "retry")]
    assert any("HTTP 500" in m for m in retries), retries
    assert any("connection closed" in m or "Connection broken" in m or "IncompleteRead" in m for m in retries), \
        retries

    # No variant ever ran twice at once; the database agrees.
    assert_no_overlapping_runs(rows)
    assert not stack.db.query("SELECT variant_id FROM downloads_downloadjob WHERE state IN "
                              "('queued', 'running', 'verifying') GROUP BY variant_id HAVING COUNT(*) > 1")

    # The storage holds exactly the verified files.
    storage = stack.storage
    assert partial_files(storage) == []
    assert assert_blobs_are_what_they_claim(storage) == sum(
        len({f.etag for f in repo.files.values()}) for repo in repos.values())
    assert_snapshots_point_at_blobs(storage)
    assert len(verify_all(stack)) == installed
    status = {(v["repo_id"], v["name"]): v["status"] for v in stack.manage_json("models_status")}
    for repo_id in expected_failures:
        assert status.pop((repo_id, "")) == "failed"
    assert list(status.values()) == ["installed"] * installed, status

    # Bytes: the killed transfers resumed where their partials ended; nothing else crossed the wire twice.
    assert_resumed_not_restarted(hub, repos, kill, rows)
    for repo_id, repo in repos.items():
        for path, f in repo.files.items():
            sent = payload_bytes(hub, repo_id, path)
            if path == "corrupt-me.bin":
                assert sent <= 2 * f.size + MiB, (repo_id, path, sent)
            elif repo_id in kill.repos:
                assert sent <= f.size + 8 * MiB, (repo_id, path, sent)
            else:
                assert sent <= f.size + MiB, f"{repo_id}/{path}: {sent:,} bytes sent for {f.size:,}"
    assert hub.server_errors == []


def summary(stack: Stack, kill: Kill, rows: list[dict]) -> str:
    return (f"killed cluster {kill.label}: jobs {sorted(kill.job_ids)}, partials {kill.partials}; {len(rows)} jobs, "
            f"{len(events(stack, 'retry'))} transfer retries, {len(events(stack, 'redispatch'))} re-dispatches, "
            f"{sum(r['bytes_resumed'] for r in rows):,} bytes resumed")
