"""PostgreSQL + Redis, several qcluster processes, and everything going wrong at once: nothing is lost,
nothing bad is installed, nothing is downloaded twice."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import workers
from tests.scaleout import checks, faults
from tests.scaleout.checks import MB
from tests.scaleout.repos import data, llm_repos, multi_repo, small_repos

pytestmark = [pytest.mark.scaleout]


@pytest.mark.slow
def test_two_clusters_lose_nothing_through_kill_drops_errors_corruption_and_a_redis_restart(make_stack, hub,
                                                                                           tmp_path):
    stack = make_stack("main")
    repos = {**llm_repos(hub, 6), **small_repos(hub, 9, corrupt=3)}
    multi, multi_variants = multi_repo(hub)
    repos.update(multi)
    hub.add_repo("fi/gated", {"gated.bin": data(5, 100_000), "config.json": b"{}"}, gated=True)
    late = {f"fi/late-{k}": hub.add_repo(f"fi/late-{k}", {f"late-{k}.bin": data(300 + k, 2 * MB)})
            for k in range(2)}
    repos.update(late)
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=4)

    # Faults armed before a byte moves; each hits the first requests for files matching its pattern.
    hub.throttle(2 * MB, "llm-*.bin")
    hub.throttle(2 * MB, "multi-*.bin")
    hub.drop_after("llm-*.bin", 1_500_000, count=3)
    hub.fail_next("small-*.bin", 500, count=4)
    hub.fail_next("multi-*.bin", 429, count=2, retry_after=0)
    hub.corrupt_next("corrupt-me.bin")

    stack.start_qcluster("a")
    stack.start_qcluster("b")
    stack.wait_clusters_ready("a", "b")
    wanted = ([(f"fi/llm-{k}",) for k in range(6)] + multi_variants + [(f"fi/small-{k}",) for k in range(9)]
              + [("fi/missing",), ("fi/gated",)])
    # Queued from "several users" while the workers already run and the faults below happen.
    background = ThreadPoolExecutor(1)
    queueing = background.submit(stack.download_many, wanted, parallel=4)

    # 1. kill -9 a whole cluster in the middle of a big transfer; its jobs go stale, housekeeping reaps them.
    kill = faults.kill_mid_transfer(stack, repos, prefix="fi/llm-", min_bytes=2 * MB)
    assert kill.job_ids, "the killed cluster was running nothing"
    time.sleep(3.5)  # MODELHUB_HEARTBEAT_TIMEOUT=3 after the dead worker's last heartbeat
    stack.housekeeping()
    reaped = {r["id"]: r for r in checks.job_rows(stack) if r["id"] in kill.job_ids}
    assert all(r["state"] == "failed" and r["error_code"] == "worker_lost" for r in reaped.values()), \
        checks.describe(list(reaped.values()))
    stack.start_qcluster("c")  # what a supervisor does with a crashed worker host
    stack.wait_clusters_ready("c")

    # 2. Redis restarts (no persistence: queued messages are gone); work is queued while it is down.
    redis_down_at = time.time()
    stack.redis.stop()
    late_jobs = stack.download_many([("fi/late-0",), ("fi/late-1",)])
    assert {j["state"] for j in late_jobs} == {"queued"}, late_jobs
    health = stack.healthz()
    assert health["status"] == 503, health
    assert (health["body"]["checks"]["broker"]["ok"] is False
            and health["body"]["checks"]["database"]["ok"]), health
    # Stay down until a job has been handed to the dead broker (its message is lost for sure).
    workers.wait_for(lambda: any(r["dispatched_at"] and r["dispatched_at"] > redis_down_at
                                 and r["state"] == "queued" for r in checks.job_rows(stack)),
                     timeout=30, interval=0.3, message="a dispatch while Redis is down")
    stack.redis.start()

    # 3. The Hub answers 503 to everything for a couple of seconds.
    hub.down = True
    time.sleep(2)
    hub.down = False

    queued = queueing.result(timeout=120)
    background.shutdown()
    assert len({q["job_id"] for q in queued}) == len(wanted) == 20
    rows = checks.wait_settled(stack, timeout=200)

    faults.assert_nothing_lost(stack, hub, repos, kill, rows, corrupted="fi/small-3", installed=20,
                               expected_failures={"fi/missing": "repo_not_found",
                                                  "fi/gated": "gated_no_token"})
    retries = [e["message"] for e in checks.events(stack, "retry")]
    assert any("HTTP 429" in m for m in retries), retries
    assert checks.events(stack, "redispatch"), "no lost task was sent again after the Redis restart"
    # 20 variants + 2 queued during the outage, one more attempt per killed job and for the corrupt file
    assert len(rows) == 22 + len(kill.job_ids) + 1, checks.describe(rows)

    health = stack.healthz()
    assert health["status"] == 200 and health["body"]["ok"], health
    assert health["body"]["checks"]["broker"]["broker"] == "Redis"
    print("\n" + faults.summary(stack, kill, rows))


def test_a_worker_and_a_command_on_another_host_never_write_the_same_blob(make_stack, hub, tmp_path):
    """Two processes fetch one blob at once: a cluster's worker (variant A) and `download --wait` (variant
    B, as from another machine; it runs its job itself, never through the broker). Which of two idle
    clusters Redis hands a task to cannot be decided from outside (each pusher re-issues its BLPOP every
    second, and a stopped process still receives what Redis writes to its socket), so the second process
    is the command: deterministic, and the same race on the blob lock."""
    stack = make_stack("pair", env={"MODELHUB_WORKERS": "1"})
    shared = data(12, 12 * MB)
    repo = hub.add_repo("fi/pair", {"pair-shared.bin": shared, "a.json": b'{"a": 1}', "b.json": b'{"b": 2}'})
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=4)
    hub.throttle(1 * MB, "pair-shared.bin")  # twelve seconds on the wire: the command starts meanwhile
    stack.start_qcluster("a")
    stack.wait_clusters_ready("a")

    first = stack.download("fi/pair", "--include", "pair-shared.bin", "--include", "a.json", "--name", "A")
    workers.wait_for(
        lambda: [r for r in checks.job_rows(stack) if r["state"] == "running" and r["bytes_done"]],
        timeout=30, interval=0.05, message="job A to receive bytes")
    second = stack.download("fi/pair", "--include", "pair-shared.bin", "--include", "b.json", "--name", "B",
                            "--wait")
    jobs = [first, second]
    assert jobs[0]["variant_id"] != jobs[1]["variant_id"]
    rows = checks.wait_settled(stack, timeout=60, housekeeping_every=0)

    assert [(r["state"], r["attempt"]) for r in rows] == [("succeeded", 1), ("succeeded", 1)], \
        checks.describe(rows)
    a, b = rows
    assert [stack.cluster_of_pid(checks.worker_pid(r)) for r in rows] == ["a", None], checks.describe(rows)
    assert max(a["started_at"], b["started_at"]) < min(a["finished_at"], b["finished_at"]), \
        "they did not overlap"
    assert checks.payload_bytes(hub, "fi/pair", "pair-shared.bin") == len(shared)
    assert len(checks.gets(hub, "fi/pair", "pair-shared.bin")) == 1
    # One of them received the bytes, the other found the published blob and re-hashed it.
    sources = sorted(next(f["hash_source"] for f in r["verification"]["files"]
                          if f["path"] == "pair-shared.bin")
                     for r in rows)
    assert sources == ["rehash", "stream"], sources
    etag = repo.files["pair-shared.bin"].etag
    blob = stack.storage / "models--fi--pair" / "blobs" / etag
    assert blob.read_bytes() == shared
    assert checks.partial_files(stack.storage) == []
    assert len(checks.verify_all(stack)) == 2


def test_work_queued_while_redis_is_down_is_kept_and_runs_once_it_is_back(make_stack, hub, tmp_path):
    stack = make_stack("brokerdown")
    hub.add_repo("fi/while-down", {"while-down.bin": data(31, 1 * MB), "config.json": b"{}"})
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=2)
    stack.start_qcluster("a")
    stack.wait_clusters_ready("a")

    stack.redis.stop()
    queued = stack.download("fi/while-down")  # the admin / CLI must not fail: the job is on its row
    assert queued["state"] == "queued" and queued["error_code"] is None, queued
    health = stack.healthz()
    assert health["status"] == 503 and health["body"]["checks"]["broker"]["ok"] is False, health
    assert "Connection" in health["body"]["checks"]["broker"]["message"], health
    time.sleep(4.5)  # MODELHUB_REDISPATCH_AFTER=4: housekeeping now tries to send it again
    assert stack.housekeeping()["redispatched"] == [queued["job_id"]]  # and survives the dead broker
    stack.redis.start()

    rows = checks.wait_settled(stack, timeout=60)
    assert [(r["state"], r["attempt"]) for r in rows] == [("succeeded", 1)], checks.describe(rows)
    kinds = [e["kind"] for e in checks.events(stack) if e["job_id"] == queued["job_id"]]
    assert "redispatch" in kinds and "finished" in kinds, kinds


def test_a_job_waiting_out_a_hub_outage_is_not_declared_lost(make_stack, hub, tmp_path):
    # A retry budget (7 retries from 0.05 s: ~6 s) longer than the outage (4.5 s), itself longer than the
    # heartbeat timeout (3 s): production has the same shape with a Hub that hangs for minutes.
    stack = make_stack("outage", env={"MODELHUB_RETRIES": "7"})
    hub.add_repo("fi/patient", {"patient.bin": data(8, 1 * MB), "config.json": b"{}"})
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=2)
    stack.start_qcluster("a")
    stack.wait_clusters_ready("a")

    hub.down = True
    job = stack.download("fi/patient")
    workers.wait_for(lambda: checks.job_rows(stack)[0]["state"] == "running", timeout=30,
                     message="the job claimed")
    claimed = time.monotonic()
    while time.monotonic() - claimed < 4.5:  # cron keeps reaping while the Hub is down
        stack.housekeeping()
    hub.down = False

    rows = checks.wait_settled(stack, timeout=60)
    assert [(r["id"], r["state"], r["attempt"]) for r in rows] == [(job["job_id"], "succeeded", 1)], \
        checks.describe(rows)
