"""FakeHub as a server and a process: stop() ends requests in flight; ``python -m fakehub`` serves a
folder."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import requests

from fakehub import FakeHub
from tests.fakehub.samples import blob

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the project folder, so that `-m fakehub` imports


def test_stop_closes_inflight_connections(hf):
    hub = FakeHub().start()
    hub.add_repo("org/s", {"w.bin": blob(50_000, 14)})
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
    (d / "sub" / "w.safetensors").write_bytes(blob(5000, 15))
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
