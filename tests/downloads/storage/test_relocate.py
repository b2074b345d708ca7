"""Issue 14, item 4: changing the storage folder on the Settings page asks what happens to the models
in the current one (move, copy or keep), does it in a worker task, and the old folder stays listed
(with its files deletable) until it is empty. Real downloads from the test Hub fill the folders."""

import os

import pytest

from downloads import tasks
from downloads.models import ModelVariant, PreviousStorage, VariantStatus
from downloads.storage.previous import previous_folders
from settings_app.models import Setting
from tests.settings_helpers import change_url, form_data
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.django_db
FOLDER = "models--org--tiny"


@pytest.fixture
def installed(configured, hub, storage):
    repo = hub.add_repo("org/tiny", model_files())
    job = download("org/tiny", name="tiny")
    return repo, ModelVariant.objects.get(pk=job.variant_id)


def change_folder(client, new, **extra):
    return client.post(change_url(), form_data(storage_dir=str(new), **extra), follow=True)


def test_a_changed_folder_needs_a_decision_about_the_models_in_the_current_one(admin_client, installed,
                                                                               storage, tmp_path):
    response = change_folder(admin_client, tmp_path / "new")
    page = response.content.decode()
    assert response.status_code == 200 and "Choose whether to move, copy or keep them." in page
    assert f"{storage} holds 1 installed model(s): org/tiny [tiny]" in page
    assert Setting.load().storage_dir == str(storage)  # nothing saved
    assert 'value="move"' in page and 'value="copy"' in page and 'value="keep"' in page


def test_keep_leaves_the_models_installed_where_they_are_and_lists_the_old_folder(
        admin_client, installed, storage, tmp_path):
    repo, variant = installed
    new = tmp_path / "new"
    response = change_folder(admin_client, new, old_storage="keep")
    assert any("stay installed there" in str(m) for m in response.context["messages"])
    assert Setting.load().effective_storage_dir == new
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED and variant.local_path.startswith(str(storage))
    page = admin_client.get("/admin/storage/").content.decode()
    assert f"<code>{storage}</code> <strong class=\"mh-previous\">(previous storage folder" in page

    # Its files can still be deleted there (ModelHub's own files); then the old folder is forgotten.
    admin_client.post("/admin/storage/delete/", {"ids": str(variant.pk)})
    assert not (storage / FOLDER / "snapshots" / repo.sha).exists()
    assert previous_folders(new) == [] and not PreviousStorage.objects.exists()


def test_move_puts_the_models_in_the_new_folder_verified_and_empties_the_old_one(
        admin_client, installed, storage, tmp_path, django_capture_on_commit_callbacks):
    repo, variant = installed
    new = tmp_path / "new"
    response = change_folder(admin_client, new, old_storage="move")
    assert any("Moving 1 model(s)" in str(m) for m in response.context["messages"])
    [result] = tasks.relocate_storage(str(storage), str(new), "move")  # what the worker runs
    assert result["outcome"] == "moved", result
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED
    assert variant.local_path == str(new / FOLDER / "snapshots" / repo.sha)
    assert (new / FOLDER / "snapshots" / repo.sha / "model.safetensors").read_bytes() == (
        repo.files["model.safetensors"].data)
    assert not (storage / FOLDER).exists()
    assert variant.jobs.filter(kind="verify", state="succeeded").exists()
    assert previous_folders(new) == []


def test_copy_keeps_the_old_files_and_the_old_folder_stays_listed(admin_client, installed, storage, tmp_path):
    repo, variant = installed
    new = tmp_path / "new"
    change_folder(admin_client, new, old_storage="copy")
    [result] = tasks.relocate_storage(str(storage), str(new), "copy")
    assert result["outcome"] == "copied", result
    variant.refresh_from_db()
    assert variant.local_path.startswith(str(new))
    assert (storage / FOLDER / "snapshots" / repo.sha / "model.safetensors").exists()
    assert previous_folders(new) == [storage]


def test_a_copy_that_fails_verification_leaves_the_variant_installed_in_the_old_folder(
        admin_client, installed, storage, tmp_path):
    repo, variant = installed
    new = tmp_path / "new"
    change_folder(admin_client, new, old_storage="move")
    # A blob already in the new folder is reused as it is: a wrong one must not be trusted.
    blob = new / FOLDER / "blobs" / repo.files["model.safetensors"].sha256
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"not the weights")
    [result] = tasks.relocate_storage(str(storage), str(new), "move")
    assert result["outcome"] == "failed" and "verification in the new folder failed" in result["message"]
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED and variant.local_path.startswith(str(storage))
    assert os.path.exists(storage / FOLDER / "snapshots" / repo.sha / "model.safetensors")


@pytest.mark.parametrize("folder", ["/", "/etc/models", "/usr"])
def test_system_folders_are_refused_and_nothing_changes(admin_client, installed, storage, folder):
    page = change_folder(admin_client, folder, old_storage="keep").content.decode()
    assert "is a system folder" in page
    assert Setting.load().storage_dir == str(storage) and not PreviousStorage.objects.exists()


def test_the_preview_shows_where_a_relative_folder_lands(admin_client, configured):
    from settings_app.validators import project_dir

    url = "/admin/settings_app/setting/storage-preview/"
    answer = admin_client.get(url, {"path": "models/other"}).json()
    assert answer == {"ok": True, "absolute": str(project_dir() / "models" / "other"),
                      "exists": (project_dir() / "models" / "other").is_dir(), "default": False}
    refused = admin_client.get(url, {"path": "/"}).json()
    assert refused["ok"] is False and "system folder" in refused["problem"]
