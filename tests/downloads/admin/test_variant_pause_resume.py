"""The variant page's Pause and Resume buttons, as a person sees them: Pause beside Cancel while a download
is queued or running, Resume instead of Download once its latest job is paused, and a Resume that queues
the same job again so its run continues from the partial files."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from downloads import services
from downloads.jobs import control, runner
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from tests import workers
from tests.downloads.admin.helpers import messages_of, run_queued
from tests.downloads.admin.test_security import VIEWER_PERMS, user_with
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes

DOWNLOAD, RESUME = "Download</button>", "Resume</button>"
PAUSE, CANCEL = "Pause</button>", "Cancel</button>"


def page_url(variant_id: int) -> str:
    return reverse("admin:downloads_modelvariant_change", args=[variant_id])


def buttons(client, variant_id: int) -> set[str]:
    html = client.get(page_url(variant_id)).content.decode()
    return {label for label in (DOWNLOAD, RESUME, PAUSE, CANCEL) if label in html}


def post(client, action: str, variant_id: int):
    return client.post(reverse(f"admin:downloads_modelvariant_{action}", args=[variant_id]), follow=True)


@pytest.mark.django_db
def test_buttons_follow_the_state_of_the_variants_jobs(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    assert buttons(admin_client, variant.pk) == {DOWNLOAD}

    job, _ = services.enqueue(variant)
    assert buttons(admin_client, variant.pk) == {DOWNLOAD, PAUSE, CANCEL}  # Download joins the queued job

    response = post(admin_client, "pause", variant.pk)
    assert response.redirect_chain == [(page_url(variant.pk), 302)]
    assert messages_of(response) == [f"Job {job.pk}: paused."]
    job.refresh_from_db()
    assert job.state == JobState.PAUSED
    # The page it came back to offers Resume where Download was, and nothing to pause or cancel.
    html = response.content.decode()
    assert RESUME in html and DOWNLOAD not in html and PAUSE not in html and CANCEL not in html

    response = post(admin_client, "pause", variant.pk)  # a second tab, posting again
    assert messages_of(response) == [f"{variant}: no queued or running job to pause."]


@pytest.mark.django_db
def test_a_verification_offers_cancel_but_no_pause(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/v")
    DownloadJob.objects.create(variant=variant, kind="verify")
    assert buttons(admin_client, variant.pk) == {DOWNLOAD, CANCEL}
    response = post(admin_client, "pause", variant.pk)
    assert "not paused: a verification has nothing to resume" in messages_of(response)[0]


@pytest.mark.django_db
def test_resume_is_offered_only_while_the_latest_job_is_paused(admin_client, configured):
    old = start_job("org/p", kind="files")
    control.pause(old)
    assert buttons(admin_client, old.variant_id) == {RESUME}
    new, _ = services.enqueue(old.variant)  # a new download supersedes the paused job
    assert buttons(admin_client, old.variant_id) == {DOWNLOAD, PAUSE, CANCEL}
    response = post(admin_client, "resume", old.variant_id)
    assert messages_of(response) == [f"{old.variant}: no paused job to resume."]
    old.refresh_from_db()
    assert old.state == JobState.CANCELLED and DownloadJob.objects.get(pk=new.pk).state == JobState.QUEUED


@pytest.mark.django_db
def test_viewers_see_no_resume_and_may_not_post_it(client, configured):
    job = start_job("org/seen", kind="files")
    control.pause(job)
    client.force_login(user_with(*VIEWER_PERMS))
    assert buttons(client, job.variant_id) == set()
    for action in ("resume", "pause"):
        url = reverse(f"admin:downloads_modelvariant_{action}", args=[job.variant_id])
        assert client.post(url).status_code == 403, action
    job.refresh_from_db()
    assert job.state == JobState.PAUSED


@pytest.mark.django_db(transaction=True)
def test_pause_a_running_download_then_resume_it_from_its_partial_files(admin_client, configured, hub,
                                                                          storage):
    data = pseudo_random_bytes(6_000_000)
    repo = hub.add_repo("org/pause", {"model.bin": data})
    partial = RepoCache(storage, "org/pause").partial_path(repo.files["model.bin"].etag)
    hub.throttle(500_000)
    job = start_job("org/pause", kind="files")

    def work():
        runner.run_job(job.pk)
        connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    workers.wait_for(lambda: DownloadJob.objects.get(pk=job.pk).bytes_done > 500_000, timeout=20,
                     message="download progress")
    assert {PAUSE, CANCEL} <= buttons(admin_client, job.variant_id)
    response = post(admin_client, "pause", job.variant_id)
    assert messages_of(response) == [f"Job {job.pk}: pause requested."]
    thread.join(timeout=15)
    assert not thread.is_alive()
    job.refresh_from_db()
    kept = partial.stat().st_size
    assert job.state == JobState.PAUSED and 0 < kept < len(data)
    assert buttons(admin_client, job.variant_id) == {RESUME}

    hub.throttle(None)
    hub.reset_log()
    response = post(admin_client, "resume", job.variant_id)
    assert messages_of(response) == [f"Job {job.pk}: queued again."]
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.bytes_done >= kept  # the same job, its progress kept
    assert partial.stat().st_size == kept  # the partial file waits for the next run
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.QUEUED
    assert {PAUSE, CANCEL} <= buttons(admin_client, job.variant_id)

    [done] = run_queued()
    assert done.pk == job.pk and done.state == JobState.SUCCEEDED, done.error_message
    (get,) = [r for r in hub.file_requests("model.bin") if r.method == "GET"]
    assert get.range_start == kept and done.bytes_resumed == kept  # continued, not downloaded again
    assert RepoCache(storage, "org/pause").blob_path(repo.files["model.bin"].etag).read_bytes() == data
