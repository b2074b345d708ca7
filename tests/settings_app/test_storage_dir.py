"""The storage folder: blank, the root, system folders and the code checkout are refused, by
`configure` (exit status 2) and the Settings page alike; relative folders are taken from the project
folder and shown as the absolute folder they are."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from settings_app.models import Setting
from settings_app.validators import check_storage_dir
from tests.settings_helpers import change_url, form_data, run_configure

pytestmark = pytest.mark.django_db

PROJECT = Path(settings.BASE_DIR).resolve()


@pytest.mark.parametrize("value", ["", "  ", "/", "/etc", "/etc/modelhub", "/usr/local/models", "/var",
                                   "/proc/1", "/dev/shm/models", "/root", "/run", "/home", "/lib", "/boot",
                                   "/sys/x", "/var/../etc", str(PROJECT), str(PROJECT.parent), "."])
def test_configure_refuses_blank_system_and_checkout_folders(configured, storage, value):
    code, output = run_configure("--storage-dir", value)
    assert code == 2, output
    assert any(reason in output for reason in ("is empty", "system folder", "code checkout"))
    assert Setting.load().storage_dir == str(storage)  # unchanged


def test_blank_storage_dir_says_how_to_reset_and_default_resets(configured):
    code, output = run_configure("--storage-dir", "")
    assert code == 2 and "`--storage-dir default`" in output
    code, output = run_configure("--storage-dir", "default", "--json")
    assert code == 0 and Setting.load().storage_dir == ""
    assert json.loads(output)["storage_dir"] == str(Path(settings.MODELHUB_STORAGE_DIR).resolve())


@pytest.mark.parametrize("value", ["/var/lib/modelhub-test-storage", "/run/media/disk/models",
                                   "/home/someone/models"])
def test_folders_below_var_run_and_home_are_fine(value):
    assert check_storage_dir(value) == Path(value)


def test_relative_folder_is_taken_from_the_project_folder_and_printed(configured, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the current folder must not matter
    target = PROJECT / "test-artifacts" / "relative-storage"
    try:
        code, output = run_configure("--storage-dir", "test-artifacts/relative-storage")
        assert code == 0, output
        assert Setting.load().storage_dir == str(target) and target.is_dir()
        assert f"models land in {target}" in output
        assert not (tmp_path / "test-artifacts").exists()
    finally:
        target.rmdir()


# --- the Settings page ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "reason"), [("/", "system folder"), ("/usr/share/models", "system folder"),
                                               (str(PROJECT), "code checkout"), ("..", "code checkout")])
def test_settings_page_refuses_the_same_folders(admin_client, configured, storage, value, reason):
    response = admin_client.post(change_url(), form_data(storage_dir=value))
    assert response.status_code == 200 and reason in response.content.decode()
    assert Setting.load().storage_dir == str(storage)


def test_settings_page_empty_folder_means_the_default(admin_client, configured):
    admin_client.post(change_url(), form_data(storage_dir=""))
    assert Setting.load().storage_dir == ""


def test_settings_page_shows_where_a_relative_folder_went(admin_client, configured):
    target = PROJECT / "test-artifacts" / "relative-storage-form"
    try:
        data = form_data(storage_dir="test-artifacts/relative-storage-form")
        response = admin_client.post(change_url(), data, follow=True)
        assert Setting.load().storage_dir == str(target)
        assert f"models land in {target}" in " ".join(str(m) for m in response.context["messages"])
        assert f'value="{target}"' in response.content.decode()
    finally:
        target.rmdir()


def test_a_folder_saved_before_the_check_is_flagged(admin_client, configured):
    # what `configure --storage-dir ''` used to save
    Setting.objects.filter(pk=1).update(storage_dir=str(PROJECT))
    response = admin_client.get(change_url())
    assert "code checkout" in " ".join(str(m) for m in response.context["messages"])
    code, output = run_configure("--json")
    assert code == 0 and "code checkout" in json.loads(output)["storage_dir_problem"]


def test_relative_default_folder_is_taken_from_the_project_folder_too(db, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings.MODELHUB_STORAGE_DIR = "models/elsewhere"
    assert Setting.load().effective_storage_dir == PROJECT / "models" / "elsewhere"
