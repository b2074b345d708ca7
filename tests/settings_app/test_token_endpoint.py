"""The saved HF token is bound to the endpoint it was saved for: pointing Settings at another server
(an "attacker" FakeHub here) must not make ModelHub send the token there, until someone allowed to
confirms the new endpoint or enters the token again."""

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from downloads.models import JobState
from settings_app.endpoints import endpoint_origin, same_origin
from settings_app.models import Setting
from settings_app.tokens import resolve_token
from tests.jobs import run_download
from tests.modelfiles import make_gguf
from tests.settings_helpers import change_url, form_data, run_configure

pytestmark = pytest.mark.django_db

TOKEN = "hf_BoundTokenForTrust4321"
TEST_TOKEN = reverse("admin:settings_app_setting_test_token")


@pytest.fixture
def attacker():
    from fakehub import FakeHub

    with FakeHub() as server:
        # Were the token to arrive, whoami would succeed: the tests can tell "sent" from "refused".
        server.add_token(TOKEN, user="victim", role="write")
        yield server


@pytest.fixture
def saved_token(configured, hub):
    hub.add_token(TOKEN, user="alice", role="write")
    configured.set_hf_token(TOKEN)
    configured.save()
    return configured


def authorizations(server) -> list[str]:
    return [r.authorization for r in server.requests if r.authorization]


def settings_editor() -> User:
    """May edit Settings and press Test token, but not confirm the token for a new endpoint."""
    user = User.objects.create_user("editor", password="pw-Secret-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="settings_app", codename__in=["view_setting", "change_setting"]))
    return user


# --- the admin ------------------------------------------------------------------------------------
def test_editor_who_changes_the_endpoint_and_presses_test_token_never_sends_the_token(
        client, saved_token, hub, attacker):
    client.force_login(settings_editor())
    page = client.get(change_url()).content.decode()
    assert 'name="confirm_token_endpoint"' not in page  # editing Settings is not enough to confirm

    response = client.post(change_url(), form_data(hub_endpoint=attacker.url, confirm_token_endpoint="on"),
                           follow=True)
    assert response.status_code == 200 and Setting.load().hub_endpoint == attacker.url
    [warning] = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert f"Hub endpoint changed from {hub.url} to {attacker.url}" in str(warning)
    assert "not sent" in str(warning)

    response = client.post(TEST_TOKEN, follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert "Token check failed" in message and f"was saved for {endpoint_origin(hub.url)}" in message
    assert authorizations(attacker) == []

    page = client.get(change_url()).content.decode()
    assert "It is not sent there until the new endpoint is confirmed" in page
    assert "Use the saved token with the new endpoint" in page  # the page says how


def test_endpoint_change_is_in_the_admin_log_with_both_endpoints_and_never_the_token(
        admin_client, saved_token, hub, attacker):
    admin_client.post(change_url(), form_data(hub_endpoint=attacker.url))
    entry = LogEntry.objects.get(change_message__startswith="Hub endpoint changed")
    assert hub.url in entry.change_message and attacker.url in entry.change_message
    assert entry.user.username == "admin"
    assert all(TOKEN not in m and TOKEN[3:-4] not in m
               for m in LogEntry.objects.values_list("change_message", flat=True))


def test_confirming_the_new_endpoint_sends_the_token_there_and_is_logged(admin_client, saved_token, attacker):
    admin_client.post(change_url(), form_data(hub_endpoint=attacker.url))
    assert 'name="confirm_token_endpoint"' in admin_client.get(change_url()).content.decode()

    admin_client.post(change_url(), form_data(confirm_token_endpoint="on"))
    assert LogEntry.objects.filter(
        change_message=f"Confirmed the saved HF token for {attacker.url}.").exists()
    response = admin_client.post(TEST_TOKEN, follow=True)
    assert "user victim" in " ".join(str(m) for m in response.context["messages"])
    assert authorizations(attacker) == [f"Bearer {TOKEN}"]


def test_entering_the_token_again_with_the_new_endpoint_binds_it_there(admin_client, saved_token, attacker):
    admin_client.post(change_url(), form_data(hub_endpoint=attacker.url, hf_token=TOKEN))
    assert resolve_token().source == "settings"
    admin_client.post(TEST_TOKEN)
    # whoami when the token was saved (it is checked for the endpoint it is typed for), then Test token
    assert authorizations(attacker) == [f"Bearer {TOKEN}"] * 2


def test_a_path_on_the_same_origin_keeps_the_token(admin_client, saved_token, hub):
    admin_client.post(change_url(), form_data(hub_endpoint=f"{hub.url}/mirror"))
    assert resolve_token().source == "settings"


# --- downloads ------------------------------------------------------------------------------------
def test_downloads_after_an_endpoint_change_go_without_the_token(saved_token, attacker):
    attacker.add_repo("org/public", {"model.gguf": make_gguf(), "config.json": b"{}"})
    setting = Setting.load()
    setting.hub_endpoint = attacker.url
    setting.save()

    token = resolve_token()
    assert (token.value, token.source) == (None, "settings-unconfirmed")
    assert "…4321" in token.problem and TOKEN not in token.problem and TOKEN not in repr(token)
    job = run_download("org/public")
    assert job.state == JobState.SUCCEEDED, job.error_message  # public repos still work
    assert attacker.requests and authorizations(attacker) == []


def test_a_gated_repo_after_an_endpoint_change_says_the_token_is_held_back(saved_token, attacker):
    attacker.add_repo("org/locked", {"model.gguf": make_gguf()}, gated=True)
    setting = Setting.load()
    setting.hub_endpoint = attacker.url
    setting.save()
    job = run_download("org/locked")
    assert job.error_code == "token_unconfirmed"  # not "add a token": one is saved, and held back
    assert "…4321" in job.error_message and attacker.url in job.guidance
    assert "configure --confirm-token-endpoint" in job.guidance
    assert TOKEN not in job.error_message + job.guidance
    assert authorizations(attacker) == []


def test_a_private_repo_after_an_endpoint_change_is_not_found_and_names_the_held_back_token(saved_token,
                                                                                           attacker):
    # A private repo and a missing one look the same without a token: the code stays repo_not_found
    # (no false claim), and the message says a saved token was held back.
    attacker.add_repo("org/locked", {"model.gguf": make_gguf()}, private=True)
    setting = Setting.load()
    setting.hub_endpoint = attacker.url
    setting.save()
    job = run_download("org/locked")
    assert job.error_code == "repo_not_found"
    assert ("If the repository is private" in job.error_message
            and "--confirm-token-endpoint" in job.error_message)
    assert TOKEN not in job.error_message + job.guidance
    assert authorizations(attacker) == []


def test_a_changed_default_endpoint_unbinds_the_token_too(db, settings, hub):
    settings.MODELHUB_HUB_ENDPOINT = hub.url
    setting = Setting.load()
    setting.set_hf_token(TOKEN)
    setting.save()
    assert resolve_token().source == "settings"
    settings.MODELHUB_HUB_ENDPOINT = "https://mirror.example.com"
    assert resolve_token().source == "settings-unconfirmed"


def test_token_from_the_environment_still_follows_the_endpoint(configured, attacker, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, _ = run_configure("--hub-endpoint", attacker.url, "--check-token")
    assert code == 0 and resolve_token().source == "env:HF_TOKEN"
    assert authorizations(attacker) == [f"Bearer {TOKEN}"]


# --- configure ------------------------------------------------------------------------------------
def test_configure_endpoint_change_unbinds_until_confirmed(saved_token, hub, attacker):
    code, output = run_configure("--hub-endpoint", attacker.url, "--check-token")
    assert code == 1 and authorizations(attacker) == []
    assert f"Hub endpoint changed from {hub.url} to {attacker.url}" in output
    assert "configure --confirm-token-endpoint" in output
    assert TOKEN not in output

    code, output = run_configure("--confirm-token-endpoint", "--check-token")
    assert code == 0 and f"Confirmed the saved HF token for {attacker.url}" in output
    assert authorizations(attacker) == [f"Bearer {TOKEN}"]


def test_configure_new_endpoint_with_the_token_entered_again_binds_it(saved_token, attacker, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    code, output = run_configure("--hub-endpoint", attacker.url, "--hf-token-stdin", "--check-token")
    assert code == 0 and "The saved HF token is used with it" in output
    assert authorizations(attacker) == [f"Bearer {TOKEN}"]


def test_configure_confirm_without_a_saved_token_is_refused(configured):
    code, output = run_configure("--confirm-token-endpoint")
    assert code == 2 and "no token saved in Settings" in output


# --- origins and the migration --------------------------------------------------------------------
@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://huggingface.co", "https://HuggingFace.co:443/", True),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/mirror", True),
    ("https://huggingface.co", "http://huggingface.co", False),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8001", False),
    ("https://hf.co", "https://hf.co.evil.example", False),
    ("", "", False),
    ("not a url", "not a url", False),
])
def test_same_origin(a, b, same):
    assert same_origin(a, b) is same


def test_origin_drops_credentials():
    assert endpoint_origin("https://user:pw@Hub.example:8443/x") == "https://hub.example:8443"


@pytest.mark.django_db(transaction=True)
def test_migration_binds_an_existing_token_to_the_endpoint_in_effect(settings):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from settings_app import token_crypto

    settings.MODELHUB_HUB_ENDPOINT = "https://hub.example.com/"
    before, after = [("settings_app", "0002_segments")], [("settings_app", "0003_token_endpoint")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("settings_app", "Setting").objects.create(
        pk=1, hf_token_encrypted=token_crypto.encrypt(TOKEN), hf_token_last4=TOKEN[-4:])
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert Setting.objects.values_list("hf_token_endpoint", flat=True).get() == "https://hub.example.com"
        # The model is today's: its later columns exist only once every migration has run.
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
        assert resolve_token().value == TOKEN
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
