"""Removing variants from the admin: the row, its job history and (confirmed, shared blobs kept) its
files; "Delete files…" on the variant page. Real downloads from the test Hub fill the storage folder."""

import os

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from downloads import services
from downloads.models import DownloadJob, JobEvent, ModelVariant
from modelhub.sizes import format_size
from tests.downloads.admin.helpers import VARIANTS, act, messages_of
from tests.storage_helpers import download, model_files, staff_user

pytestmark = pytest.mark.django_db
FOLDER = "models--org--tiny"
REMOVE = reverse("admin:downloads_modelvariant_remove")


@pytest.fixture
def pair(configured, hub, storage):
    """Two installed variants of one repo sharing config.json: weights, and tokenizer."""
    repo = hub.add_repo("org/tiny", model_files())
    weights = download("org/tiny", include=["config.json", "model.safetensors"], kind="files", name="weights")
    tokenizer = download("org/tiny", include=["config.json", "tokenizer.json"], kind="files", name="tok")
    return repo, ModelVariant.objects.get(pk=weights.variant_id), ModelVariant.objects.get(
        pk=tokenizer.variant_id)


def test_superuser_removes_a_variant_with_its_jobs_and_files_and_shared_blobs_stay(admin_client, pair,
                                                                                   storage):
    repo, weights, tokenizer = pair
    page = admin_client.get(f"{REMOVE}?ids={weights.pk}").content.decode()
    freed = format_size(repo.files["model.safetensors"].size)
    assert f'id="mh-bytes-freed">{freed}<' in page
    assert "config.json: also part of variant" in page  # the shared file is named as kept
    assert "permission" not in page

    response = admin_client.post(REMOVE, {"ids": str(weights.pk), "delete_files": "on"}, follow=True)
    text = " ".join(messages_of(response))
    assert "Removed 1 variant(s) and 1 job(s) of history" in text and f"{freed} freed" in text
    assert not ModelVariant.objects.filter(pk=weights.pk).exists()
    assert not DownloadJob.objects.filter(variant_id=weights.pk).exists()
    assert not JobEvent.objects.filter(job__variant_id=weights.pk).exists()
    snap = storage / FOLDER / "snapshots" / repo.sha
    assert not os.path.lexists(snap / "model.safetensors")
    assert not (storage / FOLDER / "blobs" / repo.files["model.safetensors"].sha256).exists()
    assert (snap / "config.json").exists() and (snap / "tokenizer.json").exists()
    assert LogEntry.objects.filter(object_id=str(weights.pk), action_flag=DELETION).exists()


def test_removing_without_deleting_files_keeps_them_on_disk(admin_client, pair, storage):
    repo, weights, _tokenizer = pair
    admin_client.post(REMOVE, {"ids": str(weights.pk)})
    assert not ModelVariant.objects.filter(pk=weights.pk).exists()
    assert (storage / FOLDER / "snapshots" / repo.sha / "model.safetensors").exists()


def test_djangos_delete_link_and_the_list_action_lead_to_the_same_confirmation(admin_client, pair):
    _repo, weights, tokenizer = pair
    page = reverse("admin:downloads_modelvariant_delete", args=[weights.pk])
    assert admin_client.get(page)["Location"] == f"{REMOVE}?ids={weights.pk}"
    response = act(admin_client, "remove_selected", [weights, tokenizer])
    assert response.redirect_chain[0][0] == f"{REMOVE}?ids={weights.pk}%2C{tokenizer.pk}"
    assert "Remove 2 variant(s)" in response.content.decode()
    assert 'value="delete_selected"' not in admin_client.get(VARIANTS).content.decode()


def test_a_variant_with_an_active_job_is_not_removed(admin_client, pair):
    _repo, weights, _tokenizer = pair
    job, _ = services.enqueue(weights, run_here=True)  # queued, nobody runs it
    page = admin_client.get(f"{REMOVE}?ids={weights.pk}").content.decode()
    assert f"Not removed: job {job.pk} is queued; cancel it first" in page
    response = admin_client.post(REMOVE, {"ids": str(weights.pk), "delete_files": "on"}, follow=True)
    assert any("not removed" in m for m in messages_of(response))
    assert ModelVariant.objects.filter(pk=weights.pk).exists()


def test_removing_needs_the_delete_permission_and_deleting_files_its_own(client, pair, storage):
    repo, weights, _tokenizer = pair
    client.force_login(staff_user("viewer", "view_modelvariant", "change_modelvariant"))
    assert client.get(f"{REMOVE}?ids={weights.pk}").status_code == 403
    client.force_login(staff_user("remover", "view_modelvariant", "delete_modelvariant"))
    page = client.get(f"{REMOVE}?ids={weights.pk}").content.decode()
    assert "you may remove variants but not delete files" in page and 'name="delete_files"' not in page
    assert client.post(REMOVE, {"ids": str(weights.pk), "delete_files": "on"}).status_code == 403
    assert ModelVariant.objects.filter(pk=weights.pk).exists()
    client.post(REMOVE, {"ids": str(weights.pk)})
    assert not ModelVariant.objects.filter(pk=weights.pk).exists()
    assert (storage / FOLDER / "snapshots" / repo.sha / "model.safetensors").exists()


def test_delete_files_on_the_variant_page_confirms_then_comes_back(admin_client, pair, storage):
    repo, weights, _tokenizer = pair
    change = reverse("admin:downloads_modelvariant_change", args=[weights.pk])
    page = admin_client.get(change).content.decode()
    link = f"/admin/storage/delete/?ids={weights.pk}&amp;next={change}"
    assert f'href="{link}"' in page and "Delete files…" in page
    confirm = admin_client.get(link.replace("&amp;", "&")).content.decode()
    assert f'name="next" value="{change}"' in confirm
    response = admin_client.post("/admin/storage/delete/", {"ids": str(weights.pk), "next": change})
    assert response["Location"] == change
    weights.refresh_from_db()
    assert weights.status == "not_downloaded"
    assert not os.path.lexists(storage / FOLDER / "snapshots" / repo.sha / "model.safetensors")
