"""Every failure the Hub or the network can cause gets a stable code and a specific fix, produced for
real against the test Hub."""

import os

import pytest

from downloads.models import JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from settings_app.models import Setting
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf
from tests.settings_helpers import set_token

pytestmark = pytest.mark.django_db

GOOD_TOKEN = "hf_GoodTokenForTests0001"


def test_gated_repo_without_token_explains_license(configured, hub):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    job = run("org/gated")
    assert job.error_code == "gated_no_token"
    assert f"{hub.url}/org/gated" in job.guidance
    assert f"{hub.url}/settings/tokens" in job.guidance
    assert "/admin/settings_app/setting/" in job.guidance
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.FAILED


def test_gated_repo_with_token_lacking_access_says_accept_license(configured, hub):
    hub.add_token(GOOD_TOKEN, user="bob")
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="auto")
    set_token(GOOD_TOKEN)
    job = run("org/gated")
    assert job.error_code == "gated_no_access"
    assert "bob" in job.guidance and f"{hub.url}/org/gated" in job.guidance


def test_gated_repo_with_access_downloads(configured, hub):
    hub.add_token(GOOD_TOKEN, can_access=["org/gated"])
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    set_token(GOOD_TOKEN)
    assert run("org/gated").state == JobState.SUCCEEDED


def test_invalid_token_is_told_apart_from_missing_access(configured, hub):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    set_token("hf_RevokedTokenXYZ12345")
    job = run("org/gated")
    assert job.error_code == "token_invalid"
    assert f"{hub.url}/settings/tokens" in job.guidance


def test_invalid_token_on_public_repo_is_token_invalid(configured, hub):
    hub.add_repo("org/public", {"model.gguf": make_gguf()})
    set_token("hf_RevokedTokenXYZ12345")
    assert run("org/public").error_code == "token_invalid"


def test_missing_repo(configured, hub):
    job = run("org/does-not-exist")
    assert job.error_code == "repo_not_found"
    assert "org/does-not-exist" in job.guidance and "dataset" in job.guidance


def test_missing_revision_names_the_revision(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    job = run("org/tiny", revision="v9.9")
    assert job.error_code == "revision_not_found"
    assert "'v9.9'" in job.guidance


def test_include_pattern_matching_nothing(configured, hub):
    hub.add_repo("org/tiny", {"model-Q4_K_M.gguf": make_gguf()})
    job = run("org/tiny", include=["*Q5_K_M*.gguf"])
    assert job.error_code == "file_not_found"
    assert "*Q5_K_M*.gguf" in job.guidance
    assert hub.bytes_sent() == 0


def test_persistent_server_error_after_retries(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    hub.fail_next("model.gguf", 500, count=100)
    job = run("org/tiny")
    assert job.error_code == "server_error"
    assert "HTTP 500" in job.guidance
    assert len([r for r in hub.file_requests("model.gguf") if r.method == "GET"]) == 4  # 1 + 3 retries


def test_rate_limited_past_retries(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    hub.fail_next("model.gguf", 429, count=100, retry_after=0)
    job = run("org/tiny")
    assert job.error_code == "rate_limited"
    assert "rate-limiting" in job.guidance


def test_dropped_connections_past_retry_budget_is_network(configured, hub, storage):
    data = os.urandom(200_000)
    repo = hub.add_repo("org/net", {"weights.bin": data})
    hub.drop_after("weights.bin", 0, count=100)
    job = run("org/net", kind="files")
    assert job.error_code == "network"
    assert "Retry resumes" in job.guidance
    assert not RepoCache(storage, "org/net").blob_path(repo.files["weights.bin"].etag).exists()


def test_unreachable_endpoint_is_network(configured, hub):
    setting = Setting.load()
    setting.hub_endpoint = "http://127.0.0.1:9"  # discard port: nothing listens
    setting.save()
    job = run("org/tiny")
    assert job.error_code == "network"
    assert "127.0.0.1:9" in job.guidance


def test_token_saved_with_another_key_is_reported_not_used(configured, hub, settings):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    set_token("hf_SavedUnderOldKey0001")
    settings.MODELHUB_TOKEN_KEYS = ["a-different-key"]
    job = run("org/tiny")
    assert job.error_code == "token_invalid"
    assert "cannot be decrypted" in job.error_message
