"""The test Hub's rate-limit mode: the Hub's headers on every hub answer, 429 with Retry-After beyond
the quota, per bucket; the CDN origin is not limited; ``python -m fakehub --rate-limit-...`` sets it up."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from fakehub import FakeHub
from tests.fakehub.test_server import ROOT


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            resp.read()
            return resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def test_the_quota_is_counted_down_and_enforced_per_bucket(hub):
    hub.add_repo("org/m", {"a.txt": b"a"})
    hub.rate_limit(resolvers=(3, 60.0), api=(10, 60.0))
    file_url = f"{hub.url}/org/m/resolve/main/a.txt"

    answers = [get(file_url) for _ in range(4)]

    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert answers[0][1]["RateLimit"].startswith('"resolvers";r=2;t=')
    assert answers[0][1]["RateLimit-Policy"] == '"fixed window";"resolvers";q=3;w=60'
    status, headers = answers[3]
    assert headers["RateLimit"].startswith('"resolvers";r=0;t=')
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert hub.rate_limited("resolvers") == 1
    status, headers = get(f"{hub.url}/api/models/org/m")  # another bucket, still open
    assert status == 200 and headers["RateLimit"].startswith('"api";r=9;')


def test_the_next_window_opens_after_the_last(hub):
    hub.add_repo("org/m", {"a.txt": b"a"})
    hub.rate_limit(resolvers=(1, 0.3))
    file_url = f"{hub.url}/org/m/resolve/main/a.txt"
    assert get(file_url)[0] == 200
    assert get(file_url)[0] == 429
    time.sleep(0.35)
    assert get(file_url)[0] == 200


def test_given_header_lines_are_sent_as_they_are_and_nothing_is_enforced(hub):
    hub.add_repo("org/m", {"a.txt": b"a"})
    hub.rate_limit(headers=[("RateLimit", "garbage;;")])
    for _ in range(3):
        status, headers = get(f"{hub.url}/org/m/resolve/main/a.txt")
        assert status == 200 and headers["RateLimit"] == "garbage;;"
    hub.rate_limit()
    assert get(f"{hub.url}/org/m/resolve/main/a.txt")[1].get("RateLimit") is None


def test_the_cdn_origin_is_not_limited(hf):
    with FakeHub(use_cdn=True) as hub:
        hub.add_repo("org/m", {"w.safetensors": b"\0" * 5000})
        hub.rate_limit(resolvers=(100, 60.0))
        assert get(f"{hub.url}/org/m/resolve/main/w.safetensors")[0] == 200  # followed to the CDN
        cdn = [r for r in hub.requests if r.server == "cdn"]
        assert cdn and cdn[0].status == 200
        hub.rate_limit(resolvers=(1, 60.0))
        status, _ = get(f"{hub.url}/org/m/resolve/main/w.safetensors")
        assert status == 200  # the hub's answer (302) was the one counted, the CDN's was not
        assert get(f"{hub.url}/org/m/resolve/main/w.safetensors")[0] == 429


def test_the_cli_flags_turn_the_rate_limit_mode_on(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakehub", "--port", "0", "--repo", f"org/m={tmp_path}",
         "--rate-limit-resolvers", "2/60", "--rate-limit-api", "5/60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
        url = line.split()[1]
        answers = [get(f"{url}/org/m/resolve/main/a.txt") for _ in range(3)]
        assert [status for status, _ in answers] == [200, 200, 429]
        assert answers[0][1]["RateLimit"].startswith('"resolvers";r=1;t=')
        assert answers[0][1]["RateLimit-Policy"] == '"fixed window";"resolvers";q=2;w=60'
        assert 1 <= int(answers[2][1]["Retry-After"]) <= 60
        status, headers = get(f"{url}/api/models/org/m")
        assert status == 200 and headers["RateLimit"].startswith('"api";r=4;')
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
