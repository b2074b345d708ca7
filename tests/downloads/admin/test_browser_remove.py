"""Issue 14, item 1 in Chromium at 1280 and 390 px: a superuser removes a variant (row, job history,
files, with the bytes freed shown and shared files kept), and "Delete files…" works from the variant
page. Real downloads from the test Hub fill the storage folder."""

import os

import pytest

from downloads.models import DownloadJob, ModelVariant
from modelhub.sizes import format_size
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.browser
FOLDER = "models--org--tiny"


@pytest.fixture
def pair(configured, hub):
    repo = hub.add_repo("org/tiny", model_files())
    weights = download("org/tiny", include=["config.json", "model.safetensors"], kind="files", name="weights")
    tok = download("org/tiny", include=["config.json", "tokenizer.json"], kind="files", name="tok")
    return repo, ModelVariant.objects.get(pk=weights.variant_id), ModelVariant.objects.get(pk=tok.variant_id)


def test_remove_a_variant_with_its_jobs_and_files(sized_page, live_server, pair, storage, artifacts_dir):
    repo, weights, tok = pair
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    page.check(f"input[name=_selected_action][value='{weights.pk}']")
    page.select_option("select[name=action]", "remove_selected")
    page.click("button[name=index]")

    freed = page.locator("#mh-bytes-freed")
    assert seen_by_user(freed) and freed.inner_text() == format_size(repo.files["model.safetensors"].size)
    assert "config.json: also part of variant org/tiny [tok]" in page.locator(".mh-kept").inner_text()
    assert "permission" not in page.content()
    assert page.is_checked("#id_delete_files")
    button = page.locator("input[type=submit][value='Yes, remove 1 variant']")
    assert seen_by_user(button)
    save_shot(page, artifacts_dir, f"remove-confirm-{page.mh_width}")
    button.click()

    message = page.locator(".messagelist .success")
    assert seen_by_user(message)
    assert "Removed 1 variant(s) and 1 job(s) of history: org/tiny [weights]." in message.inner_text()
    assert page.locator("#result_list .mh-name").all_inner_texts() == ["tok"]
    assert not DownloadJob.objects.filter(variant_id=weights.pk).exists()
    snap = storage / FOLDER / "snapshots" / repo.sha
    assert not os.path.lexists(snap / "model.safetensors") and (snap / "config.json").exists()
    save_shot(page, artifacts_dir, f"remove-done-{page.mh_width}")


def test_delete_files_from_the_variant_page(sized_page, live_server, pair, storage, artifacts_dir):
    repo, weights, tok = pair
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/{tok.pk}/change/")
    link = page.locator(".object-tools a", has_text="Delete files…")
    assert seen_by_user(link)
    link.click()
    assert seen_by_user(page.locator("#bytes-freed"))
    assert page.locator("#bytes-freed").inner_text() == format_size(repo.files["tokenizer.json"].size)
    page.click("input[value='Yes, delete these files']")
    assert page.url.endswith(f"/modelvariant/{tok.pk}/change/")  # back on the variant page
    assert seen_by_user(page.locator(".messagelist .success", has_text="Deleted the files of 1 variant(s)"))
    assert page.locator("[data-mh-field=status]").inner_text() == "not downloaded"
    assert not os.path.lexists(storage / FOLDER / "snapshots" / repo.sha / "tokenizer.json")
    save_shot(page, artifacts_dir, f"remove-delete-files-{page.mh_width}")
