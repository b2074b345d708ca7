"""manage.py pause / resume: the same services as the admin's buttons; resume --wait continues from the
partial files (the fake Hub is asked only for the rest)."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_pause_then_resume_wait_downloads_only_what_the_partials_lack(configured, hub, storage):
    data = pseudo_random_bytes(1_500_000)
    repo = hub.add_repo("org/cmd", {"model.bin": data})
    cache = RepoCache(storage, "org/cmd")
    cache.ensure_dirs()
    cache.partial_path(repo.files["model.bin"].etag).write_bytes(data[:600_000])
    job = start_job("org/cmd", kind="files")

    assert run("pause", str(job.pk)) == f"job {job.pk} (org/cmd [all files]): paused\n"
    [row] = json.loads(run("pause", str(job.pk), "--json"))
    assert row["state"] == "paused" and row["result"] == "not paused: already paused"
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.PAUSED

    out = run("resume", str(job.pk), "--wait")
    assert out == f"job {job.pk} (org/cmd [all files]): queued again, now succeeded\n"
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.bytes_resumed == 600_000
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == 600_000 and get.bytes_sent == len(data) - 600_000
    assert DownloadJob.objects.filter(variant_id=job.variant_id).count() == 1


@pytest.mark.django_db
def test_resume_of_a_job_that_is_not_paused_says_so_and_fails(configured):
    job = start_job("org/busy", kind="files")
    with pytest.raises(CommandError) as error:
        run("resume", str(job.pk))
    assert error.value.returncode == 1
    with pytest.raises(CommandError) as error:
        run("pause", "999999")
    assert error.value.returncode == 2  # an unknown id is an input error, before anything changes


@pytest.mark.django_db
def test_jobs_says_why_a_queued_job_waits(configured):
    from tests.downloads.jobs.test_queue import running_job, set_slots

    set_slots(1)
    running_job("org/running")
    job = start_job("org/waiting", kind="files")
    line = next(x for x in run("jobs").splitlines() if x.lstrip().startswith(str(job.pk)))
    assert line.endswith("org/waiting@main  (1st in line · 1 of 1 download slots in use · size known once it "
                         "starts)")
    [row] = [r for r in json.loads(run("jobs", "--json")) if r["job_id"] == job.pk]
    assert row["queue"]["position"] == 1
