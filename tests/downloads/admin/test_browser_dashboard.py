"""The home page in Chromium at 1280 and 390 px: a download started on the command line shows up on
the dashboard with a live bar, a failure shows its guidance and a Retry button, disk space is there."""

import pytest

from downloads import services
from tests import workers
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.downloads.admin.helpers import run_queued
from tests.modelfiles import GGML_F32, make_gguf

pytestmark = pytest.mark.browser


def test_the_dashboard_follows_downloads_and_shows_what_needs_action(sized_page, live_server, configured, hub,
                                                                     artifacts_dir, tmp_path):
    hub.add_repo("org/big", {"big-Q4_K_M.gguf": make_gguf([("w", [1024, 2048], GGML_F32)])})
    missing, _ = services.get_or_create_variant(repo_id="org/missing", name="Q8_0")
    services.enqueue_downloads([missing])
    run_queued()
    page = sized_page
    page.goto(f"{live_server.url}/admin/")
    failure = page.locator("#mh-attention .mh-failure")
    assert seen_by_user(failure.locator("code", has_text="repo_not_found"))
    assert "What to do:" in failure.inner_text() and seen_by_user(failure.locator("button", has_text="Retry"))
    assert seen_by_user(page.locator("#mh-disk .mh-meter"))

    hub.throttle(1_000_000)
    proc = workers.manage("download", "org/big", "--wait", log_path=tmp_path / "download.log")
    try:
        bar = page.locator("#mh-active .mh-bar")
        bar.wait_for(timeout=10_000)  # the page reloads itself when a download starts anywhere
        assert seen_by_user(bar)
        page.wait_for_function("/^\\(\\d+%/.test(document.title)", timeout=6_000)
        save_shot(page, artifacts_dir, f"dashboard-{page.mh_width}")
    finally:
        workers.stop(proc)
