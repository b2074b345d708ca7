"""Issue 14, small things on the Storage page, in Chromium at 1280 and 390 px: Clean up lists what frees
space and folds the empty lock files behind a toggle (still removed), and Import says when a typed
folder does not exist or is not a Hugging Face cache."""

import pytest

from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.storage_helpers import download, model_files, write_partial

pytestmark = pytest.mark.browser
FOLDER = "models--org--tiny"


@pytest.fixture
def leftovers(configured, hub, storage):
    """An installed model, a stale partial and three empty lock files nothing holds."""
    hub.add_repo("org/tiny", model_files())
    download("org/tiny", name="tiny")
    partial = write_partial(storage, FOLDER, 700, hours=30)
    locks = [storage / ".locks" / FOLDER / f"{c * 64}.lock" for c in "123"]
    for lock in locks:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("")
    return partial, locks


def test_clean_up_folds_empty_lock_files_behind_a_toggle(sized_page, live_server, leftovers, artifacts_dir):
    partial, _ = leftovers
    locks = sorted((partial.parents[2] / ".locks" / FOLDER).glob("*.lock"))  # ours and the download's
    assert len(locks) >= 3
    page = sized_page
    page.goto(f"{live_server.url}/admin/storage/")
    page.click("#storage-cleanup input[type=submit]")
    page.wait_for_selector("text=Nothing has been deleted yet")
    row = page.locator("tr", has_text=partial.name)
    assert seen_by_user(row.locator("code"))
    toggle = page.locator("#mh-locks summary")
    assert seen_by_user(toggle)
    assert f"{len(locks)} empty lock files (0 bytes" in toggle.inner_text()
    for lock in locks:
        assert page.locator("code", has_text=lock.name).is_hidden()
    save_shot(page, artifacts_dir, f"cleanup-locks-folded-{page.mh_width}")
    toggle.click()
    for lock in locks:
        assert seen_by_user(page.locator("code", has_text=lock.name))

    page.click("input[name=confirm]")
    page.wait_for_selector("#bytes-freed")
    assert page.locator("#content-main p").first.inner_text().startswith(f"Removed {len(locks) + 1} items")
    assert not partial.exists() and not any(lock.exists() for lock in locks)


def test_import_says_when_a_typed_folder_is_missing_or_not_a_cache(sized_page, live_server, configured, hub,
                                                                   tmp_path, artifacts_dir):
    not_a_cache = tmp_path / "my-models"
    (not_a_cache / "hub" / "models--org--x").mkdir(parents=True)  # the cache is one level down
    missing = tmp_path / "nowhere"
    page = sized_page
    page.goto(f"{live_server.url}/admin/storage/")
    page.fill("textarea[name=paths]", f"{missing}\n{not_a_cache}")
    page.click("#storage-import input[value=Scan]")
    page.wait_for_selector(".mh-typed-folder")
    notes = page.locator(".mh-typed-folder")
    assert notes.all_inner_texts() == [
        f"{missing} does not exist on this server.",
        f"{not_a_cache} is not a Hugging Face cache: it has no models--* or datasets--* folders. "
        f"Did you mean {not_a_cache / 'hub'}? It is one.",
    ]
    for index in range(2):
        assert seen_by_user(notes.nth(index))
    save_shot(page, artifacts_dir, f"import-typed-folders-{page.mh_width}")
    assert str(missing) not in page.locator("#storage-locations").inner_text()  # not listed as a location
