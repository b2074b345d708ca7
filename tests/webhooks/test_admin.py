"""Deliveries in the admin (read-only list and detail, Send again, Send test event) and the webhook part
of the Settings page: validated URLs, a write-only secret that never shows in HTML or logs."""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from settings_app.models import Setting
from tests.settings_helpers import change_url, form_data
from tests.storage_helpers import download, model_files
from tests.webhooks.conftest import SECRET, point_webhooks_at
from webhooks import config
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)
LIST = reverse("admin:webhooks_delivery_changelist")


def test_secret_is_write_only_and_never_in_html_or_logs(admin_client, configured, hub, receiver, sync_queue,
                                                         caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post(change_url(), form_data(webhook_urls=f"  {receiver.url}  \n\n",
                                                         webhook_secret=SECRET), follow=True)
    assert response.status_code == 200
    setting = Setting.load()
    assert setting.webhook_urls == receiver.url and config.secret(setting) == SECRET
    assert SECRET not in setting.webhook_secret_encrypted
    page = admin_client.get(change_url()).content.decode()
    assert "set, ending …XY12" in page and 'type="password" name="webhook_secret"' in page
    assert SECRET not in page and SECRET[:-4] not in page
    assert '<a href="/admin/webhooks/delivery/">Webhook deliveries</a>' in page

    admin_client.post(change_url(), form_data(webhook_urls=receiver.url))  # blank secret: kept
    assert config.secret(Setting.load()) == SECRET

    hub.add_repo("org/logged", model_files())
    download("org/logged")
    assert len(receiver.requests) == 4
    row = Delivery.objects.get(event="job.finished")
    for url in (LIST, reverse("admin:webhooks_delivery_change", args=[row.pk])):
        page = admin_client.get(url).content.decode()
        assert "org/logged" in page and SECRET not in page
    assert SECRET not in caplog.text and "webhook" in caplog.text.lower()
    assert SECRET not in " ".join(LogEntry.objects.values_list("change_message", flat=True))


def test_the_secret_is_not_echoed_when_the_form_has_errors(admin_client, configured):
    page = admin_client.post(change_url(), form_data(webhook_urls="ftp://x/hook",
                                                     webhook_secret=SECRET)).content.decode()
    assert "only http:// and https:// URLs" in page and SECRET not in page


@pytest.mark.parametrize("urls, error", [
    ("ftp://example.com/hook", "Line 1: only http:// and https:// URLs"),
    ("https://ok.example/hook\nhttps://bob:hunter2pass@example.com/hook", "Line 2: no user name or password"),
    ("https://exa mple.com/hook", "is not a valid URL"),
])
def test_bad_urls_are_refused_with_the_line_and_never_echo_a_password(admin_client, configured, urls, error):
    data = form_data(webhook_urls=urls, webhook_secret=SECRET)
    page = admin_client.post(change_url(), data).content.decode()
    assert error in page and "hunter2pass" not in page.replace(urls, "")
    assert Setting.load().webhook_urls == ""


def test_urls_need_a_secret_and_the_secret_can_be_cleared(admin_client, configured):
    page = admin_client.post(change_url(), form_data(webhook_urls="https://example.com/hook")).content.decode()
    assert "Webhook URLs need a secret" in page and Setting.load().webhook_urls == ""
    page = admin_client.post(change_url(), form_data(webhook_secret="short")).content.decode()
    assert "Use at least 16 characters" in page
    point_webhooks_at("https://example.com/hook")
    admin_client.post(change_url(), form_data(clear_webhook_secret="on"))  # and no URLs: allowed
    assert config.describe_secret(Setting.load()) == "not set"


def test_send_test_event_and_send_again(admin_client, configured, receiver, sync_queue):
    point_webhooks_at(receiver.url)
    page = admin_client.get(LIST).content.decode()
    assert "Send test event" in page
    response = admin_client.post(reverse("admin:webhooks_delivery_send_test"), follow=True)
    assert "Test event queued for 1 URL(s)" in response.content.decode()
    first = Delivery.objects.get()
    assert (first.event, first.state) == ("test", "succeeded")
    assert receiver.requests[0]["headers"]["X-ModelHub-Event"] == "test"

    response = admin_client.post(LIST, {"action": "send_again", "_selected_action": [first.pk]}, follow=True)
    assert "Sending 1 delivery again" in response.content.decode()
    again = Delivery.objects.exclude(pk=first.pk).get()
    assert again.resent_from == first and again.body == first.body and again.state == "succeeded"
    assert again.delivery_id != first.delivery_id and len(receiver.requests) == 2

    page = admin_client.get(LIST + "?state__exact=succeeded&event__exact=test").content.decode()
    assert "2 webhook deliveries" in page


def test_deliveries_are_read_only_and_sending_needs_the_permission(client, configured, receiver):
    point_webhooks_at(receiver.url)
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_delivery"))
    client.force_login(viewer)
    assert client.get(LIST).status_code == 200
    assert "Send test event" not in client.get(LIST).content.decode()
    assert client.post(reverse("admin:webhooks_delivery_send_test")).status_code == 403
    assert client.get(reverse("admin:webhooks_delivery_add")).status_code == 403
    assert Delivery.objects.count() == 0
