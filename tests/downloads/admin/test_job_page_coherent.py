"""One coherent job page: a readable header and a title that follows the state, nothing static beside the
live bar while the job runs, human numbers once it stopped, Retry only where it makes sense, guidance
that knows whether the partial files are still there; the queue line in the list and the live JSON."""

import re

import pytest
from django.urls import reverse

from downloads import services
from downloads.jobs import control
from downloads.models import DownloadJob, JobState, ModelVariant
from engine.cache.layout import RepoCache
from tests.downloads.admin.helpers import JOBS, PROGRESS, act, gguf_repo, job_url, messages_of, run_queued
from tests.downloads.jobs.test_queue import running_job, set_slots

pytestmark = pytest.mark.django_db


def hidden(page: str, action: str, job: DownloadJob) -> bool:
    """Is the job page's form for `action` rendered hidden?"""
    url = reverse(f"admin:downloads_downloadjob_{action}", args=[job.pk])
    form = re.search(rf'<form method="post" action="{re.escape(url)}"[^>]*>', page)
    assert form, f"no {action} form"
    return " hidden" in form.group(0)


def queued_q8(size: int | None = 1_200_000_000) -> DownloadJob:
    variant, _ = services.get_or_create_variant(repo_id="TheBloke/Llama-2-7B-GGUF", include=["*Q8_0*"],
                                                name="Q8_0")
    ModelVariant.objects.filter(pk=variant.pk).update(size_bytes=size)
    return services.enqueue(variant)[0]


def test_a_queued_job_page_says_why_it_waits_and_shows_nothing_that_will_move(admin_client, configured):
    set_slots(2)
    running_job("org/a"), running_job("org/b")
    job = queued_q8()
    page = admin_client.get(job_url(job)).content.decode()
    header = f"Q8_0 · TheBloke/Llama-2-7B-GGUF · download #{job.pk}"
    assert f"<h1>{header}</h1>" in page
    assert re.search(rf"<title>Queued · {re.escape(header)} \|", page)
    assert "1st in line · 2 of 2 download slots in use · 1.2 GB to download" in page
    # bytes, files and the commit move once it runs: the live panel has them, no static copy
    assert "field-commit" not in page and "Transfer</h2>" not in page and "field-bytes_total" not in page
    assert ": queued" not in page  # Django's str(job) in the breadcrumb would not follow the live badge
    assert "none (Settings&#x27; cap applies)" in page  # the rate limit, in words
    assert "0 B / 0 B" not in page  # the size is not known yet: the queue line says what it expects
    assert not hidden(page, "cancel", job) and not hidden(page, "pause", job)
    assert hidden(page, "resume", job) and hidden(page, "retry", job)


def test_a_succeeded_job_page_has_human_numbers_and_no_retry(admin_client, configured, hub):
    gguf_repo(hub)
    variant, _ = services.get_or_create_variant(repo_id="org/gguf", include=["m-Q4_K_M.gguf"], name="Q4_K_M")
    act(admin_client, "download_selected", [variant])
    [job] = run_queued()
    page = admin_client.get(job_url(job)).content.decode()
    assert re.search(r"<title>Succeeded · Q4_K_M · org/gguf · download #\d+ \|", page)
    summary = re.search(r'<p class="mh-summary" id="mh-summary">([^<]*)</p>', page).group(1)
    size = r"[\d.]+ [KM]?B"
    assert re.fullmatch(rf"({size}) of \1 · 1 of 1 files · took \d+ s · average {size}/s · {size} received "
                        "over the network", summary), summary
    assert "Transfer</h2>" in page and "field-commit" in page and "received, 0 B resumed" in page
    assert re.search(r'— checked <span title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">just now</span>', page)
    assert hidden(page, "retry", job) and hidden(page, "cancel", job) and hidden(page, "pause", job)
    response = act(admin_client, "retry_selected", [job], url=JOBS)
    assert any("succeeded: nothing to retry" in m for m in messages_of(response))
    assert DownloadJob.objects.count() == 1


def test_guidance_says_whether_the_partials_are_still_on_disk(admin_client, configured, storage):
    variant, _ = services.get_or_create_variant(repo_id="org/part", kind="files")
    job = services.enqueue(variant)[0]
    services.cancel(job)
    cache = RepoCache(storage, "org/part")
    cache.ensure_dirs()
    cache.partial_path("a" * 64).write_bytes(b"x" * 1_200_000)
    page = admin_client.get(job_url(job)).content.decode()
    assert ("The 1.2 MB already downloaded is on disk and will be reused by Retry or the next Download."
            in page)
    assert not hidden(page, "retry", job) and hidden(page, "cancel", job)
    assert "Partial files were kept; Download or Retry resumes where it stopped." in page
    cache.partial_path("a" * 64).unlink()  # Clean up, or hf cache prune, took them
    page = admin_client.get(job_url(job)).content.decode()
    assert "Nothing was kept on disk: the next download starts from the beginning." in page
    assert "Partial files were kept" not in page and "Cancelled. Download or Retry starts it again." in page
    # once a later download of the variant followed, the disk is its business: no claim either way
    services.enqueue(variant)
    page = admin_client.get(job_url(job)).content.decode()
    assert 'id="mh-kept"' not in page


def test_a_failed_jobs_claim_about_partials_follows_the_disk():
    from downloads.guidance import as_on_disk, guidance_for

    text = guidance_for("network", endpoint="https://hub.example")
    assert text.endswith("Partial files were kept: Retry resumes them.")
    assert as_on_disk(text, 5) == text and as_on_disk(text, None) == text
    assert as_on_disk(text, 0) == text.removesuffix(" Partial files were kept: Retry resumes them.")


def test_a_paused_job_page_offers_resume_and_the_buttons_answer(admin_client, configured):
    job = queued_q8()
    data = admin_client.post(reverse("admin:downloads_downloadjob_pause", args=[job.pk]),
                             HTTP_ACCEPT="application/json").json()
    assert data["ok"] and data["job"]["state"] == "paused" and "paused" in data["message"]
    page = admin_client.get(job_url(job)).content.decode()
    assert re.search(r"<title>Paused · Q8_0", page) and "<h2>Paused</h2>" in page
    assert "Nothing was kept on disk" in page
    assert not hidden(page, "resume", job) and hidden(page, "pause", job) and hidden(page, "retry", job)
    data = admin_client.post(reverse("admin:downloads_downloadjob_resume", args=[job.pk]),
                             HTTP_ACCEPT="application/json").json()
    assert data["ok"] and data["job"]["state"] == "queued" and "queued again" in data["message"]


def test_pause_and_resume_list_actions(admin_client, configured):
    job = queued_q8()
    response = act(admin_client, "pause_selected", [job], url=JOBS)
    assert any(f"Job {job.pk}: paused." in m for m in messages_of(response))
    response = act(admin_client, "resume_selected", [job], url=JOBS)
    assert any(f"Job {job.pk}: queued again." in m for m in messages_of(response))
    response = act(admin_client, "resume_selected", [job], url=JOBS)
    assert any("not resumed: it is queued, not paused" in m for m in messages_of(response))


def test_the_job_list_and_the_live_json_carry_the_queue_line(admin_client, configured):
    set_slots(1)
    running_job("org/a")
    jobs = [queued_q8()] + [services.enqueue(services.get_or_create_variant(repo_id=f"org/q{i}")[0])[0]
                            for i in range(3)]
    listing = admin_client.get(JOBS).content.decode()
    assert "1st in line · 1 of 1 download slots in use · 1.2 GB to download" in listing
    assert "4th in line · 1 of 1 download slots in use · size known once it starts" in listing
    data = admin_client.get(PROGRESS, {"ids": ",".join(str(j.pk) for j in jobs)}).json()
    queue = {item["job_id"]: item["queue"] for item in data["jobs"]}
    assert queue[jobs[0].pk]["text"].startswith("1st in line · 1 of 1 download slots in use")
    assert queue[jobs[3].pk]["position"] == 4
    assert queue[jobs[3].pk]["reason"] == "1 of 1 download slots in use"


def test_the_live_json_gives_a_stopped_variant_its_partial_label(admin_client, configured):
    job = queued_q8(size=1_000_000)
    control.pause(job)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.CANCELLED)
    ModelVariant.objects.filter(pk=job.variant_id).update(status="partial", partial_bytes=300_000)
    data = admin_client.get(PROGRESS, {"variants": str(job.variant_id)}).json()
    assert data["variants"][0]["status_label"] == "partial (30 %)"
    listing = admin_client.get(reverse("admin:downloads_modelvariant_changelist")).content.decode()
    assert ">partial (30 %)</span>" in listing


def test_pause_and_resume_need_the_download_permission_and_a_post(client, configured):
    from tests.downloads.admin.test_security import VIEWER_PERMS, user_with

    job = queued_q8()
    viewer = user_with(*VIEWER_PERMS)
    client.force_login(viewer)
    for action in ("pause", "resume"):
        url = reverse(f"admin:downloads_downloadjob_{action}", args=[job.pk])
        assert client.post(url).status_code == 403
        assert client.get(url).status_code == 405
    assert client.post(reverse("admin:downloads_downloadjob_pause", args=[999999])).status_code == 403
    page = client.get(job_url(job)).content.decode()
    assert "Pause</button>" not in page and "Resume</button>" not in page  # buttons only for who may use them
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and not job.pause_requested
