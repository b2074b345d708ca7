"""The default deployment (SQLite + django-q2's ORM broker, one qcluster) survives the same faults:
kill -9 and restart of its only worker, dropped connections, 500s and wrong bytes once."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.scaleout import checks, faults
from tests.scaleout.checks import MB
from tests.scaleout.repos import llm_repos, small_repos

pytestmark = [pytest.mark.scaleout]


@pytest.mark.slow
def test_one_worker_on_sqlite_and_the_orm_broker_loses_nothing(make_stack, hub, tmp_path):
    stack = make_stack("sqlite", backend="sqlite", redis=False)
    assert stack.db.url.startswith("sqlite:////tmp/")
    repos = {**llm_repos(hub, 3), **small_repos(hub, 4, corrupt=1)}
    stack.configure(hub.url, tmp_path / "storage", max_concurrent=2)

    hub.throttle(2 * MB, "llm-*.bin")
    hub.drop_after("llm-*.bin", 1_500_000, count=2)
    hub.fail_next("small-*.bin", 500, count=3)
    hub.corrupt_next("corrupt-me.bin")

    stack.start_qcluster("w1", MODELHUB_WORKERS="1")  # the default set-up: one machine, one worker
    stack.wait_clusters_ready("w1")
    wanted = [(f"fi/llm-{k}",) for k in range(3)] + [(f"fi/small-{k}",) for k in range(4)] + [("fi/missing",)]
    background = ThreadPoolExecutor(1)
    queueing = background.submit(stack.download_many, wanted, parallel=3)

    kill = faults.kill_mid_transfer(stack, repos, prefix="fi/llm-", min_bytes=2 * MB)
    assert kill.label == "w1" and kill.job_ids
    time.sleep(3.5)  # MODELHUB_HEARTBEAT_TIMEOUT=3
    assert set(stack.housekeeping()["reaped"]) == kill.job_ids
    stack.start_qcluster("w2", MODELHUB_WORKERS="1")  # the same single worker, restarted

    queued = queueing.result(timeout=120)
    background.shutdown()
    assert len({q["job_id"] for q in queued}) == len(wanted) == 8
    rows = checks.wait_settled(stack, timeout=150)

    faults.assert_nothing_lost(stack, hub, repos, kill, rows, corrupted="fi/small-1", installed=7,
                               expected_failures={"fi/missing": "repo_not_found"})
    assert len(rows) == 8 + len(kill.job_ids) + 1, checks.describe(rows)
    health = stack.healthz()
    assert health["status"] == 200 and health["body"]["checks"]["broker"]["broker"] == "ORM", health
    print("\n" + faults.summary(stack, kill, rows))
