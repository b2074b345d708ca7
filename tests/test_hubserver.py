"""Tests of tests/hubserver.py, driven through the real huggingface_hub client to prove compatibility.

Run without Django:  .venv/bin/python -m pytest tests/test_hubserver.py -p no:django
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from fakehub.server import FakeHub, git_blob_sha1
from tests.modelfiles import pseudo_random_bytes

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _blob(n: int, seed: int) -> bytes:
    return pseudo_random_bytes(n, seed)


FILES: dict[str, bytes] = {
    "config.json": b'{"model_type": "llama", "hidden_size": 8}',
    "README.md": b"# tiny\n",
    "model.safetensors": _blob(20_000, 1),
    "nested/deeper/weights.gguf": _blob(3_000, 2),
    "nested/tokenizer.json": b'{"version": "1.0"}',
    "nested/big.txt": _blob(1_500, 3),  # >= 1024 bytes => LFS by size
}


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


def _start(**kwargs) -> FakeHub:
    return FakeHub(**kwargs).start()


@pytest.fixture
def hub(hf):
    h = _start(tree_page_size=4)
    yield h
    h.stop()
    assert not h.server_errors, h.server_errors


@pytest.fixture
def cdn_hub(hf):
    h = _start(use_cdn=True)
    yield h
    h.stop()
    assert not h.server_errors, h.server_errors


def _api(hf, hub, token=False):
    return hf.HfApi(endpoint=hub.url, token=token)


# ------------------------------------------------------------------------------------------ metadata


def test_repo_info_and_files_metadata(hf, hub):
    repo = hub.add_repo("org/tiny", FILES)
    api = _api(hf, hub)
    assert api.repo_info("org/tiny").sha == repo.commit
    assert len(repo.commit) == 40

    info = api.model_info("org/tiny", files_metadata=True)
    assert info.id == "org/tiny" and info.sha == repo.commit and info.gated is False and info.private is False
    sib = {s.rfilename: s for s in info.siblings}
    assert set(sib) == set(FILES)
    st = sib["model.safetensors"]
    assert st.size == 20_000
    assert st.lfs.sha256 == hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    cfg = sib["config.json"]
    assert (
        cfg.lfs is None
        and cfg.blob_id == git_blob_sha1(FILES["config.json"]) == repo.files["config.json"].git_sha1
    )

    # entries exposed on the Repo object
    f = repo.files["nested/deeper/weights.gguf"]
    assert f.is_lfs and f.size == 3000 and f.sha256 == hashlib.sha256(FILES[f.path]).hexdigest()
    assert not repo.files["nested/tokenizer.json"].is_lfs and repo.files["nested/big.txt"].is_lfs

    ds = hub.add_repo("org/data", {"data/train.csv": b"a,b\n1,2\n"}, repo_type="dataset")
    dinfo = api.repo_info("org/data", repo_type="dataset", files_metadata=True)
    assert dinfo.sha == ds.commit and [s.rfilename for s in dinfo.siblings] == ["data/train.csv"]
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        api.repo_info("org/data")  # it is a dataset, not a model


def test_list_repo_tree_paginates(hf, hub):
    files = {f"shards/part-{i:02d}.bin": _blob(100 + i, i) for i in range(9)}
    files.update(FILES)
    hub.add_repo("org/many", files)
    api = _api(hf, hub)
    hub.reset_log()
    entries = list(api.list_repo_tree("org/many", recursive=True))
    tree_calls = [r for r in hub.requests if "/tree/" in r.path]
    assert len(tree_calls) > 2  # page size 4: more than two pages were followed via the Link header

    got = {e.path: e for e in entries if isinstance(e, hf.hf_api.RepoFile)}
    assert set(got) == set(files)
    for path, data in files.items():
        assert got[path].size == len(data)
        if got[path].lfs is not None:
            assert got[path].lfs.sha256 == hashlib.sha256(data).hexdigest()
        else:
            assert got[path].blob_id == git_blob_sha1(data)
    folders = {e.path for e in entries if isinstance(e, hf.hf_api.RepoFolder)}
    assert folders == {"shards", "nested", "nested/deeper"}

    top = {e.path for e in api.list_repo_tree("org/many")}
    assert top == {"shards", "nested", "config.json", "README.md", "model.safetensors"}
    sub = {e.path for e in api.list_repo_tree("org/many", "nested")}
    assert sub == {"nested/deeper", "nested/tokenizer.json", "nested/big.txt"}
    with pytest.raises(hf.errors.RemoteEntryNotFoundError):
        list(api.list_repo_tree("org/many", "nope"))

    infos = api.get_paths_info("org/many", ["config.json", "nested", "missing.txt"], expand=True)
    assert {i.path for i in infos} == {"config.json", "nested"}
    assert all(i.last_commit is not None for i in infos)


# ------------------------------------------------------------------------------------------ downloads


def test_download_snapshot_scan_and_verify(hf, hub, tmp_path):
    repo = hub.add_repo("org/tiny", FILES)
    cache = tmp_path / "cache"
    p = hf.hf_hub_download(
        "org/tiny", "nested/deeper/weights.gguf", cache_dir=cache, endpoint=hub.url, token=False
    )
    assert pathlib.Path(p).read_bytes() == FILES["nested/deeper/weights.gguf"]
    assert f"snapshots/{repo.commit}/nested/deeper/weights.gguf" in p

    snap = pathlib.Path(hf.snapshot_download("org/tiny", cache_dir=cache, endpoint=hub.url, token=False))
    assert snap.name == repo.commit
    for path, data in FILES.items():
        assert (snap / path).read_bytes() == data
    blobs = {b.name for b in (cache / "models--org--tiny" / "blobs").iterdir()}
    assert blobs == {f.etag for f in repo.files.values()}
    assert (cache / "models--org--tiny" / "refs" / "main").read_text() == repo.commit

    report = hf.scan_cache_dir(cache)
    assert report.warnings == []
    (cached,) = report.repos
    assert cached.repo_id == "org/tiny" and cached.nb_files == len(FILES)

    result = _api(hf, hub).verify_repo_checksums("org/tiny", cache_dir=cache)
    assert result.checked_count == len(FILES)
    assert result.mismatches == [] and result.missing_paths == [] and result.extra_paths == []

    # datasets, and paths that need URL quoting
    ds = hub.add_repo(
        "org/data", {"data/train split.csv": b"a,b\n", "odd/a+b%#.txt": b"odd"}, repo_type="dataset"
    )
    dsnap = pathlib.Path(
        hf.snapshot_download("org/data", repo_type="dataset", cache_dir=cache, endpoint=hub.url, token=False)
    )
    assert dsnap.name == ds.commit and dsnap.parent.parent.name == "datasets--org--data"
    assert (dsnap / "data/train split.csv").read_bytes() == b"a,b\n"
    assert (dsnap / "odd/a+b%#.txt").read_bytes() == b"odd"


def test_revisions_tags_and_new_commits(hf, hub, tmp_path):
    first = hub.add_repo("org/rev", {"a.txt": b"one", "w.bin": b"w1"}, tags={"v1.0": "main"})
    second = hub.add_commit("org/rev", {"a.txt": b"two"})
    pr = hub.add_commit("org/rev", {"a.txt": b"pr"}, branch="refs/pr/1")
    assert len({first.commit, second.commit, pr.commit}) == 3
    assert second.parent == first.commit and set(second.files) == {"a.txt", "w.bin"}
    api = _api(hf, hub)
    assert api.repo_info("org/rev").sha == second.commit
    assert api.repo_info("org/rev", revision="v1.0").sha == first.commit
    assert api.repo_info("org/rev", revision=first.commit).sha == first.commit
    assert api.repo_info("org/rev", revision="refs/pr/1").sha == pr.commit  # quoted as refs%2Fpr%2F1

    def get(rev):
        path = hf.hf_hub_download(
            "org/rev", "a.txt", revision=rev, cache_dir=tmp_path / "c", endpoint=hub.url, token=False
        )
        return pathlib.Path(path).read_bytes()

    assert get("main") == b"two"
    assert get("v1.0") == b"one"
    assert get(first.commit) == b"one"
    assert get("refs/pr/1") == b"pr"
    refs = api.list_repo_refs("org/rev", include_pull_requests=True)
    assert {t.name: t.target_commit for t in refs.tags} == {"v1.0": first.commit}
    assert [c.commit_id for c in api.list_repo_commits("org/rev")] == [second.commit, first.commit]


def test_head_headers_and_ranges(hf, hub):
    repo = hub.add_repo("org/tiny", FILES)
    data = FILES["model.safetensors"]
    url = hub.resolve_url("org/tiny", "model.safetensors")
    h = requests.head(url, timeout=5)
    assert h.status_code == 200
    assert h.headers["X-Repo-Commit"] == repo.commit
    assert h.headers["X-Linked-Etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert h.headers["X-Linked-Size"] == str(len(data)) == h.headers["Content-Length"]
    assert h.headers["Accept-Ranges"] == "bytes"
    assert "X-Xet-Hash" not in h.headers

    meta = hf.get_hf_file_metadata(hf.hf_hub_url("org/tiny", "config.json", endpoint=hub.url), token=False)
    assert meta.etag == git_blob_sha1(FILES["config.json"]) and meta.commit_hash == repo.commit
    assert meta.size == len(FILES["config.json"])

    r = requests.get(url, headers={"Range": "bytes=1000-"}, timeout=5)
    assert r.status_code == 206 and r.content == data[1000:]
    assert r.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    r = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=5)
    assert r.status_code == 206 and r.content == data[10:20] and r.headers["Content-Length"] == "10"
    r = requests.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=5)
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    rec = hub.file_requests("model.safetensors", method="GET")
    assert [x.range_start for x in rec] == [1000, 10, len(data)]
    assert [x.status for x in rec] == [206, 206, 416]


def test_big_path_file(hf, hub, tmp_path):
    big = tmp_path / "big.gguf"
    payload = _blob(6 * 1024 * 1024 + 123, 7)
    big.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    small = tmp_path / "small.json"
    small.write_bytes(b'{"x": 1}')
    repo = hub.add_repo("org/big", {"weights/big.gguf": big, "small.json": small})
    assert repo.files["weights/big.gguf"].sha256 == digest
    assert repo.files["small.json"].git_sha1 == git_blob_sha1(b'{"x": 1}')
    # precomputed sha256: not re-hashed
    fake = "ab" * 32
    assert hub.add_repo("org/big2", {"x.bin": big}, sha256={"x.bin": fake}).files["x.bin"].sha256 == fake

    p = hf.hf_hub_download(
        "org/big", "weights/big.gguf", cache_dir=tmp_path / "c", endpoint=hub.url, token=False
    )
    assert hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest() == digest
    assert hub.bytes_sent("weights/big.gguf") == len(payload)
    r = requests.get(
        hub.resolve_url("org/big", "weights/big.gguf"), headers={"Range": "bytes=5000000-5000099"}, timeout=5
    )
    assert r.status_code == 206 and r.content == payload[5_000_000:5_000_100]


# ------------------------------------------------------------------------------------------ errors and auth


def test_error_classes(hf, hub, tmp_path):
    hub.add_repo("org/tiny", FILES)
    hub.add_repo("org/secret", {"a.txt": b"x"}, private=True)
    api = _api(hf, hub)
    kw = {"cache_dir": tmp_path / "c", "endpoint": hub.url, "token": False}
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        api.repo_info("org/nope")
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.hf_hub_download("org/nope", "config.json", **kw)
    with pytest.raises(hf.errors.RevisionNotFoundError):
        api.repo_info("org/tiny", revision="nope")
    with pytest.raises(hf.errors.RevisionNotFoundError):
        hf.hf_hub_download("org/tiny", "config.json", revision="nope", **kw)
    with pytest.raises(hf.errors.RemoteEntryNotFoundError):
        hf.hf_hub_download("org/tiny", "missing.txt", **kw)
    with pytest.raises(hf.errors.RepositoryNotFoundError) as exc:
        api.repo_info("org/secret")
    assert exc.value.response.status_code == 401
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.hf_hub_download("org/secret", "a.txt", **kw)
    hub.add_token("tok-owner", user="org")
    assert api.repo_info("org/secret", token="tok-owner").sha

    r = requests.get(f"{hub.url}/api/agent-harnesses", timeout=5)
    assert r.status_code == 404 and r.json() == {"error": "Not Found"}
    r = requests.get(hub.resolve_url("org/tiny", "missing.txt"), timeout=5)
    assert r.headers["X-Error-Code"] == "EntryNotFound" and r.json()["error"]


def test_gated_repo(hf, hub, tmp_path):
    hub.add_repo("org/gated", {"model.safetensors": _blob(2048, 9), "config.json": b"{}"}, gated="manual")
    hub.add_token("tok-yes", user="alice", can_access=["org/gated"])
    hub.add_token("tok-no", user="bob")
    api = _api(hf, hub)
    assert api.repo_info("org/gated").gated == "manual"  # readable without a token, like the real Hub

    kw = {"cache_dir": tmp_path / "c", "endpoint": hub.url}
    with pytest.raises(hf.errors.GatedRepoError) as exc:
        hf.hf_hub_download("org/gated", "config.json", token=False, **kw)
    assert exc.value.response.status_code == 401
    with pytest.raises(hf.errors.GatedRepoError) as exc:
        hf.hf_hub_download("org/gated", "config.json", token="tok-no", **kw)
    assert exc.value.response.status_code == 403
    assert "not in the authorized list" in str(exc.value)
    with pytest.raises(hf.errors.GatedRepoError):
        list(api.list_repo_tree("org/gated", token="tok-no"))
    p = hf.snapshot_download("org/gated", token="tok-yes", **kw)
    assert (pathlib.Path(p) / "config.json").read_bytes() == b"{}"


def test_invalid_token_and_whoami(hf, hub, tmp_path):
    hub.add_repo("org/tiny", FILES)
    hub.add_token("tok-good", user="carol", role="write")
    api = hf.HfApi(endpoint=hub.url)
    me = api.whoami(token="tok-good")
    assert me["name"] == "carol" and me["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(hf.errors.HfHubHTTPError) as exc:
        api.whoami(token="tok-bad")
    assert exc.value.response.status_code == 401

    r = requests.get(f"{hub.url}/api/models/org/tiny", headers={"Authorization": "Bearer tok-bad"}, timeout=5)
    assert r.status_code == 401 and "X-Error-Code" not in r.headers
    assert r.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    with pytest.raises(hf.errors.HfHubHTTPError) as exc:
        hf.hf_hub_download(
            "org/tiny", "config.json", cache_dir=tmp_path / "c", endpoint=hub.url, token="tok-bad"
        )
    assert exc.value.response.status_code == 401
    assert not isinstance(exc.value, hf.errors.RepositoryNotFoundError)


def test_cdn_redirect_drops_authorization(hf, cdn_hub, tmp_path):
    hub = cdn_hub
    hub.add_repo("org/tiny", FILES)
    hub.add_token("tok", can_access=["org/tiny"])
    assert hub.cdn_url.startswith("http://localhost:") and hub.cdn_url != hub.url
    r = requests.head(hub.resolve_url("org/tiny", "model.safetensors"), timeout=5)
    assert r.status_code == 302 and r.headers["Location"].startswith(hub.cdn_url)
    assert r.headers["X-Linked-Size"] == "20000" and "X-Repo-Commit" in r.headers
    hub.reset_log()

    snap = pathlib.Path(
        hf.snapshot_download("org/tiny", cache_dir=tmp_path / "c", endpoint=hub.url, token="tok")
    )
    for path, data in FILES.items():
        assert (snap / path).read_bytes() == data
    cdn = [r for r in hub.requests if r.server == "cdn"]
    assert {r.file_path for r in cdn} == {p for p, f in hub.get_repo("org/tiny").files.items() if f.is_lfs}
    assert all(r.authorization is None for r in cdn) and not hub.cdn_saw_authorization
    hub_files = [r for r in hub.requests if r.server == "hub" and r.file_path]
    assert hub_files and all(r.authorization == "Bearer tok" for r in hub_files)
    assert hub.bytes_sent("model.safetensors") == 20_000


# ------------------------------------------------------------------------------------------ faults


def test_fail_next_then_success(hf, hub, tmp_path):
    hub.add_repo("org/tiny", FILES)
    kw = {"cache_dir": tmp_path / "c", "endpoint": hub.url, "token": False}
    hub.fail_next("*.safetensors", 500)
    with pytest.raises(hf.errors.HfHubHTTPError) as exc:
        hf.hf_hub_download("org/tiny", "model.safetensors", **kw)
    assert exc.value.response.status_code == 500
    p = hf.hf_hub_download("org/tiny", "model.safetensors", **kw)
    assert pathlib.Path(p).read_bytes() == FILES["model.safetensors"]
    assert [r.status for r in hub.file_requests("model.safetensors", method="GET")] == [500, 200]

    # 429 + Retry-After is retried by huggingface_hub itself (it waits Retry-After + 1 s)
    hub.fail_next("config.json", 429, retry_after=0)
    p = hf.hf_hub_download("org/tiny", "config.json", **kw)
    assert pathlib.Path(p).read_bytes() == FILES["config.json"]
    recs = hub.file_requests("config.json", method="GET")
    assert [r.status for r in recs] == [429, 200]
    r = requests.get(hub.resolve_url("org/tiny", "README.md"), timeout=5)
    assert r.status_code == 200
    hub.fail_next("README.md", 503, retry_after=7, methods=("GET", "HEAD"))
    r = requests.head(hub.resolve_url("org/tiny", "README.md"), timeout=5)
    assert r.status_code == 503 and r.headers["Retry-After"] == "7" and r.headers["X-Error-Message"]


def test_drop_after_is_resumed_with_range(hf, hub, tmp_path):
    # huggingface_hub reads the body in DOWNLOAD_CHUNK_SIZE (10 MiB) pieces and only counts whole pieces as
    # received, so its in-call retry resumes at a multiple of that size (a drop inside the first 10 MiB
    # restarts from byte 0 without a Range header).
    chunk = hf.constants.DOWNLOAD_CHUNK_SIZE
    data = _blob(chunk + 2 * 1024 * 1024, 11)
    hub.add_repo("org/drop", {"w.bin": data})
    hub.drop_after("*.bin", chunk + 1024 * 1024)
    p = hf.hf_hub_download("org/drop", "w.bin", cache_dir=tmp_path / "c", endpoint=hub.url, token=False)
    assert pathlib.Path(p).read_bytes() == data
    gets = hub.file_requests("w.bin", method="GET")
    assert [(g.status, g.range_start, g.bytes_sent) for g in gets] == [
        (200, None, chunk + 1024 * 1024),
        (206, chunk, len(data) - chunk),
    ]
    assert hub.bytes_sent("w.bin") == chunk + 1024 * 1024 + len(data) - chunk


def test_corrupt_next(hf, hub):
    data = _blob(10_000, 12)
    hub.add_repo("org/c", {"w.bin": data})
    hub.corrupt_next("w.bin")
    url = hub.resolve_url("org/c", "w.bin")
    bad = requests.get(url, timeout=5).content
    assert len(bad) == len(data) and bad != data and bad[4096:] == data[4096:]
    assert requests.get(url, timeout=5).content == data
    hub.corrupt_next("w.bin")
    part = requests.get(url, headers={"Range": "bytes=9000-"}, timeout=5).content
    assert len(part) == 1000 and part != data[9000:]


def test_throttle_and_stall(hf, hub):
    data = _blob(96 * 1024, 13)
    hub.add_repo("org/slow", {"w.bin": data, "fast.txt": b"fast"})
    url = hub.resolve_url("org/slow", "w.bin")
    hub.throttle(128 * 1024, "*.bin")
    t0 = time.monotonic()
    assert requests.get(url, timeout=10).content == data
    elapsed = time.monotonic() - t0
    assert 0.5 < elapsed < 5  # ~0.75 s at 128 KiB/s
    t0 = time.monotonic()
    assert requests.get(hub.resolve_url("org/slow", "fast.txt"), timeout=5).content == b"fast"
    assert time.monotonic() - t0 < 0.4  # the pattern does not match
    hub.throttle(None)
    t0 = time.monotonic()
    requests.get(url, timeout=5)
    assert time.monotonic() - t0 < 0.4

    hub.stall("w.bin", 0.5)
    t0 = time.monotonic()
    with requests.get(url, timeout=5, stream=True) as r:
        assert r.status_code == 200  # headers arrive before the stall
        t_headers = time.monotonic() - t0
        assert r.content == data
    assert t_headers < 0.4 and time.monotonic() - t0 >= 0.45


def test_down_and_clear_faults(hf, hub):
    hub.add_repo("org/tiny", FILES)
    hub.down = True
    r = requests.get(f"{hub.url}/api/models/org/tiny", timeout=5)
    assert r.status_code == 503 and r.headers["X-Error-Message"]
    hub.down = False
    hub.fail_next("*", 500, count=5)
    hub.drop_after("*", 10)
    hub.clear_faults()
    assert (
        requests.get(hub.resolve_url("org/tiny", "model.safetensors"), timeout=5).content
        == FILES["model.safetensors"]
    )


def test_stop_closes_inflight_connections(hf):
    hub = _start()
    hub.add_repo("org/s", {"w.bin": _blob(50_000, 14)})
    hub.stall("w.bin", 30)
    errors = []

    def fetch():
        try:
            requests.get(hub.resolve_url("org/s", "w.bin"), timeout=20).content  # noqa: B018
        except requests.RequestException as e:
            errors.append(e)

    t = threading.Thread(target=fetch)
    t.start()
    deadline = time.monotonic() + 5
    while not hub.file_requests("w.bin") and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    t0 = time.monotonic()
    hub.stop()
    t.join(5)
    assert not t.is_alive() and errors
    assert time.monotonic() - t0 < 3
    assert not hub.server_errors


def test_cli(tmp_path):
    d = tmp_path / "repo"
    (d / "sub").mkdir(parents=True)
    (d / "config.json").write_bytes(b"{}")
    (d / "sub" / "w.safetensors").write_bytes(_blob(5000, 15))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fakehub",
            "--port",
            "0",
            "--repo",
            f"org/cli={d}",
            "--throttle",
            "10000000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split()[1]
        r = requests.get(f"{url}/org/cli/resolve/main/sub/w.safetensors", timeout=5)
        assert r.status_code == 200 and r.content == (d / "sub" / "w.safetensors").read_bytes()
        tree = requests.get(f"{url}/api/models/org/cli/tree/main?recursive=true", timeout=5).json()
        assert {e["path"] for e in tree} == {"config.json", "sub", "sub/w.safetensors"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
