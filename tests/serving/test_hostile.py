"""Hostile requests: paths that climb out (`..`, encoded, absolute, NUL, backslash), malformed repo ids and
revisions, garbage bodies and cursors, a blob swapped for a link out of storage. Every answer is one of
the Hub's error shapes with its code, never a 500, and never a byte from outside storage."""

import http.client
import os
from urllib.parse import urlsplit

import pytest
import requests

from tests.serving.conftest import install, tiny_files

SECRET = b"root:x:0:0:outside-storage-secret\n"


@pytest.fixture
def tiny(configured, hub, tmp_path):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return repo


def raw(live_server, method: str, target: str, token: str, headers: dict | None = None, body: bytes = b""):
    """Sends the request line exactly as written: no client normalises `..` or re-encodes anything."""
    parts = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {"Authorization": f"Bearer {token}", **(headers or {})}.items():
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


UNSAFE = [
    ("/hub/org/tiny/resolve/main/../../../../etc/passwd", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/nested/../config.json", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main//etc/passwd", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/%2Fetc%2Fpasswd", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/nested%5C..%5C..%5Csecret.txt", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/config.json%00.txt", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/.git/config", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/" + "a" * 5000, "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/%ff%fe", "EntryNotFound"),
    ("/hub/org/tiny/resolve/main/nested/dir", "EntryNotFound"),  # a folder, not a file
    ("/hub/org/tiny/resolve/../../etc/passwd", "EntryNotFound"),  # the path is refused first
    ("/hub/org/tiny/resolve/%2e%2e/config.json", "RevisionNotFound"),
    ("/hub/org/tiny/resolve/" + "f" * 300 + "/config.json", "RevisionNotFound"),
    ("/hub/../../etc/resolve/main/passwd", None),  # no route of the Hub: a plain 404, as the Hub answers
    ("/hub/%2e%2e/tiny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/org--x/tiny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/org/ti%00ny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/" + "o" * 300 + "/tiny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/spaces/org/tiny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/datasets/org/tiny/resolve/main/config.json", "RepoNotFound"),
    ("/hub/api/models/../../etc/passwd", "RepoNotFound"),
    ("/hub/api/models/org/tiny/revision/..%2F..%2Fx", "RevisionNotFound"),
    ("/hub/api/models/org/tiny/tree/main/../..", "EntryNotFound"),
    ("/hub/api/models/org/tiny/tree/main/%2Fetc", "EntryNotFound"),
]


def test_unsafe_names_answer_the_hubs_error_shape(tiny, live_server, token):
    # One installed repo for all of them (a loop, not parametrize: each case would download it again).
    wrong = {}
    for target, code in UNSAFE:
        status, headers, body = raw(live_server, "GET", target, token)
        assert SECRET not in body and b"root:" not in body, target
        if (status, headers.get("X-Error-Code")) != (404, code):
            wrong[target[:80]] = (status, headers.get("X-Error-Code"), body[:200])
    assert wrong == {}


def test_malformed_range_headers_never_fail(tiny, live_server, token):
    data = tiny_files()["config.json"]
    for header in ("bytes=", "bytes=-", "bytes=--1", "bytes=1-2-3", "bytes=\u00e9-", "bytes=0-" + "9" * 5000,
                   "bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 50, "garbage", "bytes = 1 - 2"):
        status, headers, body = raw(live_server, "GET", "/hub/org/tiny/resolve/main/config.json", token,
                                    headers={"Range": header.encode("utf-8").decode("latin-1")})
        assert status in (200, 206, 416), (header[:40], status)
        if status != 416:
            assert body and body in data, header[:40]


def test_bad_bodies_and_cursors_are_400_bad_request(tiny, live_server, token):
    for body, ctype in ((b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                        (b"{not json", "application/json"), (b'{"paths": 5}', "application/json")):
        status, headers, _ = raw(live_server, "POST", "/hub/api/models/org/tiny/paths-info/main", token,
                                 headers={"Content-Type": ctype}, body=body)
        assert (status, headers.get("X-Error-Code")) == (400, "BadRequest")
    for cursor in ("%%%", "bm90LWEtbnVtYmVy", "LTU="):  # not base64, "not-a-number", "-5"
        target = f"/hub/api/models/org/tiny/tree/main?cursor={cursor}"
        status, headers, _ = raw(live_server, "GET", target, token)
        assert (status, headers.get("X-Error-Code")) == (400, "BadRequest")


def test_wrong_methods_are_405(tiny, live_server, token):
    assert raw(live_server, "DELETE", "/hub/org/tiny/resolve/main/config.json", token)[0] == 405
    assert raw(live_server, "POST", "/hub/api/models/org/tiny/tree/main", token)[0] == 405
    assert raw(live_server, "GET", "/hub/api/models/org/tiny/paths-info/main", token)[0] == 405


def test_a_blob_swapped_for_a_link_out_of_storage_is_not_served(tiny, storage, tmp_path, live_server, token):
    """Same size and mtime as the verified file, so only the "inside storage" check can stop it."""
    snapshot = storage / "models--org--tiny" / "snapshots" / tiny.sha
    blob = (snapshot / "config.json").resolve()
    outside = tmp_path / "outside.json"
    outside.write_bytes(SECRET[: blob.stat().st_size].ljust(blob.stat().st_size, b"#"))
    st = blob.stat()
    os.utime(outside, ns=(st.st_atime_ns, st.st_mtime_ns))
    blob.unlink()
    blob.symlink_to(outside)
    status, headers, body = raw(live_server, "GET", "/hub/org/tiny/resolve/main/config.json", token)
    assert (status, headers.get("X-Error-Code")) == (404, "EntryNotFound")
    assert b"root:" not in body


def test_nothing_about_installed_repos_leaks_without_a_token(tiny, endpoint):
    for url in (f"{endpoint}/api/models/org/tiny", f"{endpoint}/api/models/org/tiny/tree/main",
                f"{endpoint}/org/tiny/resolve/main/config.json", f"{endpoint}/api/models/org/nothing"):
        answer = requests.get(url, timeout=10)
        assert (answer.status_code, answer.headers["X-Error-Code"]) == (401, "GatedRepo")
        assert "org/tiny" not in answer.text
