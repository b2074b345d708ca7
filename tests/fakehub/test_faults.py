"""FakeHub's fault injection (failures, drops, corruption, throttling, stalls, down),
driven through the real huggingface_hub client to prove compatibility."""

from __future__ import annotations

import pathlib
import time

import pytest
import requests

from tests.fakehub.samples import FILES, blob


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
    data = blob(chunk + 2 * 1024 * 1024, 11)
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
    data = blob(10_000, 12)
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
    data = blob(96 * 1024, 13)
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


def test_a_throttled_body_keeps_its_pace_after_the_reader_pauses(hub):
    """No burst of the backlog: a paused reader (a loaded machine) must not get the rest of a "slow"
    file at once. The Ctrl-C test relies on a throttled download still running after it has seen the
    first megabyte, whatever held either process up."""
    data = bytes(16_000_000)
    hub.add_repo("org/paced", {"w.bin": data})
    hub.throttle(8_000_000)  # ~2 s for the whole file
    with requests.get(hub.resolve_url("org/paced", "w.bin"), timeout=30, stream=True) as r:
        first = r.raw.read(1_000_000)
        time.sleep(2.5)  # longer than the whole file takes: catching up would send the rest at once
        t0 = time.monotonic()
        rest = r.raw.read()
        elapsed = time.monotonic() - t0
    assert len(first + rest) == len(data)
    # What the socket buffers held arrives at once (at most ~10 MB on Linux); the rest at the pace.
    assert elapsed > 0.3, f"the rest came in a burst after the pause ({elapsed:.2f} s)"


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
