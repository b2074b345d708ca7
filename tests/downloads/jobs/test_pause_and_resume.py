"""Pause and resume, distinct from cancel: a paused download keeps its partials and the same job, queued
again, continues from them (the fake Hub's request log shows the bytes are resumed, not sent again)."""

import threading

import pytest
from django.db import connection

from downloads import services
from downloads.jobs import control, runner
from downloads.models import DownloadJob, JobEvent, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from tests import workers
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes


def run_in_thread(job_id: int) -> threading.Thread:
    def work():
        runner.run_job(job_id)
        connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_pausing_a_running_download_keeps_partials_and_resume_continues_from_them(configured, hub, storage):
    data = pseudo_random_bytes(6_000_000)
    repo = hub.add_repo("org/pause", {"model.bin": data})
    partial = RepoCache(storage, "org/pause").partial_path(repo.files["model.bin"].etag)
    hub.throttle(500_000)
    job = start_job("org/pause", kind="files")
    thread = run_in_thread(job.pk)
    workers.wait_for(lambda: DownloadJob.objects.get(pk=job.pk).bytes_done > 500_000, timeout=20,
                     message="download progress")
    assert control.pause(DownloadJob.objects.get(pk=job.pk)) == "pause requested"
    thread.join(timeout=15)
    assert not thread.is_alive()

    job.refresh_from_db()
    assert job.state == JobState.PAUSED and job.error_code == "" and not job.is_active
    kept = partial.stat().st_size
    assert 0 < kept < len(data)
    variant = ModelVariant.objects.get(pk=job.variant_id)
    assert variant.status == VariantStatus.PAUSED and variant.partial_bytes == job.bytes_done
    assert variant.status_label == f"paused ({int(100 * job.bytes_done / len(data))} %)"
    assert JobEvent.objects.filter(job=job, kind="pause").exists()
    assert JobEvent.objects.filter(job=job, kind="paused").exists()

    hub.throttle(None)
    hub.reset_log()
    assert control.resume(job, run_here=True) == "queued again"
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and not job.cancel_requested and not job.pause_requested
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.QUEUED
    done = runner.run_job(job.pk)
    assert done.pk == job.pk and done.state == JobState.SUCCEEDED, done.error_message
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == kept and get.bytes_sent == len(data) - kept
    assert done.bytes_resumed == kept
    assert RepoCache(storage, "org/pause").blob_path(repo.files["model.bin"].etag).read_bytes() == data
    assert DownloadJob.objects.filter(variant_id=job.variant_id).count() == 1  # the same job, resumed


@pytest.mark.django_db
def test_pausing_a_queued_job_is_immediate_and_cancel_or_a_new_download_ends_it(configured, hub):
    job = start_job("org/queued", kind="files")
    assert control.pause(job) == "paused"
    job.refresh_from_db()
    assert job.state == JobState.PAUSED
    assert ModelVariant.objects.get(pk=job.variant_id).status_label == "paused"  # nothing on disk yet
    assert control.pause(job) == "not paused: already paused"

    # A new download of the variant replaces the paused job (its run resumes the same partials).
    other = start_job("org/other", kind="files")
    assert control.pause(other) == "paused"
    new, joined = services.enqueue(other.variant, origin="command", run_here=True)
    other.refresh_from_db()
    assert not joined and other.state == JobState.CANCELLED and f"job {new.pk}" in other.error_message
    assert control.resume(other) == "not resumed: it is cancelled, not paused"


@pytest.mark.django_db
def test_cancelling_a_paused_job_ends_it_and_resume_refuses_beside_an_active_job(configured, hub):
    job = start_job("org/cp", kind="files")
    control.pause(job)
    assert services.cancel(job) == "cancelled"
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and "while paused" in job.error_message

    paused = start_job("org/cp2", kind="files")
    control.pause(paused)
    # Another job became active for the same variant meanwhile (a verify, say): at most one may be.
    DownloadJob.objects.create(variant=paused.variant, kind="verify", state=JobState.RUNNING)
    assert control.resume(paused).startswith("not resumed: job ")
    paused.refresh_from_db()
    assert paused.state == JobState.PAUSED


@pytest.mark.django_db
def test_a_verification_cannot_be_paused(configured):
    variant, _ = services.get_or_create_variant(repo_id="org/v")
    job = DownloadJob.objects.create(variant=variant, kind="verify")
    assert control.pause(job).startswith("not paused: a verification")
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


@pytest.mark.django_db
def test_a_job_whose_worker_died_while_pausing_ends_paused_not_retried(configured, settings):
    from datetime import timedelta

    from django.utils import timezone

    job = start_job("org/lost", kind="files")
    old = timezone.now() - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT + 1)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=old, heartbeat_at=old,
                                                 pause_requested=True, cancel_requested=True)
    assert [j.pk for j in services.reap_lost_jobs()] == [job.pk]
    job.refresh_from_db()
    assert job.state == JobState.PAUSED and job.error_code == "worker_lost"
    assert DownloadJob.objects.filter(variant_id=job.variant_id).count() == 1  # no automatic next attempt
    assert control.resume(job) == "queued again"
