"""`configure`: a bad endpoint is refused, --check-token names the user or says why not, and the order
in which a token is looked up (Settings, then the environment, then the token file)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from settings_app.models import Setting
from tests.settings_helpers import set_token

pytestmark = pytest.mark.django_db

GOOD_TOKEN = "hf_GoodTokenForTests0001"


def test_endpoint_is_validated_by_configure(configured):
    with pytest.raises(CommandError) as exc:
        call_command("configure", "--hub-endpoint", "ftp://nope")
    assert "http(s) URL" in str(exc.value)
    with pytest.raises(CommandError):
        call_command("configure", "--min-free-space", "lots")
    assert Setting.load().hub_endpoint.startswith("http://127.0.0.1")


def test_configure_check_token_reports_user_and_role_or_why_not(configured, hub, capsys):
    hub.add_token(GOOD_TOKEN, user="carol", role="write")
    set_token(GOOD_TOKEN)
    call_command("configure", "--check-token", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["token_check"]["ok"] and out["token_check"]["user"] == "carol"
            and out["token_check"]["role"] == "write")
    assert out["token"].endswith("(saved in Settings)") and GOOD_TOKEN[-4:] in out["token"]
    set_token("hf_NotKnownAnywhere9999")
    with pytest.raises(CommandError):
        call_command("configure", "--check-token", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["token_check"]["ok"] is False and out["token_check"]["code"] == "token_invalid"


def test_token_sources_in_order_settings_env_file(configured, monkeypatch, tmp_path):
    from settings_app.tokens import resolve_token

    hf_home = tmp_path / "hf"
    hf_home.mkdir()
    (hf_home / "token").write_text("hf_FromTokenFile0001\n")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    assert resolve_token().source == f"file:{hf_home / 'token'}"
    monkeypatch.setenv("HF_TOKEN", "hf_FromEnvironment0002")
    assert resolve_token().source == "env:HF_TOKEN"
    set_token("hf_FromSettings00003")
    resolved = resolve_token()
    assert resolved.source == "settings" and resolved.last4 == "0003"
    assert "hf_FromSettings00003" not in repr(resolved) and "0003" in resolved.describe()
    set_token(None)
    monkeypatch.delenv("HF_TOKEN")
    (hf_home / "token").unlink()
    assert resolve_token().source == "none"


def test_configure_sets_webhooks_with_the_secret_from_a_file_never_echoed(configured, capsys, tmp_path):
    secret = "whsec-from-a-file-0123456789"
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    with pytest.raises(CommandError) as refused:  # nothing to sign with
        call_command("configure", "--webhook-url", "https://ops.example/hook")
    assert refused.value.returncode == 2 and "signing secret" in str(refused.value)
    call_command("configure", "--webhook-url", "https://ops.example/hook", "--webhook-url",
                 "http://127.0.0.1:9000/in", "--webhook-secret-file", str(secret_file), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["webhook_urls"] == ["https://ops.example/hook", "http://127.0.0.1:9000/in"]
    assert out["webhook_secret"] == "set, ending …6789" and secret not in json.dumps(out)
    setting = Setting.load()
    assert setting.webhook_urls.splitlines() == out["webhook_urls"]
    assert setting.webhook_secret_encrypted and secret not in setting.webhook_secret_encrypted

    for bad in (["--webhook-url", "ftp://ops.example/x"], ["--webhook-url", "https://u:pw@ops.example/"],
                ["--webhook-secret-file", str(tmp_path / "absent")]):
        with pytest.raises(CommandError) as exc:
            call_command("configure", *bad)
        assert exc.value.returncode == 2 and "pw" not in str(exc.value), bad
    short = tmp_path / "short"
    short.write_text("tiny")
    with pytest.raises(CommandError) as exc:
        call_command("configure", "--webhook-secret-file", str(short))
    assert "at least 16" in str(exc.value)
    call_command("configure", "--clear-webhook-urls", "--clear-webhook-secret", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["webhook_urls"], out["webhook_secret"]) == ([], "not set")
