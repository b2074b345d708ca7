"""manage.py housekeeping / jobs / cancel / retry: thin commands over the services, JSON for scripts."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, JobState, WorkerBeat


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def queued_job(repo_id: str) -> DownloadJob:
    variant, _ = services.get_or_create_variant(repo_id=repo_id, kind="files")
    return services.enqueue(variant, origin="command", run_here=True)[0]


@pytest.mark.django_db
def test_housekeeping_reaps_a_job_whose_worker_died_and_queues_its_next_attempt(configured, settings):
    job = queued_job("org/dead")
    old = timezone.now() - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT + 1)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=old, heartbeat_at=old)
    result = json.loads(run("housekeeping", "--json"))
    assert result["reaped"] == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.FAILED, "worker_lost")
    follow_up = DownloadJob.objects.get(variant=job.variant, attempt=2)
    assert follow_up.state == JobState.QUEUED and result["dispatched"] == [follow_up.pk]
    assert not WorkerBeat.objects.exists()  # cron is not a worker: /healthz must still see none
    assert "none" in run("housekeeping")  # nothing left to do, said in words


@pytest.mark.django_db
def test_jobs_lists_newest_first_and_active_only_on_request(configured):
    done = queued_job("org/done")
    DownloadJob.objects.filter(pk=done.pk).update(state=JobState.SUCCEEDED)
    waiting = queued_job("org/waiting")
    rows = json.loads(run("jobs", "--json"))
    assert [r["job_id"] for r in rows] == [waiting.pk, done.pk]
    assert rows[0]["state"] == "queued" and rows[0]["repo_id"] == "org/waiting"
    assert [r["job_id"] for r in json.loads(run("jobs", "--active", "--json"))] == [waiting.pk]
    assert "org/waiting" in run("jobs", "--active")


@pytest.mark.django_db
def test_cancel_refuses_unknown_ids_before_changing_anything(configured):
    job = queued_job("org/keep")
    with pytest.raises(CommandError) as exc:
        run("cancel", str(job.pk), "424242")
    assert exc.value.returncode == 2 and "424242" in str(exc.value)
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


@pytest.mark.django_db
def test_cancel_a_queued_job_at_once_and_a_running_one_by_request(configured):
    queued, running = queued_job("org/q"), queued_job("org/r")
    DownloadJob.objects.filter(pk=running.pk).update(state=JobState.RUNNING, started_at=timezone.now(),
                                                     heartbeat_at=timezone.now())
    rows = {r["job_id"]: r for r in json.loads(run("cancel", str(queued.pk), str(running.pk), "--json"))}
    assert (rows[queued.pk]["result"], rows[queued.pk]["state"]) == ("cancelled", "cancelled")
    assert (rows[running.pk]["result"], rows[running.pk]["state"]) == ("cancel requested", "running")
    assert rows[running.pk]["cancel_requested"] is True


@pytest.mark.django_db
def test_retry_wait_runs_a_new_attempt_here_and_reports_it(configured, hub):
    hub.add_repo("org/again", {"model.bin": b"x" * 50_000, "config.json": b"{}"})
    hub.fail_next("model.bin", 404)
    job = queued_job("org/again")
    failed = runner.run_job(job.pk)
    assert failed.error_code == "file_not_found"
    (row,) = json.loads(run("retry", str(failed.pk), "--wait", "--json"))
    assert row["retry_of"] == failed.pk and row["job_id"] != failed.pk and row["joined"] is False
    assert (row["state"], row["variant_status"]) == ("succeeded", "installed")


@pytest.mark.django_db
def test_retry_wait_exits_1_when_the_new_attempt_fails_too(configured, hub):
    hub.add_repo("org/still-bad", {"model.bin": b"y" * 50_000})
    hub.fail_next("model.bin", 404, count=2)
    failed = runner.run_job(queued_job("org/still-bad").pk)
    with pytest.raises(CommandError) as exc:
        run("retry", str(failed.pk), "--wait")
    assert exc.value.returncode == 1
    assert DownloadJob.objects.filter(variant=failed.variant).count() == 2
