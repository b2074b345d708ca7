"""The world of the /hub tests: FakeHub is the origin ModelHub downloads from (the real download path),
Django's live server is ModelHub serving /hub, and the clients are the real `hf` CLI and huggingface_hub,
each with an empty cache of its own."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from downloads.models import JobState
from fakehub import git_blob_sha1
from serving import tokens
from tests.jobs import run_download
from tests.modelfiles import make_gguf, make_safetensors

HF = str(Path(sys.executable).with_name("hf"))


def tiny_files() -> dict[str, bytes]:
    """A small text model: LFS weights, plain JSON, a nested file; the weights a few MB, so a Range and a
    cut connection land well inside them."""
    return {
        "config.json": b'{"model_type": "llama"}',
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"vocab": {"a": 0}}}).encode(),
        "model.safetensors": make_safetensors({"w": ("F32", [512, 1024])}),
        "nested/dir/extra.txt": b"hello nested",
    }


def gguf_files() -> dict[str, bytes]:
    return {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"}),
            "README.md": b"# two quants"}


def install(repo_id: str, **variant):
    """Download into ModelHub's storage with the real download path; the variant ends installed."""
    job = run_download(repo_id, **variant)
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    return job.variant


def published_digest(hub, repo_id: str, path: str, repo_type: str = "model") -> tuple[str, str]:
    """What the origin published for a file: ("sha256", hex) for LFS files, else ("git-sha1", hex)."""
    f = hub.get_repo(repo_id, repo_type=repo_type).files[path]
    return ("sha256", f.sha256) if f.is_lfs else ("git-sha1", f.git_sha1)


def digest_of(data: bytes, algo: str) -> str:
    return hashlib.sha256(data).hexdigest() if algo == "sha256" else git_blob_sha1(data)


def assert_same_as_origin(hub, repo_id: str, folder: Path, paths, repo_type: str = "model") -> None:
    for path in paths:
        algo, expected = published_digest(hub, repo_id, path, repo_type)
        assert digest_of((Path(folder) / path).read_bytes(), algo) == expected, path


@pytest.fixture
def puller(django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.org", "alice-Secret-123")
    pull = Permission.objects.get(content_type__app_label="serving", codename="pull_models")
    user.user_permissions.add(pull)
    return user


@pytest.fixture
def token(puller) -> str:
    return tokens.create(puller, name="test")[1]


@pytest.fixture
def endpoint(live_server) -> str:
    return f"{live_server.url}/hub"


@pytest.fixture
def client_home(tmp_path) -> Path:
    """An empty Hugging Face home for the client machine."""
    home = tmp_path / "client-hf-home"
    home.mkdir()
    return home


def hf_env(endpoint: str, home: Path, token: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGING_FACE", "HUGGINGFACE"))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(home), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_ETAG_TIMEOUT="30", HF_HUB_DOWNLOAD_TIMEOUT="30")
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def run_hf(*args: str, env: dict, timeout: float = 40) -> subprocess.CompletedProcess:
    return subprocess.run([HF, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def session_reset():
    """huggingface_hub keeps one HTTP session per process; a test's keep-alive connections must not reach
    the next test's server."""
    from huggingface_hub.utils import close_session

    close_session()
    yield
    close_session()
