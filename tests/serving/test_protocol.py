"""The Hub's read API as ModelHub serves it, call by call, over real HTTP: what the answers hold must be
what the origin Hub said about the same files (sizes, blob ids, sha256), in the shapes huggingface_hub
parses."""

import hashlib

import pytest
import requests

from downloads.models import ModelVariant
from serving.views import api
from tests.serving.conftest import gguf_files, install, tiny_files


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tiny(configured, hub):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    return repo


def test_revision_info_with_blobs_says_what_the_origin_said(tiny, hub, endpoint, token):
    ours = requests.get(f"{endpoint}/api/models/org/tiny/revision/main", params={"blobs": "true"},
                        headers=auth(token), timeout=10)
    origin = requests.get(f"{hub.url}/api/models/org/tiny/revision/main", params={"blobs": "true"},
                          timeout=10)
    assert ours.status_code == 200
    assert ours.json()["sha"] == tiny.sha == ours.headers["X-Repo-Commit"]
    assert ours.json()["id"] == "org/tiny"
    assert sorted(ours.json()["siblings"], key=lambda s: s["rfilename"]) == \
        sorted(origin.json()["siblings"], key=lambda s: s["rfilename"])
    plain = requests.get(f"{endpoint}/api/models/org/tiny", headers=auth(token), timeout=10).json()
    assert plain["sha"] == tiny.sha and plain["siblings"][0] == {"rfilename": "config.json"}


def test_tree_is_recursive_paginated_on_the_same_origin_and_matches_the_origin(tiny, hub, endpoint, token,
                                                                              monkeypatch, live_server):
    monkeypatch.setattr(api, "TREE_PAGE_SIZE", 2)
    url = f"{endpoint}/api/models/org/tiny/tree/main?recursive=true&expand=false"
    entries, pages = [], 0
    while url:
        answer = requests.get(url, headers=auth(token), timeout=10)
        assert answer.status_code == 200
        entries += answer.json()
        pages += 1
        url = answer.links.get("next", {}).get("url")
        assert url is None or url.startswith(f"{live_server.url}/hub/api/models/org/tiny/tree/main?")
    assert pages == 3  # 4 files and 2 folders, 2 a page
    origin = requests.get(f"{hub.url}/api/models/org/tiny/tree/main?recursive=true", timeout=10).json()
    files = [e for e in entries if e["type"] == "file"]
    assert sorted(files, key=lambda e: e["path"]) == \
        sorted((e for e in origin if e["type"] == "file"), key=lambda e: e["path"])
    assert {e["path"] for e in entries if e["type"] == "directory"} == {"nested", "nested/dir"}
    monkeypatch.undo()  # one page each below
    top = requests.get(f"{endpoint}/api/models/org/tiny/tree/main", headers=auth(token), timeout=10).json()
    assert [e["path"] for e in top] == ["config.json", "model.safetensors", "nested", "tokenizer.json"]
    sub = requests.get(f"{endpoint}/api/models/org/tiny/tree/main/nested", headers=auth(token), timeout=10)
    assert [e["path"] for e in sub.json()] == ["nested/dir"]


def test_huggingface_hub_lists_and_asks_paths_info(tiny, endpoint, token, session_reset, monkeypatch):
    from huggingface_hub import HfApi

    monkeypatch.setattr(api, "TREE_PAGE_SIZE", 1)
    client = HfApi(endpoint=endpoint, token=token)
    listed = {f.path for f in client.list_repo_tree("org/tiny", recursive=True)}
    assert listed == set(tiny_files()) | {"nested", "nested/dir"}
    info = client.get_paths_info("org/tiny", ["model.safetensors", "nested", "missing.bin"])
    assert [(i.path, type(i).__name__) for i in info] == [("model.safetensors", "RepoFile"),
                                                          ("nested", "RepoFolder")]
    assert info[0].lfs.sha256 == hashlib.sha256(tiny_files()["model.safetensors"]).hexdigest()
    assert client.model_info("org/tiny", files_metadata=True).sha == tiny.sha
    assert client.whoami()["name"] == "alice"


def test_head_carries_what_hf_hub_download_reads(tiny, endpoint, token):
    data = tiny_files()["model.safetensors"]
    head = requests.head(f"{endpoint}/org/tiny/resolve/main/model.safetensors",
                         headers={**auth(token), "Accept-Encoding": "identity"}, timeout=10)
    assert head.status_code == 200
    assert head.headers["X-Repo-Commit"] == tiny.sha
    assert head.headers["X-Linked-Etag"].strip('"') == hashlib.sha256(data).hexdigest()
    assert head.headers["X-Linked-Size"] == head.headers["Content-Length"] == str(len(data))
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.content == b""
    small = requests.head(f"{endpoint}/org/tiny/resolve/{tiny.sha}/nested/dir/extra.txt", headers=auth(token),
                          timeout=10)
    assert small.headers["ETag"].strip('"') == tiny.files["nested/dir/extra.txt"].git_sha1


RANGES = [
    ("bytes=10-19", 206, slice(10, 20)),
    ("bytes=1000000-", 206, slice(1000000, None)),
    ("bytes=-5", 206, slice(-5, None)),
    ("bytes=0-99999999999", 206, slice(0, None)),
    ("bytes=abc", 200, slice(None)),  # malformed: ignored, as RFC 9110 allows
    ("bytes=5-2", 200, slice(None)),
    ("bytes=0-1,5-6", 200, slice(None)),  # several ranges: the whole file
    ("items=0-5", 200, slice(None)),
]


def test_range_answers(tiny, endpoint, token):
    data = tiny_files()["model.safetensors"]
    for header, status, expected in RANGES:
        got = requests.get(f"{endpoint}/org/tiny/resolve/main/model.safetensors",
                           headers={**auth(token), "Range": header}, timeout=10)
        assert (got.status_code, got.content == data[expected]) == (status, True), header
        if status == 206:
            start = expected.start % len(data) if expected.start else 0
            assert got.headers["Content-Range"] == f"bytes {start}-{start + len(got.content) - 1}/{len(data)}"
    for header in ("bytes=999999999-", "bytes=-0", f"bytes={'9' * 40}-"):  # unsatisfiable: 416 and the size
        got = requests.get(f"{endpoint}/org/tiny/resolve/main/model.safetensors",
                           headers={**auth(token), "Range": header}, timeout=10)
        assert got.status_code == 416
        assert got.headers["Content-Range"] == f"bytes */{len(data)}"


def test_files_outside_the_installed_selection_are_entry_not_found(configured, hub, endpoint, token,
                                                                   session_reset):
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RemoteEntryNotFoundError, RevisionNotFoundError

    repo = hub.add_repo("org/gguf", gguf_files())
    install("org/gguf", include=["*Q4_K_M*"])
    missing = requests.head(f"{endpoint}/org/gguf/resolve/main/m-Q8_0.gguf", headers=auth(token), timeout=10)
    assert (missing.status_code, missing.headers["X-Error-Code"]) == (404, "EntryNotFound")
    assert missing.headers["X-Repo-Commit"] == repo.sha
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("org/gguf", "README.md", endpoint=endpoint, token=token, cache_dir="/nonexistent-ok")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("org/gguf", "m-Q4_K_M.gguf", revision="v9", endpoint=endpoint, token=token)
    listed = requests.get(f"{endpoint}/api/models/org/gguf/tree/main", headers=auth(token), timeout=10).json()
    assert [e["path"] for e in listed] == ["m-Q4_K_M.gguf"]


def test_a_repo_that_is_not_installed_is_repo_not_found(configured, endpoint, token, session_reset):
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError) as raised:
        hf_hub_download("org/nothing", "config.json", endpoint=endpoint, token=token)
    assert "not installed on this ModelHub" in str(raised.value)


def test_only_an_installed_variant_is_served(tiny, endpoint, token):
    for status in ("corrupt", "failed", "queued", "downloading", "not_downloaded"):
        ModelVariant.objects.filter(repo_id="org/tiny").update(status=status)
        got = requests.get(f"{endpoint}/org/tiny/resolve/main/config.json", headers=auth(token), timeout=10)
        assert (got.status_code, got.headers["X-Error-Code"]) == (404, "RepoNotFound"), status
        info = requests.get(f"{endpoint}/api/models/org/tiny", headers=auth(token), timeout=10)
        assert info.status_code == 404
    ModelVariant.objects.filter(repo_id="org/tiny").update(status="installed")
    assert requests.get(f"{endpoint}/org/tiny/resolve/main/config.json", headers=auth(token),
                        timeout=10).status_code == 200


def test_a_file_changed_since_it_was_verified_is_held_back_until_a_verification_decided(tiny, storage,
                                                                                         endpoint, token):
    import os

    from downloads import tasks
    from downloads.models import DownloadJob, JobKind, JobState

    url = f"{endpoint}/org/tiny/resolve/main/config.json"
    blob = (storage / "models--org--tiny" / "snapshots" / tiny.sha / "config.json").resolve()
    assert requests.get(url, headers=auth(token), timeout=10).status_code == 200  # cached as served
    os.utime(blob, ns=(blob.stat().st_atime_ns, blob.stat().st_mtime_ns + 10**9))  # touched: same bytes
    held = requests.get(url, headers=auth(token), timeout=10)
    assert held.status_code == 503 and "Retry-After" in held.headers
    verify = DownloadJob.objects.get(kind=JobKind.VERIFY, state=JobState.QUEUED)
    tasks.run_job(verify.pk)  # re-hashes the touched file: same bytes, new fingerprint in the manifest
    assert requests.get(url, headers=auth(token), timeout=10).content == tiny_files()["config.json"]

    blob.write_bytes(b'{"model_type": "LLAMA"}')  # same size, other bytes
    damaged = requests.get(url, headers=auth(token), timeout=10)
    assert damaged.status_code == 503 and b"LLAMA" not in damaged.content
    tasks.run_job(DownloadJob.objects.get(kind=JobKind.VERIFY, state=JobState.QUEUED).pk)
    assert ModelVariant.objects.get(repo_id="org/tiny").status == "corrupt"
    gone = requests.get(url, headers=auth(token), timeout=10)
    assert (gone.status_code, gone.headers["X-Error-Code"]) == (404, "RepoNotFound")
