"""The Settings page: one row, a write-only token, human sizes, validation, the Test token button."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from settings_app.forms import exact_size
from settings_app.models import Setting
from tests.settings_helpers import change_url

pytestmark = pytest.mark.django_db

TOKEN = "hf_SecretAdminToken9876"
TEST_TOKEN = reverse("admin:settings_app_setting_test_token")


def form_data(setting: Setting, **overrides) -> dict:
    data = {
        "hub_endpoint": setting.hub_endpoint, "storage_dir": setting.storage_dir,
        "max_concurrent_downloads": setting.max_concurrent_downloads or "", "max_parallel_files": 4,
        "segments_per_file": 1, "segment_min_size": "256MB", "min_free_space": "0", "bandwidth_limit": "",
        "reverify_interval_hours": 24, "completeness_rules": "{}", "hf_token": "", "_save": "Save",
    }
    data.update(overrides)
    return data


def test_settings_list_redirects_to_the_single_row_and_there_is_no_add_or_delete(admin_client):
    response = admin_client.get(reverse("admin:settings_app_setting_changelist"))
    assert response.status_code == 302 and response.url == change_url()
    assert admin_client.get(reverse("admin:settings_app_setting_add")).status_code == 403
    assert admin_client.get(reverse("admin:settings_app_setting_delete", args=[1])).status_code == 403
    page = admin_client.get(change_url()).content.decode()
    for heading in ("Hub", "HF token", "Storage", "Downloads", "Verification"):
        assert f">{heading}</h2>" in page


def test_token_is_write_only_blank_keeps_it_and_clear_removes_it(admin_client, configured, hub):
    hub.add_token(TOKEN, user="alice", role="read")  # a new token is checked with whoami before it is saved
    response = admin_client.post(change_url(), form_data(configured, hf_token=TOKEN), follow=True)
    assert response.status_code == 200
    setting = Setting.load()
    assert setting.saved_hf_token() == TOKEN
    page = admin_client.get(change_url()).content.decode()
    assert TOKEN not in page and TOKEN[4:] not in page
    assert "Token ending in …9876 (saved in Settings)" in page
    assert 'type="password" name="hf_token"' in page and "Leave blank to keep the current token" in page

    admin_client.post(change_url(), form_data(configured))  # blank: kept
    assert Setting.load().saved_hf_token() == TOKEN
    admin_client.post(change_url(), form_data(configured, clear_token="on"))
    assert Setting.load().saved_hf_token() is None
    assert "No token: public repos only." in admin_client.get(change_url()).content.decode()
    messages = " ".join(LogEntry.objects.values_list("change_message", flat=True))
    assert TOKEN not in messages


def test_token_is_not_echoed_when_the_form_has_errors(admin_client, configured):
    response = admin_client.post(change_url(), form_data(configured, hf_token=TOKEN, hub_endpoint="ftp://x"))
    page = response.content.decode()
    assert response.status_code == 200 and "is not an http(s) URL" in page
    assert TOKEN not in page
    assert Setting.load().saved_hf_token() is None


def test_new_token_and_clear_together_are_refused(admin_client, configured):
    response = admin_client.post(change_url(), form_data(configured, hf_token=TOKEN, clear_token="on"))
    assert "Either enter a new token or tick" in response.content.decode()


def test_sizes_are_entered_and_shown_in_human_units(admin_client, configured):
    admin_client.post(change_url(), form_data(configured, min_free_space="10GB", bandwidth_limit="50MB"))
    setting = Setting.load()
    assert (setting.min_free_space, setting.bandwidth_limit) == (10_000_000_000, 50_000_000)
    page = admin_client.get(change_url()).content.decode()
    assert 'value="10GB"' in page and 'value="50MB"' in page
    response = admin_client.post(change_url(), form_data(configured, min_free_space="lots"))
    assert "is not a size" in response.content.decode()


def test_exact_size_never_rounds_a_saved_value():
    assert exact_size(10_500_000_000) == "10500MB"
    assert exact_size(2 * 1024**3) == "2GiB"
    assert exact_size(1_234_567) == "1234567"
    assert exact_size(0) == "0"


def test_storage_dir_must_be_writable(admin_client, configured, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    response = admin_client.post(change_url(), form_data(configured, storage_dir=str(blocker / "sub")))
    assert "is not writable" in response.content.decode()


def test_test_token_button_reports_user_and_role(admin_client, configured, hub):
    hub.add_token(TOKEN, user="alice", role="write")
    configured.set_hf_token(TOKEN)
    configured.save()
    response = admin_client.post(TEST_TOKEN, follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert "user alice, role write" in message and TOKEN not in response.content.decode()
    assert LogEntry.objects.filter(change_message="Tested the HF token: ok, user alice").exists()


def test_test_token_button_explains_a_rejected_token(admin_client, configured, hub):
    configured.set_hf_token("hf_unknown_token_0000")
    configured.save()
    response = admin_client.post(TEST_TOKEN, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "error" and "token_invalid" in str(message)
    assert admin_client.get(TEST_TOKEN).status_code == 405


def test_test_token_without_any_token_says_so(admin_client, configured):
    response = admin_client.post(TEST_TOKEN, follow=True)
    assert "No token is configured" in " ".join(str(m) for m in response.context["messages"])


def test_settings_page_refuses_malformed_completeness_rules(admin_client):
    from settings_app.models import Setting

    url = reverse("admin:settings_app_setting_change", args=[Setting.load().pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()
            if k not in ("hf_token", "clear_token")}
    data.update(completeness_rules='{"voice": "*.onnx"}', segment_min_size="256MB", min_free_space="",
                bandwidth_limit="", max_parallel_files=4, segments_per_file=1, reverify_interval_hours=24)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "must be a non-empty list" in response.content.decode()
    assert Setting.load().completeness_rules == {}
