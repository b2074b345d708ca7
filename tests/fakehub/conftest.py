"""Fixtures of the FakeHub tests: huggingface_hub in a clean environment, and a FakeHub with a small tree
page (so listings paginate) that must end without server errors. The root tests/conftest.py applies too;
its ``hub`` fixture is overridden here."""

import pytest

from fakehub import FakeHub


@pytest.fixture
def hf(monkeypatch, tmp_path):
    """huggingface_hub with a clean environment (no token, no telemetry, no Xet, HF_HOME in tmp)."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    import huggingface_hub
    import huggingface_hub.errors
    import huggingface_hub.hf_api
    import huggingface_hub.utils
    from huggingface_hub import constants

    # In case huggingface_hub was imported before this fixture ran, align its import-time constants too.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf_home" / "token"))
    huggingface_hub.utils.close_session()
    yield huggingface_hub
    huggingface_hub.utils.close_session()



@pytest.fixture
def hub(hf):
    h = FakeHub(tree_page_size=4).start()
    yield h
    h.stop()
    assert not h.server_errors, h.server_errors


@pytest.fixture
def cdn_hub(hf):
    h = FakeHub(use_cdn=True).start()
    yield h
    h.stop()
    assert not h.server_errors, h.server_errors


@pytest.fixture
def api(hf, hub):
    """An HfApi on ``hub`` without a token."""
    return hf.HfApi(endpoint=hub.url, token=False)
