"""Issue 14, "Settings that explain themselves": the value a blank field means and where it comes from,
Test connection in plain words, a new token checked with whoami before it is saved (a mirror without
whoami is a warning, not a refusal), bounds with human messages, completeness rules with an example."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from settings_app.models import Setting
from tests.settings_helpers import change_url, form_data, run_configure

pytestmark = pytest.mark.django_db

TOKEN = "hf_ExplainedToken2468"
TEST_CONNECTION = reverse("admin:settings_app_setting_test_connection")
TEST_TOKEN = reverse("admin:settings_app_setting_test_token")


class _NoWhoami(BaseHTTPRequestHandler):
    """A mirror that serves files but has no /api/whoami-v2 (404), as some mirrors don't."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.seen.append(self.headers.get("Authorization") or "")
        self.send_response(404)
        self.send_header("Content-Length", "9")
        self.end_headers()
        self.wfile.write(b"not found")

    def log_message(self, *args):
        pass


class _WebPage(BaseHTTPRequestHandler):
    """Any web server that answers every path with a page (a wrong address, or a proxy's login)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"<!doctype html><title>Welcome</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def mirror_without_whoami():
    server = _serve(_NoWhoami)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def web_page():
    server = _serve(_WebPage)
    yield server
    server.shutdown()
    server.server_close()


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- the value in effect ---------------------------------------------------------------------------
def test_blank_fields_say_the_value_in_effect_and_where_it_comes_from(admin_client, configured, settings,
                                                                     monkeypatch):
    monkeypatch.setenv("MODELHUB_MIN_FREE_SPACE", "5GB")
    settings.MODELHUB_MIN_FREE_SPACE = 5_000_000_000
    Setting.objects.filter(pk=1).update(min_free_space=None, max_concurrent_downloads=None)
    page = admin_client.get(change_url()).content.decode()
    assert ("In effect now: <strong>5.0 GB</strong> (from the environment variable MODELHUB_MIN_FREE_SPACE"
            in page)
    assert ("In effect now: <strong>2</strong> (the built-in default; set MODELHUB_MAX_CONCURRENT_DOWNLOADS"
            in page)
    assert "In effect now: <strong>unlimited</strong> (the built-in default)" in page  # bandwidth
    # a saved value says what emptying it would mean
    assert f"Empty would mean {settings.MODELHUB_HUB_ENDPOINT}" in page
    assert "In effect for kinds not listed here: the built-in rules" in page
    assert "<code>voice</code>: [" in page


# --- Test connection -------------------------------------------------------------------------------
def test_connection_to_the_hub_is_reachable_and_sends_no_token(admin_client, configured, hub):
    hub.add_token(TOKEN, user="alice")
    configured.set_hf_token(TOKEN)
    configured.save()
    result = admin_client.post(TEST_CONNECTION, {"hub_endpoint": hub.url},
                               HTTP_ACCEPT="application/json").json()
    assert result["ok"] and result["kind"] == "reachable"
    assert "is reachable: it answered like a Hugging Face Hub" in result["message"]
    assert [r.authorization for r in hub.requests if r.authorization] == []


def test_connection_failures_are_told_apart_in_plain_words(admin_client, configured, hub):
    def test(endpoint):
        return admin_client.post(TEST_CONNECTION, {"hub_endpoint": endpoint},
                                 HTTP_ACCEPT="application/json").json()

    dns = test("http://no-such-host.invalid")
    assert (dns["ok"], dns["kind"]) == (False, "dns")
    assert "The name no-such-host.invalid could not be found (DNS)" in dns["message"]

    tls = test(hub.url.replace("http://", "https://"))
    assert tls["kind"] == "tls" and "the secure connection (TLS) failed" in tls["message"]

    hub.down = True
    http_error = test(hub.url)
    assert http_error["kind"] == "http_error" and "HTTP 503 (a server error)" in http_error["message"]
    hub.down = False

    port = hub.url.rsplit(":", 1)[1]
    hub.stop()
    refused = test(f"http://127.0.0.1:{port}")
    assert refused["kind"] == "refused" and "refused the connection" in refused["message"]

    bad = test("ftp://example.org")
    assert bad["kind"] == "invalid" and "is not an http(s) URL" in bad["message"]


def test_connection_to_a_mirror_without_whoami_is_reachable(admin_client, configured, mirror_without_whoami):
    result = admin_client.post(TEST_CONNECTION, {"hub_endpoint": url_of(mirror_without_whoami)},
                               HTTP_ACCEPT="application/json").json()
    assert result["ok"] and "It has no whoami (HTTP 404), as some mirrors don't" in result["message"]


def test_connection_to_a_web_page_is_not_taken_for_a_hub(admin_client, configured, web_page):
    result = admin_client.post(TEST_CONNECTION, {"hub_endpoint": url_of(web_page)},
                               HTTP_ACCEPT="application/json").json()
    assert (result["ok"], result["kind"]) == (False, "not_a_hub")
    assert "answered (HTTP 200), but with a web page, not the Hub's API" in result["message"]


def test_connection_without_javascript_reports_with_a_message(admin_client, configured, hub):
    response = admin_client.post(TEST_CONNECTION, form_data(hub_endpoint=""), follow=True)
    assert response.redirect_chain[-1][0] == change_url()
    assert f"{hub.url} is reachable" in messages_of(response)  # blank: the endpoint in effect


def test_only_who_may_change_settings_may_test_the_connection(client, configured, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-Secret-123", is_staff=True)
    client.force_login(user)
    assert client.post(TEST_CONNECTION, {"hub_endpoint": "http://127.0.0.1:1"}).status_code == 403


# --- the token checked when saved ------------------------------------------------------------------
def test_a_new_token_is_checked_when_saved_and_the_user_is_named(admin_client, configured, hub):
    hub.add_token(TOKEN, user="carol", role="read")
    response = admin_client.post(change_url(), form_data(hf_token=TOKEN), follow=True)
    assert Setting.load().saved_hf_token() == TOKEN
    assert "The Hub accepted the new token (…2468): user carol, role read." in messages_of(response)


def test_a_rejected_token_is_not_saved_and_the_page_says_what_to_do(admin_client, configured, hub):
    response = admin_client.post(change_url(), form_data(hf_token=TOKEN))
    page = response.content.decode()
    assert response.status_code == 200 and Setting.load().saved_hf_token() is None
    assert "rejected this token (…2468): it was not saved" in page
    assert "https://huggingface.co/settings/tokens" in page
    assert TOKEN not in page


def test_a_mirror_without_whoami_saves_the_token_with_a_warning(admin_client, configured,
                                                                mirror_without_whoami):
    response = admin_client.post(change_url(), form_data(hub_endpoint=url_of(mirror_without_whoami),
                                                         hf_token=TOKEN), follow=True)
    assert Setting.load().saved_hf_token() == TOKEN
    [warning] = [m for m in response.context["messages"] if m.level_tag == "warning"
                 and "whoami" in str(m)]
    assert "saved but not checked" in str(warning) and "Some mirrors don't implement it" in str(warning)
    assert TOKEN not in str(warning)
    response = admin_client.post(TEST_TOKEN, follow=True)
    assert "Token not checked:" in messages_of(response) and "as some mirrors don't" in messages_of(response)


def test_an_unreachable_hub_saves_the_token_with_a_warning(admin_client, configured):
    response = admin_client.post(change_url(), form_data(hub_endpoint="http://127.0.0.1:1", hf_token=TOKEN),
                                 follow=True)
    assert Setting.load().saved_hf_token() == TOKEN
    assert "was saved but not checked: Could not reach" in messages_of(response)


# --- bounds and rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_concurrent_downloads": 0}, "At least 1 download must be able to run"),
    ({"max_concurrent_downloads": 65}, "At most 64 downloads at once"),
    ({"reverify_interval_hours": -1}, "Hours cannot be negative; 0 turns periodic re-verification off."),
    ({"reverify_interval_hours": 9000}, "At most 8784 hours (a year)"),
    ({"segment_min_size": "1KB"}, "Use at least 1.0 MB: smaller segments cost more in requests"),
    ({"bandwidth_limit": "10KB"}, "Use at least 100.0 KB/s, e.g. 50MB"),
    ({"completeness_rules": '{"voise": [["*.onnx"]]}'}, "&#x27;voise&#x27; is not a kind; the kinds are"),
    ({"min_free_space": "900000TB"}, "is more than the whole storage volume"),
])
def test_out_of_bounds_values_get_a_human_message(admin_client, configured, overrides, message):
    before = Setting.objects.values().get()
    response = admin_client.post(change_url(), form_data(**overrides))
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert "Ensure this value" not in page
    assert Setting.objects.values().get() == before


def test_the_token_field_says_it_is_checked_and_that_some_mirrors_cannot(admin_client, configured):
    page = admin_client.get(change_url()).content.decode()
    assert "Checked with the Hub's whoami when you save: a rejected token is not saved." in page
    assert "Some mirrors don't implement whoami; there the token is saved unchecked" in page


def test_completeness_rules_show_an_example(admin_client, configured):
    page = admin_client.get(change_url()).content.decode()
    example = "{&quot;voice&quot;: [[&quot;*.onnx&quot;, &quot;*.onnx.json&quot;]]}"
    assert f"Example: <code>{example}</code>" in page
    assert 'placeholder="{&quot;voice&quot;' in page


def test_configure_uses_the_same_bounds(configured):
    code, output = run_configure("--max-concurrent-downloads", "100")
    assert code == 2 and "--max-concurrent-downloads: At most 64 downloads at once" in output
    code, output = run_configure("--bandwidth-limit", "1KB")
    assert code == 2 and "Use at least 100.0 KB/s" in output
