"""Resume, retries, cancel and process death: nothing downloaded is lost, nothing bad is installed."""

import json
import os
import signal
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, JobEvent, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from tests import workers
from tests.jobs import run_download as run
from tests.jobs import start_job
from tests.modelfiles import make_gguf, pseudo_random_bytes

big_bytes = pseudo_random_bytes






@pytest.mark.django_db
def test_dropped_connection_resumes_with_range_request(configured, hub):
    data = big_bytes(3_000_000)
    hub.add_repo("org/drop", {"model.bin": data, "config.json": b"{}"})
    hub.drop_after("model.bin", 1_000_000, count=1)
    job = run("org/drop", kind="files")
    assert job.state == JobState.SUCCEEDED, job.error_message
    gets = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert len(gets) == 2
    assert gets[0].range_start is None
    assert 0 < gets[1].range_start <= 1_000_000
    assert hub.bytes_sent("model.bin") == len(data) + (1_000_000 - gets[1].range_start)
    assert JobEvent.objects.filter(job=job, kind="retry").exists()


@pytest.mark.django_db
def test_partial_from_earlier_attempt_is_resumed_not_restarted(configured, hub, storage):
    data = big_bytes(2_000_000)
    repo = hub.add_repo("org/partial", {"weights.bin": data})
    etag = repo.files["weights.bin"].etag
    cache = RepoCache(storage, "org/partial")
    cache.ensure_dirs()
    cache.partial_path(etag).write_bytes(data[:1_234_567])
    job = run("org/partial", kind="files")
    assert job.state == JobState.SUCCEEDED, job.error_message
    (get,) = [r for r in hub.file_requests("weights.bin") if r.method == "GET"]
    assert get.range_start == 1_234_567
    assert get.bytes_sent == len(data) - 1_234_567
    assert job.bytes_resumed == 1_234_567
    assert cache.blob_path(etag).read_bytes() == data
    assert not cache.partial_path(etag).exists()
    assert JobEvent.objects.filter(job=job, kind="resumed", message__contains="1,234,567").exists()


@pytest.mark.django_db
def test_wrong_bytes_of_right_size_never_reach_blobs(configured, hub, storage):
    data = big_bytes(500_000)
    repo = hub.add_repo("org/bad", {"model.bin": data})
    etag = repo.files["model.bin"].etag
    hub.corrupt_next("model.bin")
    job = run("org/bad", kind="files")
    assert job.state == JobState.FAILED
    assert job.error_code == "verification_failed"
    assert "model.bin" in job.error_message
    cache = RepoCache(storage, "org/bad")
    assert not cache.blob_path(etag).exists()
    assert not cache.partial_path(etag).exists()  # bad partial deleted, not resumed from
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.CORRUPT
    # The next attempt (the fault is gone) downloads cleanly and installs.
    retry = services.requeue_if_transient(job, run_here=True)
    assert retry is not None and retry.attempt == 2
    done = runner.run_job(retry.pk)
    assert done.state == JobState.SUCCEEDED
    assert cache.blob_path(etag).read_bytes() == data


@pytest.mark.django_db
def test_listed_file_missing_on_server_fails_with_file_not_found(configured, hub):
    hub.add_repo("org/gone", {"config.json": b"{}", "model.bin": big_bytes(10_000)})
    hub.fail_next("model.bin", 404, count=1)
    job = run("org/gone", kind="files")
    assert job.state == JobState.FAILED
    assert job.error_code == "file_not_found"
    assert "model.bin" in job.guidance


@pytest.mark.django_db
def test_rate_limited_then_success_honours_retry_after(configured, hub):
    hub.add_repo("org/429", {"model.bin": big_bytes(100_000)})
    hub.fail_next("model.bin", 429, count=2, retry_after=0)
    job = run("org/429", kind="files")
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert JobEvent.objects.filter(job=job, kind="retry", message__contains="HTTP 429").count() == 2


@pytest.mark.django_db
def test_files_of_a_variant_download_in_parallel(configured, hub):
    files = {f"shard-{i}.bin": big_bytes(400_000, seed=i) for i in range(4)}
    hub.add_repo("org/par", files)
    hub.throttle(1_000_000)
    job = run("org/par", kind="files")
    assert job.state == JobState.SUCCEEDED
    gets = [r for r in hub.requests if r.method == "GET" and r.file_path in files]
    # With 4 files and max_parallel_files=4 at least two transfers overlap in time.
    overlaps = sum(1 for a in gets for b in gets
                   if a is not b and a.time < b.time < (a.end_time or time.time()))
    assert overlaps >= 1


@pytest.mark.django_db
def test_cdn_redirect_never_receives_the_token(db, storage):
    from huggingface_hub.utils import close_session

    from fakehub import FakeHub
    from settings_app.models import Setting

    with FakeHub(use_cdn=True) as cdn_hub:
        cdn_hub.add_token("hf_cdnTestToken1234", can_access=["org/cdn"])
        cdn_hub.add_repo("org/cdn", {"model.bin": big_bytes(50_000), "config.json": b"{}"}, private=True)
        setting = Setting.load()
        setting.hub_endpoint, setting.storage_dir, setting.min_free_space = cdn_hub.url, str(storage), 0
        setting.set_hf_token("hf_cdnTestToken1234")
        setting.save()
        job = run("org/cdn", kind="files")
        assert job.state == JobState.SUCCEEDED, job.error_message
        cdn_reqs = [r for r in cdn_hub.requests if r.server == "cdn"]
        assert cdn_reqs, "the LFS file should have been served by the CDN"
        assert all(r.authorization is None for r in cdn_reqs)
        assert any(r.authorization for r in cdn_hub.requests if r.server == "hub")
    close_session()


@pytest.mark.django_db(transaction=True)
def test_cancel_takes_effect_within_two_seconds_and_keeps_partial(configured, hub, storage):
    data = big_bytes(6_000_000)
    repo = hub.add_repo("org/slow", {"model.bin": data})
    hub.throttle(500_000)
    job = start_job("org/slow", kind="files")
    result = {}

    def work():
        result["job"] = runner.run_job(job.pk)
        connection.close()

    t = threading.Thread(target=work)
    t.start()
    workers.wait_for(lambda: DownloadJob.objects.get(pk=job.pk).bytes_done > 500_000, timeout=20,
                     message="download progress")
    asked = time.monotonic()
    assert services.cancel(DownloadJob.objects.get(pk=job.pk)) == "cancel requested"
    t.join(timeout=10)
    elapsed = time.monotonic() - asked
    assert not t.is_alive()
    assert elapsed < 2.0, f"cancel took {elapsed:.2f}s"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.error_code == "cancelled"
    partial = RepoCache(storage, "org/slow").partial_path(repo.files["model.bin"].etag)
    assert partial.exists() and 0 < partial.stat().st_size < len(data)
    variant = ModelVariant.objects.get(pk=job.variant_id)
    # Cancel keeps the partials, and the variant says how much of it is there.
    assert variant.status == VariantStatus.PARTIAL and variant.partial_bytes == job.bytes_done > 0
    assert variant.status_label == f"partial ({int(100 * job.bytes_done / len(data))} %)"


@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_resumed_by_next_run_resending_only_the_rest(configured, hub, storage, settings,
                                                                       tmp_path):
    settings.MODELHUB_HEARTBEAT_TIMEOUT = 2
    data = big_bytes(8_000_000)
    repo = hub.add_repo("org/kill", {"model.bin": data, "config.json": b"{}"})
    etag = repo.files["model.bin"].etag
    partial = RepoCache(storage, "org/kill").partial_path(etag)
    hub.throttle(1_000_000)
    proc = workers.manage("download", "org/kill", "--kind", "files", "--wait",
                          env=workers.subprocess_env(), log_path=tmp_path / "download.log")
    try:
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 2_000_000, timeout=30,
                         message="half the file on disk")
    finally:
        workers.kill9(proc)
    hub.throttle(None)
    on_disk = partial.stat().st_size
    first_sent = hub.bytes_sent("model.bin")
    hub.reset_log()
    time.sleep(2.5)  # the dead process's heartbeat goes stale
    call_command("download", "org/kill", "--kind", "files", "--wait", "--json")
    job = DownloadJob.objects.filter(variant__repo_id="org/kill").order_by("-pk").first()
    assert job.state == JobState.SUCCEEDED, job.error_message
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == on_disk
    assert get.bytes_sent == len(data) - on_disk
    assert first_sent >= on_disk  # nothing on disk that the server didn't send
    lost = DownloadJob.objects.filter(variant__repo_id="org/kill", error_code="worker_lost")
    assert lost.count() == 1
    assert RepoCache(storage, "org/kill").blob_path(etag).read_bytes() == data


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_on_download_wait_cancels_cleanly_and_rerun_resumes(configured, hub, storage, tmp_path):
    # Ctrl-C must land while the download still runs. It used to fail under load with exit 0: the
    # fake Hub's throttle caught up after a pause, so a download held up for a few seconds got the
    # rest of a 6 MB file in one burst and succeeded before the signal arrived. The throttle now keeps
    # its pace (fakehub.files), and the file is bigger than what the socket buffers can hold (~10 MB),
    # so after the first megabyte at least ~10 s of paced transfer remain, however long either side
    # was held up.
    data = big_bytes(24_000_000)
    repo = hub.add_repo("org/int", {"model.bin": data})
    partial = RepoCache(storage, "org/int").partial_path(repo.files["model.bin"].etag)
    hub.throttle(1_000_000)
    out = tmp_path / "out.json"
    with open(out, "wb") as fh:
        proc = workers.manage("download", "org/int", "--kind", "files", "--wait", "--json",
                              env=workers.subprocess_env(), stdout=fh, stderr=open(tmp_path / "err", "wb"))
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 1_000_000, timeout=30,
                         message="download started")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 130
    report = json.loads(out.read_text())
    assert report["state"] == "cancelled" and report["error_code"] == "cancelled"
    kept = partial.stat().st_size
    assert kept > 1_000_000
    hub.throttle(None)
    hub.reset_log()
    call_command("download", "org/int", "--kind", "files", "--wait")
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == kept
    assert ModelVariant.objects.get(repo_id="org/int").status == VariantStatus.INSTALLED


@pytest.mark.django_db
def test_active_job_is_joined_not_duplicated(configured, hub):
    hub.add_repo("org/join", {"model.gguf": make_gguf()})
    variant, _ = services.get_or_create_variant(repo_id="org/join")
    first, joined1 = services.enqueue(variant, origin="command", run_here=True)
    second, joined2 = services.enqueue(variant, origin="command", run_here=True)
    assert (joined1, joined2) == (False, True)
    assert first.pk == second.pk
    assert DownloadJob.objects.filter(variant=variant).count() == 1


@pytest.mark.django_db
def test_database_refuses_two_active_jobs_for_one_variant(configured):
    from django.db import IntegrityError, transaction

    variant, _ = services.get_or_create_variant(repo_id="org/x")
    DownloadJob.objects.create(variant=variant, state=JobState.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        DownloadJob.objects.create(variant=variant, state=JobState.QUEUED)
