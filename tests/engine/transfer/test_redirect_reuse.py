"""A file's redirect is followed once: its other connections (segments, retries) go straight to the
CDN URL it led to, without the token; a URL that expired is asked for again."""

import pytest

from downloads.jobs import runner
from downloads.models import JobState
from engine.cache.layout import RepoCache
from fakehub import FakeHub
from settings_app.models import Setting
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes

SIZE = 24_000_000
TOKEN = "hf_RedirectReuseToken42"


@pytest.fixture
def cdn(db, storage, monkeypatch):
    monkeypatch.setattr("engine.transfer.segments.MIN_SPLIT", 1 << 20)
    with FakeHub(use_cdn=True) as hub:
        hub.add_token(TOKEN, can_access=["*"])
        setting = Setting.load()
        setting.hub_endpoint, setting.storage_dir, setting.min_free_space = hub.url, str(storage), 0
        setting.segment_min_size = 1_000_000
        setting.set_hf_token(TOKEN)
        setting.save()
        yield hub


def download(hub, storage):
    data = pseudo_random_bytes(SIZE)
    repo = hub.add_repo("org/big", {"weights.bin": data})
    job = runner.run_job(start_job("org/big", kind="files").pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert RepoCache(storage, "org/big").blob_path(repo.files["weights.bin"].etag).read_bytes() == data
    requests = hub.file_requests("weights.bin", method="GET")
    return ([r for r in requests if r.server == "hub"], [r for r in requests if r.server == "cdn"])


def test_the_segments_of_a_file_share_one_redirect(cdn, storage):
    cdn.cdn_profile(4_000_000, ttfb=0.02)
    cdn.drop_after("weights.bin", 500_000)  # and a retry, which reuses it too

    resolves, fetches = download(cdn, storage)

    assert len(resolves) == 1 and resolves[0].authorization == f"Bearer {TOKEN}"
    assert len(fetches) > 2
    assert not cdn.cdn_saw_authorization


def test_an_expired_cdn_url_is_resolved_again(cdn, storage):
    cdn.cdn_profile(2_000_000, ttfb=0.02, url_lifetime=0.3)
    cdn.drop_after("weights.bin", 1_000_000)  # half a second in: its retry meets the expired URL

    resolves, fetches = download(cdn, storage)

    assert any(r.status == 403 for r in fetches)
    assert len(resolves) >= 2
    assert not cdn.cdn_saw_authorization
