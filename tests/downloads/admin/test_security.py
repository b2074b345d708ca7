"""Who may do what in the admin: login, staff, CSRF, and the download / change_setting permissions."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from downloads import services
from downloads.models import DownloadJob, JobState, ModelVariant
from settings_app.models import Setting

pytestmark = pytest.mark.django_db

VARIANTS = reverse("admin:downloads_modelvariant_changelist")
JOBS = reverse("admin:downloads_downloadjob_changelist")
PROGRESS = reverse("admin:downloads_downloadjob_progress")
ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")
TEST_TOKEN = reverse("admin:settings_app_setting_test_token")


@pytest.fixture
def job(db):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    return services.enqueue(variant)[0]


def post_urls(job) -> list[str]:
    return [
        reverse("admin:downloads_downloadjob_cancel", args=[job.pk]),
        reverse("admin:downloads_downloadjob_retry", args=[job.pk]),
        reverse("admin:downloads_modelvariant_download", args=[job.variant_id]),
        reverse("admin:downloads_modelvariant_verify", args=[job.variant_id]),
        reverse("admin:downloads_modelvariant_cancel", args=[job.variant_id]),
        reverse("admin:downloads_modelvariant_pause", args=[job.variant_id]),
        reverse("admin:downloads_modelvariant_resume", args=[job.variant_id]),
        TEST_TOKEN,
    ]


def get_urls(job) -> list[str]:
    return [PROGRESS, PROGRESS + f"?ids={job.pk}", ADD_FROM_HUB, VARIANTS, JOBS,
            reverse("admin:downloads_downloadjob_change", args=[job.pk]),
            reverse("admin:downloads_modelvariant_change", args=[job.variant_id]),
            reverse("admin:settings_app_setting_changelist")]


def user_with(*codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user(f"u{User.objects.count()}", password="pw-Secret-123", is_staff=staff)
    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return user


VIEWER_PERMS = ("downloads.view_modelvariant", "downloads.view_downloadjob", "settings_app.view_setting")


def assert_nothing_changed(job):
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and not job.cancel_requested
    assert DownloadJob.objects.count() == 1


# --- login and staff ------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["anonymous", "non-staff"])
def test_added_urls_send_anonymous_and_non_staff_users_to_the_login(client, job, who):
    if who == "non-staff":
        client.force_login(user_with(*VIEWER_PERMS, "downloads.download_modelvariant", staff=False))
    for url in get_urls(job):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), url
    for url in post_urls(job):
        response = client.post(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), url
    assert_nothing_changed(job)


# --- CSRF -----------------------------------------------------------------------------------------
def test_posts_without_a_csrf_token_are_refused(admin_user, job):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for url in post_urls(job):
        assert client.post(url).status_code == 403, url
    action = {"action": "cancel_selected", "_selected_action": [job.pk]}
    assert client.post(JOBS, action).status_code == 403
    assert client.post(ADD_FROM_HUB, {"repo_id": "org/x", "choices": ["all"],
                                      "kind": "text"}).status_code == 403
    assert_nothing_changed(job)

    client.get(reverse("admin:downloads_downloadjob_change", args=[job.pk]))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    cancel = reverse("admin:downloads_downloadjob_cancel", args=[job.pk])
    assert client.post(cancel, {"csrfmiddlewaretoken": token}).status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED


# --- view-only staff ------------------------------------------------------------------------------
def test_viewer_sees_progress_but_no_download_actions_or_buttons(client, job):
    client.force_login(user_with(*VIEWER_PERMS))
    page = client.get(VARIANTS).content.decode()
    assert 'data-mh-field="status"' in page and "mh-progress" in page
    assert 'value="download_selected"' not in page and "Add from Hub" not in page
    jobs_page = client.get(JOBS).content.decode()
    assert 'value="cancel_selected"' not in jobs_page and 'value="retry_selected"' not in jobs_page
    job_page = client.get(reverse("admin:downloads_downloadjob_change", args=[job.pk])).content.decode()
    assert 'data-mh-field="state"' in job_page and "mh-job-action" not in job_page
    response = client.get(reverse("admin:downloads_modelvariant_change", args=[job.variant_id]))
    assert response.status_code == 200 and "Download</button>" not in response.content.decode()
    assert client.get(PROGRESS, {"ids": job.pk}).json()["jobs"][0]["job_id"] == job.pk


def test_viewer_gets_403_on_every_download_post_and_actions_do_nothing(client, job):
    client.force_login(user_with(*VIEWER_PERMS))
    for url in post_urls(job):
        assert client.post(url).status_code == 403, url
    client.post(VARIANTS, {"action": "download_selected", "_selected_action": [job.variant_id]})
    client.post(JOBS, {"action": "cancel_selected", "_selected_action": [job.pk]})
    client.post(JOBS, {"action": "retry_selected", "_selected_action": [job.pk]})
    assert client.get(ADD_FROM_HUB).status_code == 403
    assert_nothing_changed(job)


def test_staff_without_view_permissions_cannot_read_progress(client, job):
    client.force_login(user_with())
    assert client.get(PROGRESS).status_code == 403


def test_download_permission_without_add_can_download_but_not_add_from_hub(client, job):
    client.force_login(user_with(*VIEWER_PERMS, "downloads.download_modelvariant"))
    page = client.get(VARIANTS).content.decode()
    assert 'value="download_selected"' in page and "Add from Hub" not in page
    assert client.get(ADD_FROM_HUB).status_code == 403
    client.post(reverse("admin:downloads_downloadjob_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED


def test_add_from_hub_without_download_permission_creates_but_never_queues(client, configured, hub):
    from tests.modelfiles import make_gguf

    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf()})
    client.force_login(user_with(*VIEWER_PERMS, "downloads.add_modelvariant"))
    page = client.get(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model"}).content.decode()
    assert 'name="download_now"' not in page
    client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "kind": "text",
                               "choices": ["gguf:m-Q4_K_M"], "download_now": "on"})
    assert ModelVariant.objects.count() == 1 and not DownloadJob.objects.exists()


# --- settings -------------------------------------------------------------------------------------
def test_settings_change_and_test_token_need_change_setting(client, configured):
    client.force_login(user_with(*VIEWER_PERMS))
    url = reverse("admin:settings_app_setting_change", args=[Setting.load().pk])
    page = client.get(url).content.decode()
    assert 'name="hf_token"' not in page and "Test token</button>" not in page
    # the read-only line still shows where a token would come from
    assert "No token: public repos only." in page
    response = client.post(url, {"hub_endpoint": "https://evil.example", "max_parallel_files": 4,
                                 "reverify_interval_hours": 24, "segments_per_file": 1,
                                 "segment_min_size": "1MB"})
    assert response.status_code == 403
    assert client.post(TEST_TOKEN).status_code == 403
    assert Setting.load().hub_endpoint == configured.hub_endpoint

    editor = user_with("settings_app.view_setting", "settings_app.change_setting")
    client.force_login(editor)
    assert "Test token</button>" in client.get(url).content.decode()
    assert client.post(TEST_TOKEN).status_code == 302
