"""The admin's actions on variants and jobs: each calls a service, says what it did and writes the
admin log; a queue bigger than max_concurrent waits its turn."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from downloads import services
from downloads.models import DownloadJob, JobState
from settings_app.models import Setting
from tests.downloads.admin.helpers import JOBS, act, gguf_repo, job_url, messages_of, run_queued
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db


def test_download_action_joins_an_active_job_and_says_so(admin_client, configured):
    variant, _ = services.get_or_create_variant(repo_id="org/x")
    first, _ = services.enqueue(variant)
    response = act(admin_client, "download_selected", [variant])
    assert DownloadJob.objects.count() == 1
    assert any(f'already queued or running and were joined: <a href="{job_url(first)}">{first.pk}</a>' in m
               for m in messages_of(response))


def test_cancel_and_retry_actions_on_jobs_use_the_services_and_write_the_admin_log(admin_client, admin_user,
                                                                                   configured):
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
