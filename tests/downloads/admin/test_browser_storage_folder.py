"""Issue 14, item 4 in Chromium at 1280 and 390 px: the Settings page shows where a typed storage folder
lands (or why it is refused), asks what happens to the models in the current folder before saving,
and a real worker moves them; the old folder stays on the Storage page until it is empty."""

import pytest

from downloads.models import ModelVariant, VariantStatus
from settings_app.validators import project_dir
from tests import workers
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.browser
FOLDER = "models--org--tiny"


@pytest.fixture
def installed(configured, hub):
    repo = hub.add_repo("org/tiny", model_files())
    return repo, ModelVariant.objects.get(pk=download("org/tiny", name="tiny").variant_id)


def type_folder(page, value: str) -> None:
    page.fill("#id_storage_dir", value)
    page.wait_for_function("(v) => document.getElementById('mh-storage-preview').dataset.for === v",
                           arg=value)


def test_changing_the_storage_folder_moves_the_models_after_asking(sized_page, live_server, installed,
                                                                   storage, tmp_path, worker, artifacts_dir):
    repo, variant = installed
    page = sized_page
    page.goto(f"{live_server.url}/admin/settings_app/setting/")
    question = page.locator(".form-row.field-old_storage")
    assert question.is_hidden()  # nothing to decide while the folder is unchanged

    preview = page.locator("#mh-storage-preview")
    type_folder(page, "models/elsewhere")
    assert preview.inner_text() == f"Models will land in {project_dir() / 'models' / 'elsewhere'}" + (
        "" if (project_dir() / "models" / "elsewhere").is_dir() else " (a new folder, created when you save)")
    assert seen_by_user(preview)
    type_folder(page, "/")
    assert "is a system folder" in preview.inner_text() and seen_by_user(preview)

    new = tmp_path / "new-storage"
    type_folder(page, str(new))
    assert seen_by_user(question)
    assert f"{storage} holds 1 installed model(s): org/tiny [tiny]" in question.inner_text()
    save_shot(page, artifacts_dir, f"storage-folder-question-{page.mh_width}")
    page.check("input[name=old_storage][value=move]")
    page.click("input[name=_continue]")
    message = page.locator(".messagelist .success", has_text="Moving 1 model(s)")
    assert seen_by_user(message)

    workers.wait_for(lambda: ModelVariant.objects.get(pk=variant.pk).local_path.startswith(str(new))
                     and not (storage / FOLDER / "snapshots").exists(), timeout=60, message="the move")
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED
    page.goto(f"{live_server.url}/admin/storage/")
    locations = page.locator("#storage-locations").inner_text()
    assert str(new) in locations and str(storage) not in locations  # emptied, so no longer listed
    save_shot(page, artifacts_dir, f"storage-folder-moved-{page.mh_width}")


def test_keep_leaves_the_old_folder_listed_on_the_storage_page(sized_page, live_server, installed, storage,
                                                               tmp_path, artifacts_dir):
    page = sized_page
    page.goto(f"{live_server.url}/admin/settings_app/setting/")
    type_folder(page, str(tmp_path / "fresh"))
    page.check("input[name=old_storage][value=keep]")
    page.click("input[name=_continue]")
    assert seen_by_user(page.locator(".messagelist .info", has_text="stay installed there"))
    page.goto(f"{live_server.url}/admin/storage/")
    old = page.locator("#storage-locations tr", has_text=str(storage))
    assert "(previous storage folder: listed until it is empty)" in old.inner_text()
    assert seen_by_user(old.locator(".mh-previous"))
    save_shot(page, artifacts_dir, f"storage-folder-kept-{page.mh_width}")
