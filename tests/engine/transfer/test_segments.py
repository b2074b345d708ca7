"""Parallel ranged segments for one large file: correct bytes, correct hash, resumable per segment."""

import json
import threading

import pytest
from django.db import connection

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, JobState
from engine.cache.layout import RepoCache
from engine.transfer.progress import RateLimiter
from engine.transfer.segments import plan, sidecar_path
from settings_app.models import Setting
from tests import workers
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes as big_bytes

SIZE = 6_000_000


@pytest.fixture
def segmented(configured):
    Setting.objects.filter(pk=1).update(segments_per_file=4, segment_min_size=1_000_000)


def test_plan_tiles_the_file_after_a_done_prefix():
    segs = plan(10_000_000, 3, already=1_500_000)
    assert segs[0].start == 0 and segs[0].complete
    assert [s.start for s in segs[1:]][0] == 1_500_000
    assert all(a.end == b.start for a, b in zip(segs, segs[1:], strict=False))
    assert segs[-1].end == 10_000_000


@pytest.mark.django_db
def test_large_file_downloads_over_several_connections(segmented, hub, storage):
    data = big_bytes(SIZE)
    repo = hub.add_repo("org/seg", {"weights.bin": data, "config.json": b"{}"})
    job = runner.run_job(start_job("org/seg", kind="files").pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    gets = [r for r in hub.file_requests("weights.bin") if r.method == "GET"]
    assert len(gets) == 4
    assert len({r.range_start or 0 for r in gets}) == 4
    assert hub.bytes_sent("weights.bin") == SIZE
    cache = RepoCache(storage, "org/seg")
    etag = repo.files["weights.bin"].etag
    assert cache.blob_path(etag).read_bytes() == data
    assert not sidecar_path(cache.partial_path(etag)).exists()
    [entry] = [f for f in job.verification["files"] if f["path"] == "weights.bin"]
    assert entry["hash_actual"] == etag and entry["hash_source"] == "stream"


@pytest.mark.django_db
def test_dropped_segment_resumes_only_its_own_range(segmented, hub):
    data = big_bytes(SIZE)
    hub.add_repo("org/segdrop", {"weights.bin": data})
    hub.drop_after("weights.bin", 300_000, count=2)
    job = runner.run_job(start_job("org/segdrop", kind="files").pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    gets = [r for r in hub.file_requests("weights.bin") if r.method == "GET"]
    assert len(gets) == 6
    assert hub.bytes_sent("weights.bin") == SIZE  # nothing received twice


@pytest.mark.django_db
def test_wrong_bytes_in_a_segment_fail_verification(segmented, hub, storage):
    hub.add_repo("org/segbad", {"weights.bin": big_bytes(SIZE)})
    hub.corrupt_next("weights.bin")
    job = runner.run_job(start_job("org/segbad", kind="files").pk)
    assert job.error_code == "verification_failed"
    assert not any((storage / "models--org--segbad" / "blobs").glob("*.incomplete*"))


@pytest.mark.django_db(transaction=True)
def test_cancelled_segmented_download_resumes_every_segment(segmented, hub, storage):
    data = big_bytes(SIZE)
    repo = hub.add_repo("org/segcancel", {"weights.bin": data})
    partial = RepoCache(storage, "org/segcancel").partial_path(repo.files["weights.bin"].etag)
    hub.throttle(400_000)
    job = start_job("org/segcancel", kind="files")
    t = threading.Thread(target=lambda: (runner.run_job(job.pk), connection.close()))
    t.start()
    workers.wait_for(lambda: DownloadJob.objects.get(pk=job.pk).bytes_done > 1_500_000, timeout=30,
                     message="progress")
    services.cancel(DownloadJob.objects.get(pk=job.pk))
    t.join(timeout=10)
    assert DownloadJob.objects.get(pk=job.pk).state == JobState.CANCELLED
    state = json.loads(sidecar_path(partial).read_text())
    done = {start: d for start, _, d in state["segments"]}
    assert sum(done.values()) > 0
    hub.throttle(None)
    hub.reset_log()
    second = runner.run_job(start_job("org/segcancel", kind="files").pk)
    assert second.state == JobState.SUCCEEDED, second.error_message
    resumed = {r.range_start or 0 for r in hub.file_requests("weights.bin") if r.method == "GET"}
    assert resumed == {s + d for s, e, d in state["segments"] if s + d < e}
    assert hub.bytes_sent("weights.bin") == SIZE - sum(done.values())
    assert second.bytes_resumed == sum(done.values())


def test_rate_limiter_never_exceeds_its_rate():
    import time

    limiter = RateLimiter(2_000_000)
    began = time.monotonic()
    for _ in range(20):
        limiter.consume(100_000)  # 2 MB in total at 2 MB/s
    elapsed = time.monotonic() - began
    assert elapsed >= 1.0 - RateLimiter.BURST_SECONDS - 0.05


def test_write_behind_starts_syncing_only_for_large_writes(tmp_path):
    from engine.transfer.writeback import WriteBehind

    with open(tmp_path / "f", "wb") as fh:
        wb = WriteBehind(fh.fileno(), step=1000)
        fh.write(b"x" * 600)
        wb.wrote(600)
        assert wb._thread is None  # a small file never starts the helper
        fh.write(b"x" * 600)
        wb.wrote(600)
        assert wb._thread is not None and wb._thread.is_alive()
        wb.close()
        assert not wb._thread.is_alive()
