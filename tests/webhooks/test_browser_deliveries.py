"""Webhook deliveries and the Webhooks settings in Chromium at 1280 and 390 px: what was sent, its outcome
and each attempt's answer are on screen; Send test event works; the secret shows only its end."""

import pytest

from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.webhooks.conftest import point_webhooks_at
from tests.webhooks.receiver import Receiver
from webhooks import payloads, sending, services
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_deliveries_show_outcome_and_attempts(sized_page, live_server, configured, artifacts_dir, sync_queue):
    broken = Receiver(codes=[500]).start()
    working = Receiver().start()
    try:
        point_webhooks_at(broken.url)
        refused = services.queue(WebhookEvent.TEST, payloads.test_event())[0]  # sent at once: 500
        point_webhooks_at(working.url)
        page = sized_page
        page.goto(f"{live_server.url}/admin/webhooks/delivery/")
        button = page.locator("button", has_text="Send test event")
        assert seen_by_user(button)
        button.click()
        assert seen_by_user(page.locator(".messagelist", has_text="Test event queued for 1 URL(s)"))
        assert len(working.requests) == 1
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 2
        assert seen_by_user(rows.nth(0).locator("td", has_text="succeeded").first)
        assert seen_by_user(rows.nth(1).locator("td", has_text="retrying").first)
        save_shot(page, artifacts_dir, f"webhook-deliveries-{page.mh_width}")

        page.goto(f"{live_server.url}/admin/webhooks/delivery/{refused.pk}/change/")
        attempt = page.locator(".inline-group td", has_text="HTTP 500").first
        assert seen_by_user(attempt)
        assert "receiver says no" in page.locator(".inline-group").inner_text()
        assert seen_by_user(page.locator("pre", has_text='"event": "test"'))
        save_shot(page, artifacts_dir, f"webhook-delivery-{page.mh_width}")

        page.goto(f"{live_server.url}/admin/settings_app/setting/1/change/")
        secret = page.locator(".readonly", has_text="set, ending …XY12")
        assert seen_by_user(secret)
        assert seen_by_user(page.locator("textarea[name=webhook_urls]"))
        save_shot(page, artifacts_dir, f"webhook-settings-{page.mh_width}", full_page=False)
        assert sending.backoff(1) > 0
    finally:
        broken.stop()
        working.stop()
