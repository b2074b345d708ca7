"""Issue 14, item 2: the lists keep Status and Progress on screen at 1280 px (beside the sidebar and the
filters) and at 390 px (one card per row), and a long name is cut with the full name on hover."""

import pytest

from downloads import services
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.browser

LONG_NAME = ("an-extremely-long-variant-name-someone-typed-on-the-command-line-Q4_K_M-imatrix-"
             "build-2024-11")


@pytest.fixture
def three_variants(configured, hub):
    """Installed (a real download), queued (its job waits for a worker) and one with a long name."""
    hub.add_repo("org/tiny", model_files())
    download("org/tiny", name="tiny")
    queued, _ = services.get_or_create_variant(repo_id="org/queued-model", name="Q8_0")
    services.enqueue(queued, origin="command", run_here=True)  # nobody runs it: it stays queued
    long, _ = services.get_or_create_variant(repo_id="some-organisation-with-a-long-name/" + "x" * 60,
                                             name=LONG_NAME, revision="v1.0")
    return queued, long


def test_variant_list_keeps_status_and_progress_on_screen(sized_page, live_server, three_variants,
                                                          artifacts_dir):
    queued, long = three_variants
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    save_shot(page, artifacts_dir, f"lists-variants-{page.mh_width}")
    for status in page.locator("#result_list [data-mh-field=status]").all():
        assert seen_by_user(status), f"a status badge is off screen: {status.inner_text()}"
    bar = page.locator(f"[data-mh-variant-progress='{queued.pk}'] .mh-bar")
    assert seen_by_user(bar) and page.locator(f"[data-mh-variant-progress='{queued.pk}'] .mh-pct"
                                              ).inner_text() == "0.0%"
    name = page.locator(f".mh-name[title='{LONG_NAME}']")
    assert name.inner_text() == LONG_NAME  # the whole text is there, cut by the stylesheet only
    assert name.evaluate("el => el.scrollWidth > el.clientWidth"), "the long name is not truncated"
    assert seen_by_user(name)
    assert page.locator("#result_list [data-mh-field=status]").all_inner_texts() == [
        "queued", "installed", "not downloaded"]


def test_job_list_keeps_state_and_progress_on_screen(sized_page, live_server, three_variants, artifacts_dir):
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/")
    save_shot(page, artifacts_dir, f"lists-jobs-{page.mh_width}")
    states = page.locator("#result_list [data-mh-field=state]")
    assert states.all_inner_texts() == ["queued", "succeeded"]
    for state in states.all():
        assert seen_by_user(state)
    for bar in page.locator("#result_list .mh-bar").all():
        assert seen_by_user(bar)
