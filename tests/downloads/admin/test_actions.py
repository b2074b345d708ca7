"""The admin end to end: variant form, actions, the real download path, job page, progress JSON, queue."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from downloads import services, tasks
from downloads.admin.display import linkify
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from settings_app.models import Setting
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db

VARIANTS = reverse("admin:downloads_modelvariant_changelist")
JOBS = reverse("admin:downloads_downloadjob_changelist")
PROGRESS = reverse("admin:downloads_downloadjob_progress")


def gguf_repo(hub, repo_id="org/gguf"):
    return hub.add_repo(repo_id, {
        "m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"}),
        "README.md": b"# readme",
    })


def job_url(job) -> str:
    return reverse("admin:downloads_downloadjob_change", args=[job.pk])


def act(client, action: str, objs, url=VARIANTS):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objs]}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_queued() -> list[DownloadJob]:
    """What a worker does: run every queued job, oldest first, with the real download path."""
    for pk in DownloadJob.objects.filter(state=JobState.QUEUED).order_by("created_at").values_list("pk", flat=True):
        tasks.run_job(pk)
    return list(DownloadJob.objects.order_by("pk"))


# --- the variant form -----------------------------------------------------------------------------
def test_variant_form_takes_one_glob_per_line_and_normalises_through_the_service_cleaners(admin_client, configured):
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), {
        "repo_id": "https://huggingface.co/org/gguf", "repo_type": "model", "revision": "", "name": "Q4_K_M",
        "kind": "text", "include": "*Q4_K_M*.gguf\n\nREADME.md\n*Q4_K_M*.gguf", "exclude": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    variant = ModelVariant.objects.get()
    assert (variant.repo_id, variant.revision) == ("org/gguf", "main")
    assert variant.include == ["*Q4_K_M*.gguf", "README.md"]
    assert LogEntry.objects.filter(object_id=str(variant.pk), action_flag=1).exists()

    page = admin_client.get(reverse("admin:downloads_modelvariant_change", args=[variant.pk])).content.decode()
    assert "*Q4_K_M*.gguf\nREADME.md</textarea>" in page  # edited back as one glob per line


@pytest.mark.parametrize("field, value, fragment", [
    ("repo_id", "not-a-repo", "is not a repo id"),
    ("revision", "bad..rev", "is not a valid branch, tag or commit name"),
    ("include", "../escape/*", "must be a relative glob"),
    ("exclude", "a[b", "unbalanced"),
])
def test_variant_form_shows_cleaner_errors_on_the_field(admin_client, configured, field, value, fragment):
    data = {"repo_id": "org/x", "repo_type": "model", "revision": "main", "name": "", "kind": "text",
            "include": "", "exclude": "", field: value}
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert fragment in " ".join(errors[field])
    assert not ModelVariant.objects.exists()


def test_variant_form_refuses_a_duplicate_selection(admin_client, configured):
    services.get_or_create_variant(repo_id="org/x", include=["a.gguf"])
    response = admin_client.post(reverse("admin:downloads_modelvariant_add"), {
        "repo_id": "org/x", "repo_type": "model", "revision": "main", "kind": "text", "include": "a.gguf",
        "exclude": ""})
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert ModelVariant.objects.count() == 1


# --- download, job page ---------------------------------------------------------------------------
def test_download_action_runs_for_real_and_job_page_shows_verification(admin_client, admin_user, configured, hub):
    gguf_repo(hub)
    variant, _ = services.get_or_create_variant(repo_id="org/gguf", include=["m-Q4_K_M.gguf"], name="Q4_K_M")
    response = act(admin_client, "download_selected", [variant])
    job = DownloadJob.objects.get()
    assert job.requested_by == admin_user and job.origin == "admin"
    assert f'Download: queued 1 new job(s): <a href="{job_url(job)}">{job.pk}</a>.' in messages_of(response)
    assert LogEntry.objects.filter(object_id=str(variant.pk), change_message=f"Download: queued job {job.pk}").exists()

    [job] = run_queued()
    assert job.state == JobState.SUCCEEDED, job.error_message
    page = admin_client.get(job_url(job)).content.decode()
    assert 'id="mh-verification"' in page and "m-Q4_K_M.gguf" in page
    sha = job.verification["files"][0]["hash_expected"]
    assert f'<code title="{sha}">{sha[:12]}…</code>' in page
    assert "gguf ok" in page and ">OK</span>" in page and "Completeness (rule <code>text</code>)" in page
    assert 'id="mh-guidance"' not in page
    # the page's order: state, (guidance), verification, events
    assert page.index('id="mh-state"') < page.index('id="mh-verification"') < page.index('id="mh-events"')
    assert "all files verified" in page  # an event row
    variant_page = admin_client.get(reverse("admin:downloads_modelvariant_change", args=[variant.pk])).content.decode()
    assert f'href="{job_url(job)}">Job {job.pk}</a>' in variant_page
    assert "1 file(s)" in variant_page  # manifest summary


def test_download_action_joins_an_active_job_and_says_so(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    first, _ = services.enqueue(variant)
    response = act(admin_client, "download_selected", [variant])
    assert DownloadJob.objects.count() == 1
    assert any(f'already queued or running and were joined: <a href="{job_url(first)}">{first.pk}</a>' in m
               for m in messages_of(response))


def test_failed_job_page_shows_error_code_and_clickable_guidance(admin_client, configured, hub):
    variant, _ = services.get_or_create_variant(repo_id="org/missing")
    act(admin_client, "download_selected", [variant])
    [job] = run_queued()
    assert job.error_code == "repo_not_found"
    page = admin_client.get(job_url(job)).content.decode()
    assert 'id="mh-guidance"' in page and "<code>repo_not_found</code>" in page
    assert f'<a href="{hub.url}/org/missing" rel="noopener noreferrer" target="_blank">' in page
    assert page.index('id="mh-state"') < page.index('id="mh-guidance"') < page.index('id="mh-events"')
    assert "<code>repo_not_found</code>" in admin_client.get(JOBS, {"error_code": "repo_not_found"}).content.decode()


def test_linkify_escapes_everything_and_links_only_http_urls():
    html = linkify('Bad <script>alert(1)</script> see https://hub.example/org/x?a=1&b="2". Or javascript:alert(1)')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://hub.example/org/x?a=1&amp;b=" rel="noopener noreferrer" target="_blank">' in html
    assert "&quot;2&quot;." in html  # the quote ends the URL; the rest stays escaped text
    assert 'href="javascript' not in html


def test_cancel_and_retry_actions_on_jobs_use_the_services_and_write_the_admin_log(admin_client, admin_user, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    job, _ = services.enqueue(variant)
    response = act(admin_client, "cancel_selected", [job], url=JOBS)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert any(f"Job {job.pk}: cancelled." in m for m in messages_of(response))
    act(admin_client, "retry_selected", [job], url=JOBS)
    new = DownloadJob.objects.exclude(pk=job.pk).get()
    assert new.state == JobState.QUEUED and new.requested_by == admin_user
    logged = set(LogEntry.objects.filter(user=admin_user).values_list("change_message", flat=True))
    assert {"Cancel: cancelled", f"Retry: queued job {new.pk}"} <= logged


def test_variant_retry_uses_the_latest_finished_job_or_downloads(admin_client, configured):
    fresh, _ = services.get_or_create_variant(repo_id="org/fresh")
    used, _ = services.get_or_create_variant(repo_id="org/used")
    old, _ = services.enqueue(used)
    services.cancel(old)
    act(admin_client, "retry_selected", [fresh, used])
    assert fresh.jobs.get().state == JobState.QUEUED
    assert used.jobs.filter(state=JobState.QUEUED).count() == 1
    assert LogEntry.objects.filter(change_message=f"Retry of job {old.pk}: queued job "
                                   f"{used.jobs.get(state=JobState.QUEUED).pk}").exists()


def test_verify_and_repair_of_a_never_downloaded_variant_warn_instead_of_failing(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    for action in ("verify_selected", "verify_full_selected", "repair_selected"):
        response = act(admin_client, action, [variant])
        [message] = [m for m in response.context["messages"]]
        assert message.level_tag == "warning"
    assert not DownloadJob.objects.exists()


def test_verify_full_action_queues_a_forced_verify_of_an_installed_variant(admin_client, configured, hub):
    gguf_repo(hub)
    variant, _ = services.get_or_create_variant(repo_id="org/gguf", include=["m-Q8_0.gguf"])
    act(admin_client, "download_selected", [variant])
    run_queued()
    act(admin_client, "verify_full_selected", [variant])
    verify = DownloadJob.objects.get(kind="verify")
    assert verify.force is True
    run_queued()
    verify.refresh_from_db()
    assert verify.state == JobState.SUCCEEDED and verify.verification["mode"] == "full"


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


# --- progress -------------------------------------------------------------------------------------
def make_jobs(n: int, by=None, **fields) -> list[DownloadJob]:
    jobs = []
    for i in range(n):
        variant, _ = services.get_or_create_variant(repo_id=f"org/m{i}-{n}")
        job, _ = services.enqueue(variant, requested_by=by)
        DownloadJob.objects.filter(pk=job.pk).update(**fields)
        jobs.append(job)
    return jobs


def test_progress_json_has_job_dicts_and_variant_statuses(admin_client, configured):
    running, queued = make_jobs(2)
    DownloadJob.objects.filter(pk=running.pk).update(state=JobState.RUNNING, bytes_total=1000, bytes_done=250,
                                                     speed_bps=50.0)
    ModelVariant.objects.filter(pk=running.variant_id).update(status=VariantStatus.DOWNLOADING)
    data = admin_client.get(PROGRESS, {"ids": f"{running.pk}"}).json()
    [item] = data["jobs"]
    assert item["job_id"] == running.pk and item["state"] == "running" and item["percent"] == 25.0
    assert item["bytes_done"] == 250 and item["speed_bps"] == 50 and item["eta_seconds"] == 15
    assert item["url"] == job_url(running) and "verification" not in item
    assert data["variants"] == [{"id": running.variant_id, "status": "downloading", "job_id": running.pk,
                                 "status_label": "downloading"}]
    assert data["active"] is True

    by_variant = admin_client.get(PROGRESS, {"variants": f"{queued.variant_id}"}).json()
    assert [j["job_id"] for j in by_variant["jobs"]] == [queued.pk]
    assert by_variant["variants"][0]["status"] == "queued"

    everything = admin_client.get(PROGRESS).json()
    assert {j["job_id"] for j in everything["jobs"]} == {running.pk, queued.pk}
    assert admin_client.get(PROGRESS, {"ids": "1,abc"}).status_code == 400


def test_progress_json_says_inactive_when_everything_finished(admin_client, configured):
    [job] = make_jobs(1)
    services.cancel(job)
    data = admin_client.get(PROGRESS, {"ids": str(job.pk)}).json()
    assert data["active"] is False and data["jobs"][0]["state"] == "cancelled"


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_changelists_and_progress_endpoint_use_a_constant_number_of_queries(admin_client, admin_user, configured):
    few = make_jobs(5, by=admin_user, bytes_total=100, bytes_done=10)
    counts_few = [count_queries(admin_client, JOBS), count_queries(admin_client, VARIANTS),
                  count_queries(admin_client, PROGRESS, {"ids": ",".join(str(j.pk) for j in few),
                                                         "variants": ",".join(str(j.variant_id) for j in few)})]
    many = few + make_jobs(45, by=admin_user, bytes_total=100, bytes_done=10)
    counts_many = [count_queries(admin_client, JOBS), count_queries(admin_client, VARIANTS),
                   count_queries(admin_client, PROGRESS, {"ids": ",".join(str(j.pk) for j in many),
                                                          "variants": ",".join(str(j.variant_id) for j in many)})]
    assert counts_few == counts_many
    assert counts_many[2] <= 5  # session, user, variants + latest job ids, jobs with variants


def test_changelists_render_progress_bars_without_javascript(admin_client, configured):
    [job] = make_jobs(1)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, bytes_total=4_000_000, bytes_done=1_000_000,
                                                 speed_bps=1_000_000.0)
    for url in (JOBS, VARIANTS):
        page = admin_client.get(url).content.decode()
        assert 'style="width: 25.0%"' in page and f'data-mh-job="{job.pk}" data-mh-field="pct">25.0%' in page
        assert "1.0 MB/s" in page and "3 s left" in page
        assert 'data-progress-url="/admin/downloads/downloadjob/progress/"' in page and " defer" in page
    assert "1.0 MB / 4.0 MB" in admin_client.get(VARIANTS).content.decode()


def test_variant_list_flags_an_available_update(admin_client, configured):
    current, _ = services.get_or_create_variant(repo_id="org/current")
    stale, _ = services.get_or_create_variant(repo_id="org/stale")
    ModelVariant.objects.filter(pk=current.pk).update(commit="a" * 40, upstream_commit="a" * 40)
    ModelVariant.objects.filter(pk=stale.pk).update(commit="a" * 40, upstream_commit="b" * 40)
    page = admin_client.get(VARIANTS).content.decode()
    rows = {repo: page.split(f">{repo}</a>")[1].split("</tr>")[0] for repo in ("org/current", "org/stale")}
    assert 'alt="True"' in rows["org/stale"] and 'alt="False"' in rows["org/current"]


# --- queue ----------------------------------------------------------------------------------------
def test_bulk_download_respects_max_concurrent_and_lists_the_queue_in_order(
        admin_client, configured, django_capture_on_commit_callbacks):
    setting = Setting.load()
    setting.max_concurrent_downloads = 1
    setting.save()
    variants = [services.get_or_create_variant(repo_id=f"org/q{i}")[0] for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "download_selected", variants)
    jobs = list(DownloadJob.objects.order_by("created_at", "id"))
    assert [j.variant_id for j in jobs] == [v.pk for v in variants]
    assert jobs[0].dispatched_at is not None and jobs[0].task_id
    assert [j.dispatched_at for j in jobs[1:]] == [None, None]

    page = admin_client.get(JOBS).content.decode()
    positions = [page.index(f'href="{job_url(j)}"') for j in jobs]
    assert positions == sorted(positions)  # queue order: the next to run is listed first

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(jobs[0])  # frees the slot: the next in line is dispatched
    assert DownloadJob.objects.get(pk=jobs[1].pk).dispatched_at is not None
    assert DownloadJob.objects.get(pk=jobs[2].pk).dispatched_at is None


def test_job_changelist_lists_finished_jobs_newest_first_after_the_queue(admin_client, configured):
    older, newer, active = make_jobs(3)
    for job in (older, newer):
        services.cancel(job)
    page = admin_client.get(JOBS).content.decode()
    assert page.index(job_url(active)) < page.index(job_url(newer)) < page.index(job_url(older))


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


def test_delete_files_action_leads_to_the_confirmation_page(configured, hub, admin_client):
    from downloads.jobs import runner

    hub.add_repo("org/del", {"m.gguf": make_gguf()})
    variant, _ = services.get_or_create_variant(repo_id="org/del")
    runner.run_job(services.enqueue(variant, origin="command", run_here=True)[0].pk)
    url = reverse("admin:downloads_modelvariant_changelist")
    response = admin_client.post(url, {"action": "delete_files_selected", "_selected_action": [variant.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('modelhub-storage-delete')}?ids={variant.pk}"
    page = admin_client.get(response["Location"])
    assert page.status_code == 200 and b"org/del" in page.content


def test_delete_files_action_is_hidden_without_its_permission(configured, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_modelvariant"),
                              Permission.objects.get(codename="download_modelvariant"))
    client.force_login(user)
    services.get_or_create_variant(repo_id="org/listed")  # an empty list shows no action bar at all
    page = client.get(reverse("admin:downloads_modelvariant_changelist"))
    assert b"download_selected" in page.content
    assert b"delete_files_selected" not in page.content


def test_check_updates_action_reports_update_available(configured, hub, admin_client):
    from downloads.jobs import runner

    hub.add_repo("org/upd", {"m.gguf": make_gguf()})
    variant, _ = services.get_or_create_variant(repo_id="org/upd")
    runner.run_job(services.enqueue(variant, origin="command", run_here=True)[0].pk)
    hub.add_commit("org/upd", {"README.md": b"new"})
    url = reverse("admin:downloads_modelvariant_changelist")
    response = admin_client.post(url, {"action": "check_updates_selected", "_selected_action": [variant.pk]},
                                 follow=True)
    assert b"update available" in response.content
    variant.refresh_from_db()
    assert variant.update_available


def test_guidance_links_the_settings_page_of_this_admin():
    html = str(linkify("Paste it into ModelHub's Settings (/admin/settings_app/setting/) or see x/admin/no"))
    assert '<a href="/admin/settings_app/setting/">/admin/settings_app/setting/</a>' in html
    assert 'href="/admin/no' not in html
