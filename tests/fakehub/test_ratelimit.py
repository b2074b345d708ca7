"""The test Hub's rate-limit mode: the Hub's headers on every hub answer, 429 with Retry-After beyond
the quota, per bucket; the CDN origin is not limited."""

import time
import urllib.error
import urllib.request

from fakehub import FakeHub


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
