"""A job whose process died on this host is taken over at once, not after the heartbeat timeout."""

import json
import os
import signal
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from downloads import services
from downloads.models import DownloadJob, JobEvent, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from tests import workers
from tests.modelfiles import pseudo_random_bytes

HOST = socket.gethostname()


@pytest.mark.django_db(transaction=True)
def test_rerun_after_kill_9_of_download_wait_takes_over_at_once_and_resumes(
        configured, hub, storage, settings, tmp_path, capsys):
    settings.MODELHUB_HEARTBEAT_TIMEOUT = 60  # the production default: the rerun must not wait for it
    data = pseudo_random_bytes(6_000_000)
    repo = hub.add_repo("org/kill", {"model.bin": data, "config.json": b"{}"})
    partial = RepoCache(storage, "org/kill").partial_path(repo.files["model.bin"].etag)
    hub.throttle(1_000_000)
    proc = workers.manage("download", "org/kill", "--kind", "files", "--wait",
                          env=workers.subprocess_env(), log_path=tmp_path / "download.log")
    try:
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 1_500_000, timeout=30,
                         message="part of the file on disk")
    finally:
        workers.kill9(proc)
    hub.throttle(None)
    dead = DownloadJob.objects.get(variant__repo_id="org/kill")
    assert dead.state == JobState.RUNNING and dead.worker == f"{HOST}:{proc.pid}"
    assert services.is_stale(dead)  # fresh heartbeat, but its process is gone
    on_disk = partial.stat().st_size
    hub.reset_log()

    started = time.monotonic()
    call_command("download", "org/kill", "--kind", "files", "--wait", "--json")
    assert time.monotonic() - started < 20  # not the 60 s heartbeat timeout
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "succeeded" and report["job_id"] != dead.pk
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == on_disk  # the partial was resumed, not restarted
    dead.refresh_from_db()
    assert dead.state == JobState.FAILED and dead.error_code == "worker_lost"
    assert f"{HOST}:{proc.pid} is gone" in dead.error_message
    assert JobEvent.objects.filter(job=dead, kind="lost", message__contains="taken over").exists()
    assert ModelVariant.objects.get(repo_id="org/kill").status == VariantStatus.INSTALLED


def running_job(worker: str, *, claimed_ago: float = 30) -> DownloadJob:
    variant, _ = services.get_or_create_variant(repo_id=f"org/v{DownloadJob.objects.count()}")
    now = timezone.now()
    return DownloadJob.objects.create(variant=variant, state=JobState.RUNNING, worker=worker,
                                      started_at=now - timedelta(seconds=claimed_ago), heartbeat_at=now)


@pytest.fixture
def child():
    procs = []

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(["sleep", "60"])
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.django_db
def test_a_live_owner_keeps_its_job(configured, child):
    proc = child()
    time.sleep(0.1)
    assert not services.is_stale(running_job(f"{HOST}:{proc.pid}", claimed_ago=0))
    assert not services.is_stale(running_job(f"{HOST}:{os.getpid()}"))  # this process, another thread


@pytest.mark.django_db
def test_a_reused_pid_is_not_the_owner(configured, child):
    """The pid exists, but its process started after the job was claimed: another program got the pid."""
    proc = child()
    assert services.is_stale(running_job(f"{HOST}:{proc.pid}", claimed_ago=30))


@pytest.mark.django_db
def test_a_zombie_owner_is_gone(configured, child):
    proc = child()
    os.kill(proc.pid, signal.SIGKILL)  # not waited for: a zombie until its parent (us) collects it
    workers.wait_for(lambda: open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z",
                     timeout=5, message="zombie")
    assert services.is_stale(running_job(f"{HOST}:{proc.pid}", claimed_ago=0))


@pytest.mark.django_db
@pytest.mark.parametrize("worker", ["other-host:1", f"other-{HOST}:999999", "", "garbage"])
def test_another_hosts_job_waits_for_its_heartbeat(configured, worker):
    assert not services.is_stale(running_job(worker))


@pytest.mark.django_db
def test_housekeeping_reaps_a_job_whose_process_is_gone_at_once(configured, child, settings):
    settings.MODELHUB_HEARTBEAT_TIMEOUT = 60
    proc = child()
    job = running_job(f"{HOST}:{proc.pid}", claimed_ago=0)
    live = running_job(f"{HOST}:{os.getpid()}")
    assert services.housekeeping()["reaped"] == []
    proc.kill()
    proc.wait()
    assert services.housekeeping()["reaped"] == [job.pk]
    job.refresh_from_db()
    live.refresh_from_db()
    assert job.error_code == "worker_lost" and live.state == JobState.RUNNING
    retry = DownloadJob.objects.get(variant=job.variant, origin="retry")
    assert retry.state == JobState.QUEUED and retry.attempt == 2


@pytest.mark.django_db
def test_cancel_of_a_job_whose_process_is_gone_is_immediate(configured, child):
    proc = child()
    job = running_job(f"{HOST}:{proc.pid}", claimed_ago=0)
    proc.kill()
    proc.wait()
    assert services.cancel(job) == "cancelled"
