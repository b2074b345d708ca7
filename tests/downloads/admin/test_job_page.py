"""The job page (state, guidance, verification, events; its buttons) and the variant page's Download
button."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from downloads import services
from downloads.admin.display import linkify
from downloads.models import DownloadJob, JobState
from tests.downloads.admin.helpers import JOBS, act, gguf_repo, job_url, make_jobs, messages_of, run_queued

pytestmark = pytest.mark.django_db


def test_download_action_runs_for_real_and_job_page_shows_verification(admin_client, admin_user, configured,
                                                                        hub):
    gguf_repo(hub)
    variant, _ = services.get_or_create_variant(repo_id="org/gguf", include=["m-Q4_K_M.gguf"], name="Q4_K_M")
    response = act(admin_client, "download_selected", [variant])
    job = DownloadJob.objects.get()
    assert job.requested_by == admin_user and job.origin == "admin"
    assert f'Download: queued 1 new job(s): <a href="{job_url(job)}">{job.pk}</a>.' in messages_of(response)
    assert LogEntry.objects.filter(object_id=str(variant.pk),
                                   change_message=f"Download: queued job {job.pk}").exists()

    [job] = run_queued()
    assert job.state == JobState.SUCCEEDED, job.error_message
    page = admin_client.get(job_url(job)).content.decode()
    assert 'id="mh-verification"' in page and "m-Q4_K_M.gguf" in page
    sha = job.verification["files"][0]["hash_expected"]
    assert f'<code title="{sha}">{sha[:12]}…</code>' in page
    assert "gguf ok" in page and ">OK</span>" in page and "Completeness (rule <code>text</code>)" in page
    assert "Kind: <code>text</code>" in page and "(inferred: GGUF files (llama.cpp))" in page
    assert 'id="mh-guidance"' not in page
    # the page's order: state, (guidance), verification, events
    assert page.index('id="mh-state"') < page.index('id="mh-verification"') < page.index('id="mh-events"')
    assert "all files verified" in page  # an event row
    variant_url = reverse("admin:downloads_modelvariant_change", args=[variant.pk])
    variant_page = admin_client.get(variant_url).content.decode()
    assert f'href="{job_url(job)}">Job {job.pk}</a>' in variant_page
    assert "1 file(s)" in variant_page  # manifest summary


def test_failed_job_page_shows_error_code_and_clickable_guidance(admin_client, configured, hub):
    variant, _ = services.get_or_create_variant(repo_id="org/missing")
    act(admin_client, "download_selected", [variant])
    [job] = run_queued()
    assert job.error_code == "repo_not_found"
    page = admin_client.get(job_url(job)).content.decode()
    assert 'id="mh-guidance"' in page and "<code>repo_not_found</code>" in page
    assert f'<a href="{hub.url}/org/missing" rel="noopener noreferrer" target="_blank">' in page
    assert page.index('id="mh-state"') < page.index('id="mh-guidance"') < page.index('id="mh-events"')
    assert '<code class="mh-sub">repo_not_found</code>' in admin_client.get(
        JOBS, {"error_code": "repo_not_found"}).content.decode()


def test_linkify_escapes_everything_and_links_only_http_urls():
    html = linkify('Bad <script>alert(1)</script> see https://hub.example/org/x?a=1&b="2". '
                   'Or javascript:alert(1)')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://hub.example/org/x?a=1&amp;b=" rel="noopener noreferrer" target="_blank">' in html
    assert "&quot;2&quot;." in html  # the quote ends the URL; the rest stays escaped text
    assert 'href="javascript' not in html


def test_job_page_buttons_answer_json_for_the_script_and_redirect_without_it(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    job, _ = services.enqueue(variant)
    cancel = reverse("admin:downloads_downloadjob_cancel", args=[job.pk])
    data = admin_client.post(cancel, HTTP_ACCEPT="application/json").json()
    assert data["job"]["state"] == "cancelled" and data["job"]["state_label"] == "cancelled"
    assert data["ok"] is True and "cancelled" in data["message"]

    retry = reverse("admin:downloads_downloadjob_retry", args=[job.pk])
    response = admin_client.post(retry)
    new = DownloadJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and response.url == job_url(new)
    assert admin_client.get(retry).status_code == 405


def test_variant_page_download_button_queues_and_returns_to_the_page(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    page = reverse("admin:downloads_modelvariant_change", args=[variant.pk])
    assert "Download</button>" in admin_client.get(page).content.decode()
    response = admin_client.post(reverse("admin:downloads_modelvariant_download", args=[variant.pk]))
    assert response.status_code == 302 and response.url == page
    assert variant.jobs.get().state == JobState.QUEUED


def test_job_page_guidance_is_escaped(admin_client, configured):
    [job] = make_jobs(1)
    DownloadJob.objects.filter(pk=job.pk).update(
        state=JobState.FAILED, error_code="internal_error", error_message="<img src=x onerror=alert(1)>",
        guidance='Look at https://example.org/a"onmouseover="x')
    page = admin_client.get(job_url(job)).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<a href="https://example.org/a" rel="noopener noreferrer" target="_blank">' in page
    box = page.split('id="mh-guidance"')[1].split("</div>")[0]
    assert '"onmouseover="' not in box and "&quot;onmouseover=&quot;x" in box


def test_guidance_links_the_settings_page_of_this_admin():
    html = str(linkify("Paste it into ModelHub's Settings (/admin/settings_app/setting/) or see x/admin/no"))
    assert '<a href="/admin/settings_app/setting/">/admin/settings_app/setting/</a>' in html
    assert 'href="/admin/no' not in html
