"""Metadata calls under the Hub's rate limit: paced by its headers, and a 429 waited out as it asks
without spending the retry budget."""

import urllib.error
import urllib.request

import pytest

from engine.hub import HubClient, quota
from engine.retrying import Backoff


@pytest.fixture
def limited(hub):
    quota.forget()
    hub.commit = hub.add_repo("org/listed", {f"f{i:03d}.txt": b"x" for i in range(120)}).sha  # 3 pages
    yield hub
    quota.forget()


def test_metadata_calls_slow_down_instead_of_running_into_the_quota(limited):
    limited.rate_limit(api=(2, 1.0))  # repo info and three pages need two windows at least

    snap = HubClient(limited.url, None).snapshot("org/listed", "model", "main")

    assert len(snap.files) == 120
    assert limited.rate_limited("api") == 0
    assert quota.pacer_for(f"{limited.url}/api/models/org/listed").waited > 0


def test_a_429_on_a_metadata_call_is_waited_out_without_spending_retries(limited):
    limited.rate_limit(api=(1, 1.0))
    with pytest.raises(urllib.error.HTTPError):  # someone else spends this window's quota
        for _ in range(2):
            urllib.request.urlopen(f"{limited.url}/api/models/org/listed", timeout=10).close()

    client = HubClient(limited.url, None, backoff=Backoff(retries=0, base=0.01))
    assert client.latest_commit("org/listed", "model", "main") == limited.commit
    assert limited.rate_limited("api") >= 2
