"""Rate-limit manners end to end: a repo of thousands of files downloads under the test Hub's quota
with (almost) no 429s, a 429 is waited out as the Hub asks without failing the job, and malformed
rate-limit headers change nothing."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from downloads.models import JobState
from engine.hub import quota
from tests.jobs import run_download

FILES = 2000


@pytest.fixture
def paced(configured, hub):
    quota.forget()
    yield hub
    quota.forget()


def test_a_repo_of_thousands_of_files_stays_within_the_quota(paced):
    paced.add_repo("org/many", {f"data/part-{i:04d}.txt": f"row {i}\n".encode() for i in range(FILES)})
    # 600 file requests per 2 s: the job needs four windows, and must pace itself into them
    paced.rate_limit(resolvers=(600, 2.0), api=(100, 2.0))

    job = run_download("org/many", kind="files")

    assert job.state == JobState.SUCCEEDED, job.error_message
    assert job.files_done == FILES
    gets = [r for r in paced.requests if r.method == "GET" and "/resolve/" in r.path]
    assert len([r for r in gets if r.status == 200]) == FILES
    # It slowed down and waited for the windows to reset instead of running into the quota (without
    # pacing, every file thread meets a 429 in every window: a dozen here).
    assert quota.pacer_for(f"{paced.url}/org/many/resolve/main/x").waited > 0
    assert paced.rate_limited() <= 2, paced.rate_limited()


def test_429s_with_retry_after_are_waited_out_without_failing_the_job(paced, settings):
    paced.add_repo("org/busy", {"config.json": b"{}", "weights.bin": b"w" * 10_000})
    settings.MODELHUB_RETRIES = 2
    # more refusals in a row than the retry budget: as rate limits, they do not count against it
    paced.fail_next("weights.bin", 429, count=6, retry_after=0)

    job = run_download("org/busy", kind="files")

    assert job.state == JobState.SUCCEEDED, job.error_message
    refused = [r for r in paced.file_requests("weights.bin", method="GET") if r.status == 429]
    assert len(refused) == 6
    assert any("rate limit" in e.message for e in job.events.filter(kind="retry"))


def test_a_server_error_still_spends_the_retry_budget(paced, settings):
    paced.add_repo("org/broken", {"weights.bin": b"w" * 10_000})
    settings.MODELHUB_RETRIES = 2
    paced.fail_next("weights.bin", 503, count=6, retry_after=0)

    job = run_download("org/broken", kind="files")

    assert job.state == JobState.FAILED
    assert job.error_code == "server_error"


@pytest.mark.parametrize("header", [
    ("RateLimit", '"resolvers";r=0;t=99999999999'),  # beyond any window
    ("RateLimit", '"resolvers";r=-1;t=5'),
    ("RateLimit", "r=0;t=30"),                        # no bucket name
    ("RateLimit", '"resolvers";r=0;t=3' + ";x" * 2000),  # far too long
    ("Retry-After", "nan"),
])
def test_malformed_rate_limit_headers_are_ignored(paced, header):
    paced.add_repo("org/odd", {f"f{i}.txt": b"x" for i in range(20)})
    paced.rate_limit(headers=[header, ("RateLimit-Policy", '"fixed window";"resolvers";q=0;w=1e9')])

    job = run_download("org/odd", kind="files")

    assert job.state == JobState.SUCCEEDED, job.error_message
    assert all(p.waited == 0 for p in quota._pacers.values())


def test_a_job_held_by_the_rate_limit_says_why_once(paced, admin_client):
    paced.add_repo("org/quota", {f"f{i}.txt": f"file {i}".encode() for i in range(10)})
    # 10 file requests per 3 s: about 6 go at once, then the reserve holds the rest for ~3 s, the next
    # window: one stretch of waiting, which every file thread meets
    paced.rate_limit(resolvers=(10, 3.0))

    job = run_download("org/quota", kind="files")

    assert job.state == JobState.SUCCEEDED, job.error_message
    waits = [e.message for e in job.events.filter(kind="rate_limit")]
    assert len(waits) == 1, waits
    assert re.fullmatch(r"Waiting for the Hub's rate limit: \d+ file requests left in this window"
                        r"( \(kept in reserve\), it resets in \d+ s"
                        r"|, it resets in \d+ s; spreading them out until then)", waits[0]), waits[0]
    # where a person looks when a job seems stuck
    page = admin_client.get(reverse("admin:downloads_downloadjob_change", args=[job.pk])).content.decode()
    assert escape(waits[0]) in page


def test_a_job_without_a_rate_limit_has_no_such_event(paced):
    paced.add_repo("org/free", {f"f{i}.txt": f"file {i}".encode() for i in range(10)})

    job = run_download("org/free", kind="files")

    assert job.state == JobState.SUCCEEDED, job.error_message
    assert not job.events.filter(kind="rate_limit").exists()
