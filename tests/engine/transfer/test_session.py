"""The transfer session: proxy variables still apply (read once per origin), netrc never does."""

import os
from pathlib import Path

import pytest

from downloads.models import JobState
from engine.transfer.session import TransferSession
from tests.jobs import run_download
from tests.modelfiles import make_gguf

TOKEN = "hf_SessionTestToken123"


def test_proxy_variables_apply_per_origin_like_requests(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corp.pem")
    session = TransferSession(4)
    outside = session.merge_environment_settings("http://cdn.example/blob", {}, True, True, None)
    local = session.merge_environment_settings("http://127.0.0.1:9/x", {}, True, True, None)
    assert outside["proxies"].get("http") == "http://proxy.example:3128"
    assert "http" not in local["proxies"]
    assert outside["verify"] == "/etc/ssl/certs/corp.pem"
    # Cached per origin, and a caller changing its copy does not change the next request's.
    outside["proxies"]["http"] = "http://changed:1"
    again = session.merge_environment_settings("http://cdn.example/other", {}, True, True, None)
    assert again["proxies"]["http"] == "http://proxy.example:3128"
    # Proxies passed for one call are used as they are.
    explicit = session.merge_environment_settings("http://cdn.example/x", {"http": "http://p:1"}, True, True,
                                                  None)
    assert explicit["proxies"]["http"] == "http://p:1"


@pytest.mark.django_db
def test_a_netrc_entry_for_the_hub_does_not_replace_the_token(configured, hub):
    """requests would send ~/.netrc's Basic credentials instead of our Bearer token; HOME is a
    temporary folder here (conftest), so this netrc is the only one."""
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    hub.add_token(TOKEN, user="alice", can_access=["org/gated"])
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    configured.set_hf_token(TOKEN)
    configured.save()

    job = run_download("org/gated")

    assert job.state == JobState.SUCCEEDED, job.error_message
    (get,) = [r for r in hub.file_requests("model.gguf") if r.method == "GET"]
    assert get.authorization == f"Bearer {TOKEN}"
