"""A queued job says why it waits, where it stands and how much it will download; `download --wait`
waits for a free slot of max_concurrent_downloads like the workers' jobs, saying so."""

import os
import signal
import socket
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from downloads import services
from downloads.jobs.queue import QueueSnapshot, ordinal
from downloads.models import DownloadJob, JobState, WorkerBeat
from settings_app.models import Setting
from tests import workers
from tests.modelfiles import pseudo_random_bytes


def running_job(repo_id: str) -> DownloadJob:
    """A job this (live) process claims, with a fresh heartbeat: it holds a slot until it ends."""
    variant, _ = services.get_or_create_variant(repo_id=repo_id, kind="files")
    now = timezone.now()
    return DownloadJob.objects.create(variant=variant, state=JobState.RUNNING, started_at=now,
                                      heartbeat_at=now, worker=f"{socket.gethostname()}:{os.getpid()}")


def queued(repo_id: str, size: int | None = None) -> DownloadJob:
    variant, _ = services.get_or_create_variant(repo_id=repo_id, kind="files")
    if size:
        variant.size_bytes = size
        variant.save()
    job = DownloadJob.objects.create(variant=variant)
    return DownloadJob.objects.select_related("variant").get(pk=job.pk)


def set_slots(n: int) -> None:
    setting = Setting.load()
    setting.max_concurrent_downloads = n
    setting.save()


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd"]


@pytest.mark.django_db
def test_a_queued_job_says_slots_in_use_its_place_and_its_size(configured):
    set_slots(2)
    running_job("org/a"), running_job("org/b")
    first, second, third = queued("org/c", 1_200_000_000), queued("org/d"), queued("org/e", 5_000_000)
    snapshot = QueueSnapshot.take()
    assert snapshot.explain(first)["text"] == (
        "1st in line · 2 of 2 download slots in use · 1.2 GB to download")
    assert snapshot.explain(second)["text"] == (
        "2nd in line · 2 of 2 download slots in use · size known once it starts")
    info = snapshot.explain(third)
    assert (info["position"], info["expected_bytes"]) == (3, 5_000_000)
    assert info["reason"] == "2 of 2 download slots in use"


@pytest.mark.django_db
def test_with_free_slots_a_queued_job_says_whether_a_worker_is_there(configured):
    set_slots(4)
    job = queued("org/w")
    assert QueueSnapshot.take().reason(job) == (
        "waiting for a worker: none has run yet (start manage.py qcluster)")
    WorkerBeat.objects.create(worker="host:1", last_seen=timezone.now() - timedelta(minutes=10))
    assert QueueSnapshot.take().reason(job).startswith("waiting for a worker: none seen for 10 min")
    services.worker_seen("run_job")
    assert QueueSnapshot.take().reason(job) == "waiting for a worker to pick it up"
    assert QueueSnapshot.take().explain(DownloadJob.objects.get(pk=running_job("org/r").pk)) is None


@pytest.mark.django_db(transaction=True)
def test_download_wait_waits_for_a_free_slot_saying_so_then_runs(configured, hub, tmp_path):
    set_slots(1)
    data = pseudo_random_bytes(300_000)
    hub.add_repo("org/later", {"model.bin": data})
    blocker = running_job("org/busy")
    err = tmp_path / "err"
    with open(err, "wb") as fh:
        proc = workers.manage("download", "org/later", "--kind", "files", "--wait",
                              env=workers.subprocess_env(), stdout=subprocess.DEVNULL, stderr=fh)
    try:
        workers.wait_for(lambda: "Waiting for a download slot" in err.read_text(), timeout=60,
                         message="the command to say it waits")
        assert "1 of 1 download slots in use" in err.read_text()
        job = DownloadJob.objects.get(variant__repo_id="org/later")
        assert job.state == JobState.QUEUED
        assert not hub.file_requests("model.bin")  # nothing downloaded beside the running job
        DownloadJob.objects.filter(pk=blocker.pk).update(state=JobState.SUCCEEDED, finished_at=timezone.now())
        assert proc.wait(timeout=60) == 0
    finally:
        workers.stop(proc)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_message


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_while_waiting_for_a_slot_cancels_the_queued_job(configured, hub, tmp_path):
    set_slots(1)
    hub.add_repo("org/never", {"model.bin": pseudo_random_bytes(1000)})
    running_job("org/busy")
    err = tmp_path / "err"
    with open(err, "wb") as fh:
        proc = workers.manage("download", "org/never", "--kind", "files", "--wait",
                              env=workers.subprocess_env(), stdout=subprocess.DEVNULL, stderr=fh)
    try:
        workers.wait_for(lambda: "Waiting for a download slot" in err.read_text(), timeout=60,
                         message="the command to say it waits")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        workers.stop(proc)
    job = DownloadJob.objects.get(variant__repo_id="org/never")
    assert job.state == JobState.CANCELLED  # not left queued for nobody
    assert not hub.file_requests("model.bin")
