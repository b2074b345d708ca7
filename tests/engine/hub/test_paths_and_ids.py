"""A malicious Hub-compatible server, one repo per attack: nothing outside storage is touched, and the
token reaches the configured endpoint alone.

Every test asserts the job's error code, that the canary files outside storage are byte-for-byte
intact, that nothing was created or removed outside storage (a walk of the parent folder before and
after), and which origins saw the token.
"""

import hashlib
import os
from pathlib import Path

import pytest

from downloads.models import JobState, ModelVariant, VariantStatus
from fakehub.hostile import HostileHub, honest_tree, trickle
from settings_app.models import Setting
from tests.jobs import run_download

pytestmark = pytest.mark.django_db

TOKEN = "hf_HostileHubTestToken0001"
CANARY = b"precious bytes that must survive"
REPO = "org/evil"


@pytest.fixture
def world(tmp_path):
    """A folder holding storage and, beside it, files a hostile server would like to reach."""
    root = tmp_path / "world"
    storage = root / "srv" / "storage"
    storage.mkdir(parents=True)
    for name in ("victim/x", "victim2/config.json", "victim3/model.safetensors"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(CANARY)
    return root


@pytest.fixture
def storage(world):
    return world / "srv" / "storage"


@pytest.fixture
def evil(db, storage):
    from huggingface_hub.utils import close_session

    with HostileHub() as server:
        setting = Setting.load()
        setting.hub_endpoint = server.url
        setting.storage_dir = str(storage)
        setting.min_free_space = 0
        setting.save()
        setting.set_hf_token(TOKEN)
        setting.save()
        yield server
    close_session()


def walk(root: Path, skip: Path) -> dict[str, str]:
    """Everything below `root` but `skip`: path -> content hash, link target or 'dir'."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if path == skip:
                continue
            if path.is_symlink():
                seen[str(path)] = "link:" + os.readlink(path)
            elif path.is_dir():
                seen[str(path)] = "dir"
            else:
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.fixture
def untouched(world, storage, evil):
    """Call after the job: asserts the world outside storage is exactly as before, and that no origin
    but the endpoint's ever saw the token."""
    before = walk(world, storage)

    def check():
        assert walk(world, storage) == before
        for name in ("victim/x", "victim2/config.json", "victim3/model.safetensors"):
            assert (world / name).read_bytes() == CANARY
        assert_token_only_at_endpoint(evil)
    return check


def run(**variant):
    return run_download(REPO, kind="files", **variant)


def assert_token_only_at_endpoint(evil):
    assert evil.origins_that_saw(TOKEN) <= {evil.url}


def assert_nothing_written(storage):
    assert not (storage / "models--org--evil").exists()
    assert not (storage / ".locks" / "models--org--evil").exists()


def relative(target: Path, start: Path) -> str:
    return os.path.relpath(target, start)


# --- 1. blob ids -----------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["oid", "lfs"])
def test_blob_id_that_is_a_path_is_refused_before_any_write(evil, world, storage, untouched, field):
    blobs = storage / "models--org--evil" / "blobs"
    escape = relative(world / "victim" / "x", blobs)
    data = b"attacker bytes, not the canary's size"
    tree = honest_tree({"weights.bin": data})
    if field == "oid":
        del tree[0]["lfs"]
        tree[0]["oid"] = escape
    else:
        tree[0]["lfs"]["oid"] = escape
    evil.repo(REPO, files={"weights.bin": data}, tree=tree)
    job = run()
    assert job.error_code == "unsafe_path"
    assert "victim" in job.error_message and "Nothing was written" in job.guidance
    untouched()
    assert_nothing_written(storage)
    assert_token_only_at_endpoint(evil)
    assert not evil.requests_to(evil.elsewhere)
    assert not [s for s in evil.seen if "/resolve/" in s.path]  # not a byte was asked for


@pytest.mark.parametrize("oid", ["abc", "A" * 40, "a" * 41, "g" * 40, 1234, None, "<img src=x>" + "a" * 29])
def test_malformed_blob_id_is_a_protocol_error(evil, storage, untouched, oid):
    tree = honest_tree({"config.json": b"{}"})
    tree[0]["oid"] = oid
    evil.repo(REPO, files={"config.json": b"{}"}, tree=tree)
    job = run()
    assert job.error_code == "protocol_error"
    assert "blob id" in job.error_message
    untouched()
    assert_nothing_written(storage)


@pytest.mark.parametrize("sha256", ["0" * 63, "F" * 64, "../" * 10, {"nested": "x"}])
def test_malformed_lfs_sha256_is_refused(evil, storage, untouched, sha256):
    tree = honest_tree({"w.safetensors": b"1234"})
    tree[0]["lfs"]["oid"] = sha256
    evil.repo(REPO, files={"w.safetensors": b"1234"}, tree=tree)
    job = run()
    assert job.error_code in ("protocol_error", "unsafe_path")
    assert job.error_code == ("unsafe_path" if sha256 == "../" * 10 else "protocol_error")
    untouched()
    assert_nothing_written(storage)


@pytest.mark.parametrize("size", [-1, "12", 10**20, 1.5, None])
def test_malformed_size_is_a_protocol_error(evil, storage, untouched, size):
    tree = honest_tree({"config.json": b"{}"})
    tree[0]["size"] = size
    evil.repo(REPO, files={"config.json": b"{}"}, tree=tree)
    job = run()
    assert job.error_code == "protocol_error"
    untouched()
    assert_nothing_written(storage)


# --- 2. commit shas ---------------------------------------------------------------------------------
def test_commit_that_is_a_path_is_refused_before_any_write(evil, world, storage, untouched):
    snapshots = storage / "models--org--evil" / "snapshots"
    evil.repo(REPO, sha=relative(world / "victim2", snapshots), files={"config.json": b"{}"})
    job = run()
    assert job.error_code == "unsafe_path"
    assert "commit" in job.error_message
    untouched()
    assert_nothing_written(storage)
    assert not (world / "victim2" / "config.json").is_symlink()


@pytest.mark.parametrize("sha", ["abc", "<img src=x onerror=alert(1)>", "A" * 40, "a" * 39, 12345, None, ""])
def test_malformed_commit_is_a_protocol_error_and_never_installed(evil, storage, untouched, sha):
    evil.repo(REPO, sha=sha, files={"config.json": b"{}"})
    job = run()
    assert job.error_code == "protocol_error"
    assert ModelVariant.objects.get(pk=job.variant_id).status != VariantStatus.INSTALLED
    untouched()
    assert_nothing_written(storage)


# --- file paths --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["../../escape.txt", "/etc/passwd", "a/../../b", "a\\..\\b", ".git/config"])
def test_unsafe_file_path_is_refused_before_any_write(evil, storage, untouched, path):
    evil.repo(REPO, files={path: b"pwned", "config.json": b"{}"})
    job = run()
    assert job.error_code == "unsafe_path"
    untouched()
    assert_nothing_written(storage)


def test_a_path_that_is_both_file_and_folder_is_path_conflict(evil, storage, untouched):
    evil.repo(REPO, files={"onnx": b"a file", "onnx/model.onnx": b"a file in a folder of the same name"})
    job = run()
    assert job.error_code == "path_conflict"
    assert "'onnx'" in job.error_message and "both as a file and as a folder" in job.guidance
    untouched()
    assert_nothing_written(storage)


def test_a_name_longer_than_the_file_system_allows_is_name_too_long(evil, storage, untouched):
    long_name = "x" * 300 + ".json"
    evil.repo(REPO, files={long_name: b"{}", "config.json": b"{}"})
    job = run()
    assert job.error_code == "name_too_long"
    assert "255 bytes" in job.guidance
    untouched()
    assert_nothing_written(storage)


def test_a_name_just_under_the_limit_installs(evil, storage, untouched):
    name = "y" * 250 + ".json"  # the temporary link name must not push it over the limit
    evil.repo(REPO, files={name: b"{}"})
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert (storage / "models--org--evil" / "snapshots" / ("a" * 40) / name).read_bytes() == b"{}"
    untouched()


# --- symlinks inside storage that lead out ------------------------------------------------------------
def test_a_blobs_folder_that_links_outside_storage_is_not_written_through(evil, world, storage, untouched):
    repo_dir = storage / "models--org--evil"
    repo_dir.mkdir()
    (repo_dir / "blobs").symlink_to(world / "victim3", target_is_directory=True)
    before = walk(world, storage)
    evil.repo(REPO, files={"model.safetensors": b"attacker"})
    job = run()
    assert job.error_code == "unsafe_path"
    assert "outside the storage folder" in job.error_message
    assert walk(world, storage) == before
    assert (world / "victim3" / "model.safetensors").read_bytes() == CANARY


def test_a_partial_planted_as_a_symlink_is_not_written_through(evil, world, storage, untouched):
    data = b"0123456789" * 100
    evil.repo(REPO, files={"model.safetensors": data})
    sha256 = hashlib.sha256(data).hexdigest()
    blobs = storage / "models--org--evil" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha256}.incomplete").symlink_to(world / "victim" / "x")
    job = run()
    assert job.error_code == "storage_error"
    untouched()


# --- 3. the token stays on the endpoint ------------------------------------------------------------------
def test_pagination_to_another_origin_is_refused_and_never_sent_the_token(evil, storage, untouched):
    evil.repo(REPO, files={"config.json": b"{}"},
              tree_link=f"{evil.elsewhere}/api/models/{REPO}/tree/{'a' * 40}?cursor=2")
    job = run()
    assert job.error_code == "protocol_error"
    assert "another host" in job.error_message
    assert not evil.requests_to(evil.elsewhere)
    assert TOKEN not in job.error_message + job.guidance
    assert evil.origins_that_saw(TOKEN) == {evil.url}  # the endpoint did get it: the test is live
    untouched()


def test_endless_pagination_on_the_endpoint_is_a_protocol_error(evil, storage, untouched):
    evil.repo(REPO, files={"config.json": b"{}"},
              tree_link=f"{evil.url}/api/models/{REPO}/tree/{'a' * 40}?cursor=same")
    job = run()
    assert job.error_code == "protocol_error"
    assert "without end" in job.error_message
    untouched()


def test_file_redirect_to_another_origin_goes_without_the_token(evil, storage, untouched):
    data = b'{"model_type": "llama"}'

    def to_cdn(handler):
        handler.send(302, b"", {"Location": f"{evil.elsewhere}/cdn/config.json"})

    evil.repo(REPO, files={"config.json": data}, resolve={"config.json": to_cdn})
    evil.elsewhere_handler = lambda handler: handler.send_file(data)
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert [s.authorization for s in evil.requests_to(evil.elsewhere)] == [None]
    assert evil.origins_that_saw(TOKEN) == {evil.url}
    untouched()


def test_api_redirect_to_another_origin_goes_without_the_token(evil, storage, untouched):
    data = b"{}"
    script = evil.repo(REPO, files={"config.json": data})

    def moved(handler):
        handler.send(307, b"", {"Location": f"{evil.elsewhere}{handler.path}"})

    honest = type(script)(REPO, "a" * 40, {"config.json": data})
    script.info = moved
    evil.elsewhere_handler = lambda handler: handler.send_json(
        {"id": REPO, "sha": honest.sha, "siblings": [{"rfilename": "config.json"}]})
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert evil.requests_to(evil.elsewhere) and all(s.authorization is None for s in evil.requests_to(evil.elsewhere))
    assert evil.origins_that_saw(TOKEN) == {evil.url}
    untouched()


def test_file_redirect_loop_is_redirect_loop(evil, storage, untouched):
    def loop(handler):
        handler.send(302, b"", {"Location": handler.path})

    evil.repo(REPO, files={"config.json": b"{}"}, resolve={"config.json": loop})
    job = run()
    assert job.error_code == "redirect_loop"
    assert "kept redirecting" in job.guidance
    untouched()


def test_api_redirect_loop_is_redirect_loop(evil, storage, untouched):
    script = evil.repo(REPO, files={"config.json": b"{}"})
    script.info = lambda handler: handler.send(302, b"", {"Location": handler.path})
    job = run()
    assert job.error_code == "redirect_loop"
    untouched()
    assert_nothing_written(storage)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.invalid/x", "javascript:alert(1)"])
def test_redirect_to_a_non_http_location_is_refused(evil, storage, untouched, location):
    evil.repo(REPO, files={"config.json": b"{}"},
              resolve={"config.json": lambda handler: handler.send(302, b"", {"Location": location})})
    job = run()
    assert job.error_code == "protocol_error"
    assert "not an http(s) URL" in job.error_message
    untouched()


# --- slow and lying bodies ------------------------------------------------------------------------------------
def test_a_trickling_server_is_dropped_as_network_and_the_retry_resumes(evil, storage, untouched, settings):
    settings.MODELHUB_LOW_SPEED_LIMIT = 1000
    settings.MODELHUB_LOW_SPEED_TIME = 0.3
    data = os.urandom(4000)
    script = evil.repo(REPO, files={"weights.bin": data},
                       resolve={"weights.bin": trickle(data, every=0.02)})
    job = run()
    assert job.error_code == "network"
    assert "low-speed limit" in job.error_message
    partial = storage / "models--org--evil" / "blobs" / f"{hashlib.sha256(data).hexdigest()}.incomplete"
    kept = partial.stat().st_size
    assert 0 < kept < len(data)
    script.resolve.clear()  # the mirror recovers
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert job.bytes_resumed >= kept
    assert (storage / "models--org--evil" / "snapshots" / ("a" * 40) / "weights.bin").read_bytes() == data
    untouched()


@pytest.mark.parametrize("declared", ["abc", "999999", "3"])
def test_a_content_length_that_disagrees_is_a_protocol_error(evil, storage, untouched, declared):
    data = b"x" * 100

    def lie(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", declared)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.server.hub.stopping.wait(120)  # then hold the connection open, as a broken proxy would

    evil.repo(REPO, files={"data.txt": data}, resolve={"data.txt": lie})
    job = run()
    assert job.error_code == "protocol_error"
    assert "Content-Length" in job.error_message
    blobs = storage / "models--org--evil" / "blobs"
    assert all(p.name.endswith(".incomplete") for p in blobs.iterdir())  # no blob published
    untouched()


def test_no_request_through_huggingface_hub_carries_the_token_to_another_origin(evil):
    """The backstop below every metadata call: whatever huggingface_hub is asked to send, a bound
    token is stripped from a request to any origin but the endpoint's."""
    from huggingface_hub.utils import get_session

    from settings_app.hub_client import client_from_settings

    client = client_from_settings()  # binds the saved token to the endpoint
    assert client.token == TOKEN
    session = get_session()
    session.get(f"{evil.elsewhere}/api/anything", headers={"Authorization": f"Bearer {TOKEN}"})
    session.get(f"{evil.url}/api/whoami-v2", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [s.authorization for s in evil.requests_to(evil.elsewhere)] == [None]
    assert evil.origins_that_saw(TOKEN) == {evil.url}


def test_a_file_name_that_is_not_unicode_text_is_refused_and_the_job_ends(evil, storage, untouched):
    """JSON can carry a lone surrogate ("\\udce9"): no file system name, no database text. The job must
    end with a clear code, not crash on the write and stay 'running'."""
    tree = honest_tree({"config.json": b"{}"})
    tree[0]["path"] = "caf\udce9.json"
    evil.repo(REPO, files={"config.json": b"{}"}, tree=tree)
    job = run()
    assert job.state == JobState.FAILED
    assert job.error_code == "protocol_error"
    assert "caf" in job.error_message
    untouched()
    assert_nothing_written(storage)
