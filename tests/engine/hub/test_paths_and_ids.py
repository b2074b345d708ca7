"""A hostile Hub's ids and paths (blob ids, commits, file names, links planted in storage): each is
refused before a byte is written, and nothing outside storage is touched.

Each test asserts the job's error code and calls `untouched()` (see conftest.py).
"""

import hashlib

import pytest

from downloads.models import JobState, ModelVariant, VariantStatus
from fakehub.hostile import honest_tree
from tests.engine.hub.world import (
    CANARY,
    REPO,
    assert_nothing_written,
    assert_token_only_at_endpoint,
    relative,
    run,
    walk,
)

pytestmark = pytest.mark.django_db


# --- blob ids ------------------------------------------------------------------------------------------
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


# --- commit shas ---------------------------------------------------------------------------------------
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


# --- file paths ----------------------------------------------------------------------------------------
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


# --- symlinks inside storage that lead out -------------------------------------------------------------
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
