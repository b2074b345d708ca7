"""Shared fixtures: a clean HF environment, the test Hub server, a configured storage folder."""

import os
import sys
from pathlib import Path

import pytest

# Never let a developer's real token (or cache) leak into a test run. Cleared before Django and
# huggingface_hub are imported, and again around every test.
_HF_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "HF_HUB_CACHE", "HF_ENDPOINT",
            "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE")
for _name in _HF_VARS:
    os.environ.pop(_name, None)
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def clean_hf_env(monkeypatch, tmp_path_factory):
    """No test sees the developer's token, Hugging Face cache or home folder (cache scans look in
    ~/.cache/huggingface/hub)."""
    for name in _HF_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    yield


@pytest.fixture(autouse=True)
def fast_retries(settings):
    """Production backoff is seconds; tests keep the same logic with millisecond delays."""
    settings.MODELHUB_RETRY_BASE_DELAY = 0.02
    settings.MODELHUB_RETRIES = 3
    settings.MODELHUB_PROGRESS_INTERVAL = 0.2
    settings.MODELHUB_TOKEN_KEYS = ["test-token-key"]


@pytest.fixture
def hub():
    from huggingface_hub.utils import close_session

    from fakehub import FakeHub

    server = FakeHub(tree_page_size=50).start()
    yield server
    server.stop()
    close_session()  # keep-alive connections would outlive the server


@pytest.fixture
def storage(tmp_path):
    path = tmp_path / "hub-storage"
    path.mkdir()
    return path


@pytest.fixture
def configured(db, hub, storage):
    """Settings pointing at the test Hub and a temporary storage folder."""
    from settings_app.models import Setting

    setting = Setting.load()
    setting.hub_endpoint = hub.url
    setting.storage_dir = str(storage)
    setting.min_free_space = 0
    setting.save()
    return setting


@pytest.fixture
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def python() -> str:
    return sys.executable
