"""FakeHub's file routes (downloads, HEAD headers, ranges, files on disk, the CDN origin),
driven through the real huggingface_hub client to prove compatibility."""

from __future__ import annotations

import hashlib
import pathlib

import requests

from fakehub import git_blob_sha1
from tests.fakehub.samples import FILES, blob


def test_download_snapshot_scan_and_verify(hf, hub, api, tmp_path):
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

    result = api.verify_repo_checksums("org/tiny", cache_dir=cache)
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
    payload = blob(6 * 1024 * 1024 + 123, 7)
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
