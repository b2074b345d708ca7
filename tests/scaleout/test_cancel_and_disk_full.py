"""Under load on PostgreSQL + Redis: cancelling some jobs leaves the others alone, and a storage volume
that fills up fails only the jobs that hit it, without touching what is installed."""

import time

import pytest

from tests import workers
from tests.scaleout import checks
from tests.scaleout.checks import MB
from tests.scaleout.repos import CONFIG, data

pytestmark = [pytest.mark.scaleout]


def test_cancel_under_load_stops_the_chosen_jobs_within_seconds_and_leaves_the_rest(make_stack, hub,
                                                                                    tmp_path):
    stack = make_stack("cancel")
    repos = {f"fi/load-{k}": hub.add_repo(f"fi/load-{k}", {f"load-{k}.bin": data(500 + k, 8 * MB),
                                                            "config.json": CONFIG}) for k in range(10)}
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=4)
    hub.throttle(MB // 2, "load-*.bin")  # 16 s per file: the cancel comes mid-transfer
    stack.start_qcluster("a")
    stack.start_qcluster("b")
    stack.wait_clusters_ready("a", "b")
    stack.download_many([(repo_id,) for repo_id in repos], parallel=5)

    last_housekeeping = [time.monotonic()]

    def busy():
        # A cluster whose workers are all busy may still take a task off Redis and hold it; cron
        # housekeeping re-sends it (MODELHUB_REDISPATCH_AFTER) so the idle cluster takes it.
        if time.monotonic() - last_housekeeping[0] > 3:
            stack.housekeeping()
            last_housekeeping[0] = time.monotonic()
        rows = checks.job_rows(stack)
        running = [r for r in rows if r["state"] == "running" and r["bytes_done"] >= 500_000]
        waiting = [r for r in rows if r["state"] == "queued" and r["dispatched_at"] is None]
        return (running, waiting) if len(running) == 4 and len(waiting) == 6 else None

    running, waiting = workers.wait_for(busy, timeout=60, interval=0.2,
                                        message="4 transfers under way, 6 waiting")
    running.sort(key=lambda r: r["bytes_done"])
    # the newest queued: not dispatched before the cancel
    doomed_running, doomed_queued = running[:2], waiting[-2:]
    doomed = [r["id"] for r in doomed_queued + doomed_running]

    asked = time.monotonic()
    results = {r["job_id"]: r["result"] for r in stack.manage_json("cancel", *map(str, doomed))}
    assert results == {**{r["id"]: "cancelled" for r in doomed_queued},
                       **{r["id"]: "cancel requested" for r in doomed_running}}
    workers.wait_for(lambda: all(r["state"] == "cancelled"
                                 for r in checks.job_rows(stack) if r["id"] in doomed),
                     timeout=10, interval=0.1, message="the cancelled jobs to stop")
    assert time.monotonic() - asked < 5  # including the command's own start-up (~1 s)
    # Unknown ids are refused before anything changes.
    refused = stack.manage("cancel", str(running[2]["id"]), "999999", "--json", check=False)
    assert refused.returncode == 2 and "999999" in refused.stdout
    assert not any(r["cancel_requested"] for r in checks.job_rows(stack) if r["id"] == running[2]["id"])

    storage = stack.storage
    kept = {}
    for r in doomed_running:
        f = repos[r["repo_id"]].files[r["repo_id"].replace("fi/", "") + ".bin"]
        partial = storage / f"models--{r['repo_id'].replace('/', '--')}" / "blobs" / f"{f.etag}.incomplete"
        assert partial.exists() and 0 < partial.stat().st_size < f.size, \
            "a cancelled transfer must keep its partial"
        kept[r["id"]] = (r["repo_id"], f, partial.stat().st_size)

    hub.throttle(None)
    rows = checks.wait_settled(stack, timeout=90)
    for r in rows:
        if r["id"] in doomed:  # a cancelled transfer leaves its variant partial (what it kept), not empty
            assert (r["state"], r["error_code"], r["variant_status"]) == (
                "cancelled", "cancelled", "partial" if r["id"] in kept else "not_downloaded")
        else:  # untouched: first attempt, no error, installed
            assert (r["state"], r["attempt"], r["error_code"]) == ("succeeded", 1, ""), checks.describe([r])
    assert len(rows) == 10
    checks.assert_no_overlapping_runs(rows)

    # A retried cancelled job resumes from the partial it kept.
    job_id, (repo_id, f, size) = next(iter(kept.items()))
    hub.reset_log()
    (retried,) = stack.manage_json("retry", str(job_id), "--wait")
    assert (retried["retry_of"], retried["state"], retried["variant_status"]) == (
        job_id, "succeeded", "installed")
    (get,) = checks.gets(hub, repo_id, f.path)
    assert get.range_start == size and get.bytes_sent == f.size - size
    assert len(checks.verify_all(stack)) == 7  # 6 untouched + the retried one


def test_storage_filling_up_fails_the_jobs_that_hit_it_with_disk_full_and_keeps_installed_ones(
        make_stack, hub, tmp_path):
    stack = make_stack("diskfull")
    volume = stack.mount_tmpfs(tmp_path / "volume", "20m")
    keep = hub.add_repo("fi/keep", {"keep.bin": data(1, 3 * MB), "config.json": CONFIG})
    fills = {f"fi/fill-{k}": hub.add_repo(f"fi/fill-{k}", {f"fill-{k}.bin": data(600 + k, 6 * MB)})
             for k in range(4)}
    stack.configure(hub.url, volume, max_concurrent=4)
    stack.start_qcluster("a")
    stack.start_qcluster("b")
    stack.wait_clusters_ready("a", "b")
    stack.download("fi/keep")
    assert checks.wait_settled(stack, timeout=60)[0]["state"] == "succeeded"

    # 4 x 6 MB into the ~17 MB left: each job's up-front space check passes (they start together),
    # the volume runs out while they write.
    hub.throttle(1 * MB, "fill-*.bin")
    stack.download_many([(repo_id,) for repo_id in fills], parallel=4)
    rows = checks.wait_settled(stack, timeout=90)

    fill_rows = [r for r in rows if r["repo_id"] in fills]
    assert len(fill_rows) == 4, checks.describe(rows)  # disk_full is not retried on its own
    failed = [r for r in fill_rows if r["state"] != "succeeded"]
    assert failed and {(r["state"], r["error_code"]) for r in failed} == {("failed", "disk_full")}, \
        checks.describe(fill_rows)
    assert all("No space left" in r["error_message"] for r in failed)
    for r in failed:
        assert r["variant_status"] == "failed"
        assert not (volume / f"models--{r['repo_id'].replace('/', '--')}" / "snapshots").exists() or not any(
            (volume / f"models--{r['repo_id'].replace('/', '--')}" / "snapshots").rglob("*.bin"))

    # What is installed is whole: the earlier variant and any fill that made it.
    installed = stack.manage_json("models_status")
    assert {v["repo_id"] for v in installed if v["status"] == "installed"} == \
        {"fi/keep"} | {r["repo_id"] for r in fill_rows if r["state"] == "succeeded"}
    verified = checks.verify_all(stack)
    assert {v["repo_id"] for v in verified} >= {"fi/keep"}
    assert (volume / "models--fi--keep" / "blobs" / keep.files["keep.bin"].etag).read_bytes() == \
        data(1, 3 * MB)
    checks.assert_blobs_are_what_they_claim(volume)
    checks.assert_snapshots_point_at_blobs(volume)
    # Partial files stay (a retry resumes them once space is freed), only for the jobs that failed.
    assert {p.parent.parent.name for p in checks.partial_files(volume)} <= \
        {f"models--{r['repo_id'].replace('/', '--')}" for r in failed}
