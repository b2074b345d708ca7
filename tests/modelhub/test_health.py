"""GET /healthz: 200 when database, broker, storage and workers are fine; 503 naming what is not.
Anonymous monitors learn only ok/failed per check; staff also get the details (paths, counts)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from downloads import services
from downloads.models import DownloadJob, JobState, WorkerBeat

CHECKS = {"database", "broker", "storage", "workers"}


@pytest.fixture
def healthy(db, storage):
    from settings_app.models import Setting

    setting = Setting.load()
    setting.storage_dir = str(storage)
    setting.min_free_space = 0
    setting.save()
    WorkerBeat.objects.create(worker="host:1", last_seen=timezone.now(), last_task="housekeeping")
    return setting


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(user)
    return client


def get(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_it_is_ok_when_database_broker_storage_and_a_worker_are_fine(client, healthy):
    status, body = get(client)
    assert status == 200
    assert body == {"ok": True, "checks": {name: {"ok": True} for name in CHECKS}}


def test_anonymous_callers_get_only_ok_flags_never_paths(client, healthy, storage):
    healthy.min_free_space = 10**18
    healthy.save()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert all(set(check) == {"ok"} for check in response.json()["checks"].values())
    assert str(storage) not in response.content.decode()
    assert response["Cache-Control"] and "no-cache" in response["Cache-Control"]


def test_staff_get_the_details(staff_client, healthy, storage):
    status, body = get(staff_client)
    assert status == 200
    checks = body["checks"]
    assert checks["storage"]["path"] == str(storage.resolve())
    assert checks["storage"]["free_bytes"] > 0 and checks["storage"]["min_free_bytes"] == 0
    assert checks["database"]["engine"] == "sqlite"
    assert checks["broker"]["broker"] == "ORM" and checks["broker"]["queued_tasks"] == 0
    assert checks["workers"]["alive"] == ["host:1"]


def test_unwritable_storage_fails_the_storage_check(staff_client, healthy, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    healthy.storage_dir = str(blocker / "models")  # root can write anywhere, but not below a file
    healthy.save()
    status, body = get(staff_client)
    assert status == 503 and body["ok"] is False
    assert body["checks"]["storage"]["ok"] is False
    assert "not writable" in body["checks"]["storage"]["message"]
    assert all(body["checks"][name]["ok"] for name in CHECKS - {"storage"})


def test_free_space_below_the_minimum_fails_the_storage_check(staff_client, healthy):
    healthy.min_free_space = 10**18
    healthy.save()
    status, body = get(staff_client)
    assert status == 503
    storage = body["checks"]["storage"]
    assert storage["ok"] is False and storage["min_free_bytes"] == 10**18
    assert "below the configured minimum" in storage["message"]


@pytest.mark.parametrize("last_seen", [None, timedelta(minutes=4)], ids=["never", "four-minutes-ago"])
def test_no_worker_seen_recently_fails_the_workers_check(staff_client, healthy, last_seen):
    WorkerBeat.objects.all().delete()
    if last_seen is not None:
        WorkerBeat.objects.create(worker="host:2", last_seen=timezone.now() - last_seen)
    status, body = get(staff_client)
    assert status == 503
    workers = body["checks"]["workers"]
    assert workers["ok"] is False and workers["alive"] == []
    assert "qcluster" in workers["message"]
    assert all(body["checks"][name]["ok"] for name in CHECKS - {"workers"})


def test_a_running_job_with_a_stale_heartbeat_fails_the_workers_check(staff_client, healthy, settings):
    variant, _ = services.get_or_create_variant(repo_id="org/stale")
    old = timezone.now() - timedelta(seconds=settings.MODELHUB_HEARTBEAT_TIMEOUT + 5)
    job = DownloadJob.objects.create(variant=variant, state=JobState.RUNNING, started_at=old,
                                     heartbeat_at=old, worker="gone:1")
    status, body = get(staff_client)
    assert status == 503
    assert body["checks"]["workers"]["stale_jobs"] == [job.pk]
    assert str(job.pk) in body["checks"]["workers"]["message"]
    DownloadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    assert get(staff_client)[0] == 200


def test_the_worker_beat_is_written_by_the_workers_tasks_not_by_cron_housekeeping(client, healthy):
    from django.core.management import call_command

    from downloads import tasks

    WorkerBeat.objects.all().delete()
    call_command("housekeeping")
    assert get(client)[0] == 503
    tasks.housekeeping()
    assert get(client)[0] == 200
