"""The admin in a real browser: Playwright drives Debian's Chromium against the live server, while a real
django-q2 worker (`manage.py qcluster`, a subprocess on the same SQLite file) runs the downloads
(fixtures in tests.downloads.admin.browser)."""

import re
import time

import pytest

from downloads import services
from downloads.models import DownloadJob, JobState
from tests.downloads.admin.browser import save_shot, watch_percent
from tests.modelfiles import GGML_F32, make_gguf

pytestmark = pytest.mark.browser


def big_gguf(name: str) -> bytes:
    """About 8 MB, so a throttled Hub shows the bar moving for a few seconds."""
    return make_gguf([("blk.0.weight", [1024, 2048], GGML_F32)], metadata={"general.name": name})


def shot(page, artifacts_dir, name: str) -> None:
    save_shot(page, artifacts_dir, name)


def test_add_from_hub_pick_one_quant_download_it_and_watch_it_verify(page, live_server, hub, worker,
                                                                      artifacts_dir):
    hub.add_repo("org/llm-gguf", {"llm-Q4_K_M.gguf": big_gguf("q4"), "llm-Q8_0.gguf": big_gguf("q8"),
                                  "README.md": b"# two quants"})
    hub.throttle(2_000_000)
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    page.click("text=Add from Hub")
    page.fill("#id_repo_id", "org/llm-gguf")
    page.click("input[value='Look up']")
    page.wait_for_selector("#mh-choices")
    shot(page, artifacts_dir, "1-add-from-hub")
    page.check("input[value='gguf:llm-Q4_K_M']")
    assert page.is_checked("#id_download_now")
    page.click("input[value='Download selected']")

    page.wait_for_selector("text=Created 1 variant(s)")
    percent = page.locator("[data-mh-variant-progress] [data-mh-field=pct]")
    seen = watch_percent(percent, on_first_move=lambda: shot(page, artifacts_dir, "2-variants-downloading"))
    assert any(0 < value < 100 for value in seen), f"no intermediate progress in {seen}"
    assert seen == sorted(seen)  # the bar only moves forward
    page.wait_for_selector("[data-mh-field=status][data-mh-status=installed]", timeout=15_000)
    shot(page, artifacts_dir, "3-variants-installed")
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/progress/" in request.url else None)
    page.wait_for_timeout(6000)
    # Idle, the page only looks for downloads started elsewhere: every 5 s instead of every 1.5 s.
    assert len(polls) <= 2, f"the page kept polling at full pace after everything finished: {polls}"

    page.click("[data-mh-variant-progress] a.mh-bar")
    page.wait_for_selector("#mh-verification")
    table = page.locator("table.mh-verification").inner_text()
    assert "llm-Q4_K_M.gguf" in table and "OK" in table and "gguf ok" in table
    assert page.locator("[data-mh-field=state]").inner_text() == "succeeded"
    assert "Completeness" in page.locator("#mh-verification").inner_text()
    shot(page, artifacts_dir, "4-job-verified")
    assert hub.bytes_sent("llm-Q8_0.gguf") == 0


def test_gated_repo_shows_how_to_get_access(page, live_server, hub, configured, artifacts_dir):
    hub.add_repo("org/gated-llm", {"llm-Q4_K_M.gguf": make_gguf()}, gated="manual")
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/add-from-hub/")
    page.fill("#id_repo_id", "org/gated-llm")
    page.click("input[value='Look up']")
    box = page.locator("#mh-access")
    box.wait_for()
    text = box.inner_text()
    assert "gated_no_token" in text
    assert re.search(rf"accept the license at {re.escape(hub.url)}/org/gated-llm", text, re.IGNORECASE)
    assert box.locator(f"a[href='{hub.url}/org/gated-llm']").count() == 1
    shot(page, artifacts_dir, "5-gated-guidance")


def test_cancel_button_stops_a_slow_download(page, live_server, hub, worker, artifacts_dir):
    hub.add_repo("org/slow", {"slow-Q4_K_M.gguf": big_gguf("slow")})
    hub.throttle(300_000)  # ~28 s for the whole file: plenty of time to cancel
    variant, _ = services.get_or_create_variant(repo_id="org/slow", name="slow")
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    page.check(f"input[name=_selected_action][value='{variant.pk}']")
    page.select_option("select[name=action]", "download_selected")
    page.click("button[name=index]")
    page.wait_for_selector("text=queued 1 new job(s)")
    job = DownloadJob.objects.get(variant=variant)

    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{job.pk}/change/")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=running]", timeout=20_000)
    page.wait_for_function("parseFloat(document.querySelector('[data-mh-field=pct]').textContent) > 0")
    shot(page, artifacts_dir, "6-job-running")
    page.evaluate("window.mhMarker = 'same page'")
    started = time.monotonic()
    page.click("text=Cancel job")
    page.wait_for_selector(".mh-action-message:has-text('cancel requested')")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=cancelled]", timeout=10_000)
    assert time.monotonic() - started < 10
    assert page.evaluate("window.mhMarker") == "same page"  # updated in place, no reload
    assert page.locator("form.mh-job-action[data-mh-show-when=finished]").is_visible()
    assert not page.locator("form.mh-job-action[data-mh-show-when=active]").is_visible()
    page.reload()
    assert "Download or Retry resumes" in page.locator("#mh-guidance").inner_text()
    shot(page, artifacts_dir, "7-job-cancelled")
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.bytes_done < job.bytes_total
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/")
    assert page.locator(f"[data-mh-job='{job.pk}'][data-mh-field=state]").inner_text() == "cancelled"
    shot(page, artifacts_dir, "8-job-list")


def test_settings_token_is_write_only_and_test_token_reports_the_user(page, live_server, hub, configured,
                                                                      artifacts_dir):
    token = "hf_BrowserToken4321"
    hub.add_token(token, user="carol", role="read")
    page.goto(f"{live_server.url}/admin/settings_app/setting/")  # the list redirects to the one row
    page.wait_for_selector("#setting_form")
    page.fill("#id_hf_token", token)
    page.click("input[name=_continue]")
    page.wait_for_selector("text=Token ending in …4321 (saved in Settings)")
    assert token not in page.content()
    assert page.input_value("#id_hf_token") == ""
    page.click("text=Test token")
    page.wait_for_selector("text=user carol, role read")
    shot(page, artifacts_dir, "9-settings")
