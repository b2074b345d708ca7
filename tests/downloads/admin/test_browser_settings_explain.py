"""Issue 14, "Settings that explain themselves", in Chromium at 1280 and 390 px: the value a blank field
means is written under it, Test connection answers beside the endpoint as typed, and a token the Hub
rejects is refused on saving with what to do."""

import pytest

from settings_app.models import Setting
from tests.downloads.admin.browser import save_shot, seen_by_user

pytestmark = pytest.mark.browser


def test_settings_explain_blank_fields_test_the_connection_and_check_the_token(
        sized_page, live_server, configured, hub, artifacts_dir):
    Setting.objects.filter(pk=1).update(max_concurrent_downloads=None)
    page = sized_page
    page.goto(f"{live_server.url}/admin/settings_app/setting/")
    effective = page.locator("[data-mh-effective=max_concurrent_downloads]")
    assert seen_by_user(effective)
    assert effective.inner_text().startswith("In effect now: 2 (the built-in default; set "
                                             "MODELHUB_MAX_CONCURRENT_DOWNLOADS")

    result = page.locator("#mh-connection-result")
    page.click("#mh-test-connection")  # the saved endpoint, the test Hub
    page.wait_for_function("() => document.getElementById('mh-connection-result').textContent.includes("
                           "'answered like a Hugging Face Hub')")
    assert seen_by_user(result) and result.inner_text().startswith(f"{hub.url} is reachable")
    save_shot(page, artifacts_dir, f"settings-connection-{page.mh_width}", full_page=False)

    page.fill("#id_hub_endpoint", "http://no-such-host.invalid")  # typed, not saved
    page.click("#mh-test-connection")
    page.wait_for_function("() => document.getElementById('mh-connection-result').textContent.includes("
                           "'(DNS)')")
    assert "The name no-such-host.invalid could not be found (DNS)" in result.inner_text()
    assert seen_by_user(result)
    assert Setting.load().hub_endpoint == hub.url

    page.fill("#id_hub_endpoint", hub.url)
    page.fill("#id_hf_token", "hf_NotKnownAnywhere1357")
    page.click("input[name=_continue]")
    error = page.locator(".field-hf_token .errorlist")
    assert seen_by_user(error)
    assert "rejected this token (…1357): it was not saved" in error.inner_text()
    assert "https://huggingface.co/settings/tokens" in error.inner_text()
    assert Setting.load().saved_hf_token() is None
    save_shot(page, artifacts_dir, f"settings-token-refused-{page.mh_width}")
