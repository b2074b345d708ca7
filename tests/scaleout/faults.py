"""The kill -9 of a worker in the middle of a transfer, and the end state every fault scenario must
reach: chains ended as they should, no variant ran twice at once, the storage holds exactly the
verified files, and interrupted transfers resumed instead of starting again."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import workers
from tests.scaleout.checks import (
    MB,
    MiB,
    assert_blobs_are_what_they_claim,
    assert_chains,
    assert_no_overlapping_runs,
    assert_snapshots_point_at_blobs,
    describe,
    events,
    gets,
    job_rows,
    partial_files,
    payload_bytes,
    verify_all,
    worker_pid,
)
from tests.scaleout.stack import Stack


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


def kill_mid_transfer(stack: Stack, repos: dict, *, prefix: str, min_bytes: int = MB,
                      timeout: float = 60) -> Kill:
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

    label = workers.wait_for(candidate, timeout=timeout, interval=0.05,
                             message=f"a transfer of {prefix}* to kill")
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
    assert any("connection closed" in m or "Connection broken" in m or "IncompleteRead" in m
               for m in retries), retries

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
    failed = {key: value for key, value in status.items() if key[0] in expected_failures}
    assert sorted((repo_id, value) for (repo_id, _), value in failed.items()) == sorted(
        (repo_id, "failed") for repo_id in expected_failures), status
    installed_status = [value for key, value in status.items() if key not in failed]
    assert installed_status == ["installed"] * installed, status

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
    return (f"killed cluster {kill.label}: jobs {sorted(kill.job_ids)}, partials {kill.partials}; "
            f"{len(rows)} jobs, {len(events(stack, 'retry'))} transfer retries, "
            f"{len(events(stack, 'redispatch'))} re-dispatches, "
            f"{sum(r['bytes_resumed'] for r in rows):,} bytes resumed")
