"""A hostile Hub that never ends (pagination, redirect loops), redirects out of http(s), trickles or
lies about a body's length: each ends the job with a clear code, and nothing outside storage is touched.

Each test asserts the job's error code and calls `untouched()` (see conftest.py).
"""

import hashlib
import os

import pytest

from downloads.models import JobState
from fakehub.hostile import trickle
from tests.engine.hub.world import REPO, assert_nothing_written, run

pytestmark = pytest.mark.django_db


# --- answers without end, redirects out of http(s) ----------------------------------------------
def test_endless_pagination_on_the_endpoint_is_a_protocol_error(evil, storage, untouched):
    evil.repo(REPO, files={"config.json": b"{}"},
              tree_link=f"{evil.url}/api/models/{REPO}/tree/{'a' * 40}?cursor=same")
    job = run()
    assert job.error_code == "protocol_error"
    assert "without end" in job.error_message
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


# --- slow and lying bodies ------------------------------------------------------------------------------
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
