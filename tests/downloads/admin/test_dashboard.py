"""The home page is a dashboard: downloads now (live), failures that need action with their guidance,
disk space, recent activity; the task queue's internals only for superusers; empty states say what
to do first. Real jobs from the test Hub."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from downloads import services
from downloads.jobs import control
from tests.downloads.admin.helpers import run_queued
from tests.modelfiles import make_gguf
from tests.storage_helpers import staff_user

pytestmark = pytest.mark.django_db
HOME = reverse("admin:index")


def test_an_empty_install_says_what_to_do_first(admin_client, configured):
    page = admin_client.get(HOME).content.decode()
    assert 'id="mh-first-steps"' in page and "No model yet." in page
    assert "Add one from the Hub</a>" in page and "Nothing is downloading or queued." in page


def test_the_dashboard_shows_active_downloads_failures_with_guidance_disk_and_activity(
        admin_client, configured, hub):
    hub.add_repo("org/ok", {"m-Q4_K_M.gguf": make_gguf()})
    ok, _ = services.get_or_create_variant(repo_id="org/ok")
    missing, _ = services.get_or_create_variant(repo_id="org/missing")
    services.enqueue_downloads([ok, missing])
    run_queued()
    waiting, _ = services.get_or_create_variant(repo_id="org/ok", include=["*Q4_K_M*"], name="again")
    job, _ = services.enqueue(waiting, run_here=True)
    page = admin_client.get(HOME).content.decode()
    active = page.split('id="mh-active"')[1].split('id="mh-attention"')[0]
    assert "org/ok [again]" in active and f'data-mh-job="{job.pk}" data-mh-field="progress"' in active
    attention = page.split('id="mh-attention"')[1].split('id="mh-disk"')[0]
    assert "<code>repo_not_found</code>" in attention and "What to do:" in attention
    assert ">Retry</button>" in attention and "org/ok" not in attention
    disk = page.split('id="mh-disk"')[1].split('id="mh-activity"')[0]
    assert str(configured.effective_storage_dir) in disk and " free of " in disk
    assert "finished" in page.split('id="mh-activity"')[1]
    assert 'data-progress-url="/admin/downloads/downloadjob/progress/"' in page


def test_the_task_queue_app_is_for_superusers_only(client, admin_client, configured):
    assert "app-django_q" in admin_client.get(HOME).content.decode()
    viewer = staff_user("viewer", "view_modelvariant", "view_downloadjob")
    viewer.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_q"))
    client.force_login(viewer)
    page = client.get(HOME).content.decode()
    assert "app-django_q" not in page and 'id="mh-dashboard"' in page and ">Retry</button>" not in page


def test_queued_jobs_say_why_they_wait_and_paused_ones_offer_resume(admin_client, configured, hub):
    hub.add_repo("org/wait", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf()})
    first, _ = services.get_or_create_variant(repo_id="org/wait", include=["m-Q4_K_M.gguf"], name="Q4")
    second, _ = services.get_or_create_variant(repo_id="org/wait", include=["m-Q8_0.gguf"], name="Q8")
    (held, _), (queued, _) = services.enqueue_downloads([first, second])
    control.pause(held)
    page = admin_client.get(HOME).content.decode()
    active = page.split('id="mh-active"')[1].split('id="mh-attention"')[0]
    assert "org/wait [Q8]" in active and "1st in line" in active, active
    paused = active.split('class="mh-dash-row mh-paused"')[1]
    assert "org/wait [Q4]" in paused and ">paused</span>" in paused and ">Resume</button>" in paused
    assert reverse("admin:downloads_downloadjob_resume", args=[held.pk]) in paused
    admin_client.post(reverse("admin:downloads_downloadjob_resume", args=[held.pk]))
    assert "mh-paused" not in admin_client.get(HOME).content.decode()
