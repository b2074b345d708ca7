"""Bounded parallelism (files at once, connections per file, their product), checked where values are
saved and applied where threads start; and numbers too large for the database are refused as bad
input by `configure` and the Settings page, never a traceback."""

import json
import threading
import time

import pytest

from downloads.models import JobState
from engine.cache.layout import RepoCache
from engine.limits import (
    AUTO_SEGMENTS,
    MAX_AUTO_SEGMENTS_PER_FILE,
    MAX_PARALLEL_FILES,
    MAX_SEGMENTS_PER_FILE,
    job_parallelism,
)
from engine.transfer.segments import ALIGN, sidecar_path
from settings_app.models import Setting
from tests.jobs import run_download, start_job
from tests.modelfiles import pseudo_random_bytes
from tests.settings_helpers import change_url, form_data, run_configure

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


class PeakThreads:
    """The most threads whose name starts with `prefix` that were alive at the same moment."""

    def __init__(self, prefix: str):
        self.prefix, self.peak = prefix, 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            alive = sum(1 for t in threading.enumerate() if t.name.startswith(self.prefix))
            self.peak = max(self.peak, alive)
            time.sleep(0.001)

    def __enter__(self) -> "PeakThreads":
        self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sampler.join()


# --- clamped where threads start ------------------------------------------------------------------
def test_job_parallelism_keeps_each_value_and_the_product_within_bounds():
    assert job_parallelism(4, 1) == (4, 1)
    assert job_parallelism(4, 16) == (4, 16)
    assert job_parallelism(500, 500) == (32, 2)
    assert job_parallelism(8, 16) == (8, 8)
    assert job_parallelism(0, None) == (1, 1)
    # automatic: each file may grow to its own bound; the job's files share the connections (adaptive.py)
    assert job_parallelism(4, AUTO_SEGMENTS) == (4, MAX_AUTO_SEGMENTS_PER_FILE)


def test_many_file_repo_never_runs_more_file_threads_than_the_bound(configured, hub):
    files = {f"part-{i:03}.json": json.dumps({"i": i}).encode() for i in range(80)}
    hub.add_repo("org/many", files)
    hub.stall("part-*.json", 0.3, count=80)  # every file stays in flight: a free thread is never reused
    Setting.objects.filter(pk=1).update(max_parallel_files=500)  # stored before the bound existed
    job = start_job("org/many", kind="files")
    with PeakThreads(f"job{job.pk}_") as threads:
        from downloads.jobs import runner

        job = runner.run_job(job.pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert job.files_done == 80
    assert MAX_PARALLEL_FILES // 2 < threads.peak <= MAX_PARALLEL_FILES


def test_large_file_never_runs_more_segment_threads_than_the_bound(configured, hub):
    size = 64 * ALIGN  # room for 64 segments
    hub.add_repo("org/big", {"weights.bin": pseudo_random_bytes(size)})
    hub.stall("weights.bin", 0.3, count=64)
    Setting.objects.filter(pk=1).update(max_parallel_files=1, segments_per_file=64, segment_min_size=1)
    with PeakThreads("segment") as threads:
        job = run_download("org/big", kind="files")
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert 1 < threads.peak <= MAX_SEGMENTS_PER_FILE


def test_resumed_sidecar_with_many_segments_runs_them_on_bounded_threads(configured, hub, storage):
    """An earlier attempt's sidecar decides the segments; it cannot decide the number of threads."""
    parts, data = 40, pseudo_random_bytes(40 * ALIGN)
    repo = hub.add_repo("org/resume", {"weights.bin": data})
    partial = RepoCache(storage, "org/resume").partial_path(repo.files["weights.bin"].etag)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as fh:
        fh.truncate(len(data))
    segments = [[i * ALIGN, (i + 1) * ALIGN, 0] for i in range(parts)]
    sidecar_path(partial).write_text(json.dumps({"size": len(data), "segments": segments}))
    hub.stall("weights.bin", 0.3, count=parts)
    with PeakThreads("segment") as threads:
        job = run_download("org/resume", kind="files")
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert len([r for r in hub.file_requests("weights.bin") if r.method == "GET"]) == parts
    assert 1 < threads.peak <= MAX_SEGMENTS_PER_FILE


# --- checked where saved --------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "message"), [
    (["--max-parallel-files", "33"], "At most 32 files per job at once"),
    (["--max-parallel-files", "1000"], "At most 32 files per job at once"),
    (["--segments-per-file", "17"], "At most 16 connections per file"),
    (["--max-parallel-files", "8", "--segments-per-file", "16"], "128 connections for one job; at most 64"),
])
def test_configure_refuses_parallelism_over_the_bounds(configured, args, message):
    code, output = run_configure(*args)
    assert code == 2 and message in output
    setting = Setting.load()
    assert (setting.max_parallel_files, setting.segments_per_file) == (4, 0)  # the defaults, unchanged


def test_configure_accepts_values_within_the_bounds(configured):
    code, output = run_configure("--max-parallel-files", "4", "--segments-per-file", "16")
    assert code == 0, output
    assert (Setting.load().max_parallel_files, Setting.load().segments_per_file) == (4, 16)


@pytest.mark.parametrize(("option", "value"), [
    ("--max-concurrent-downloads", HUGE), ("--reverify-interval-hours", HUGE),
    ("--min-free-space", HUGE + "TB"), ("--segment-min-size", HUGE + "TB"),
    ("--bandwidth-limit", HUGE + "TB"), ("--min-free-space", "9" * 400),
    ("--max-parallel-files", HUGE), ("--bandwidth-limit", "9" * 2000),
])
def test_configure_refuses_numbers_too_large_for_the_database(configured, option, value):
    before = Setting.objects.values().get()
    code, output = run_configure(option, value)
    assert code == 2, output
    assert option in output or "far too large" in output or "At most" in output
    assert Setting.objects.values().get() == before


# --- the Settings page ----------------------------------------------------------------------------
@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_parallel_files": 33}, "At most 32 files per job at once."),
    ({"segments_per_file": 17}, "At most 16 connections per file."),
    ({"max_parallel_files": 8, "segments_per_file": 16}, "128 connections for one job; at most 64"),
    ({"max_concurrent_downloads": HUGE}, "At most 64 downloads at once"),
    ({"reverify_interval_hours": HUGE}, "At most 8784 hours (a year)"),
    ({"min_free_space": HUGE + "TB"}, "is more than the whole storage volume"),
    ({"bandwidth_limit": "9" * 400}, "That number is far too large."),
    ({"bandwidth_limit": "9" * 2000}, "far too large"),
])
def test_settings_page_refuses_over_large_values_with_a_message(admin_client, configured, overrides, message):
    before = Setting.objects.values().get()
    response = admin_client.post(change_url(), form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Setting.objects.values().get() == before


def test_settings_page_saves_values_within_the_bounds(admin_client, configured):
    response = admin_client.post(change_url(), form_data(max_parallel_files=32, segments_per_file=2))
    assert response.status_code == 302
    assert (Setting.load().max_parallel_files, Setting.load().segments_per_file) == (32, 2)


@pytest.mark.django_db(transaction=True)
def test_migration_brings_stored_values_within_the_bounds():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("settings_app", "0003_token_endpoint")], [("settings_app", "0004_parallelism_bounds")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("settings_app", "Setting")
    old.objects.create(pk=1, max_parallel_files=437, segments_per_file=100)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert Setting.objects.values_list("max_parallel_files", "segments_per_file").get() == (32, 2)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
