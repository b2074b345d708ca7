"""A server that ignores Range (200 and the whole file to a ranged request) is noticed by the pieces of
an adaptive download and the file is fetched over one stream instead, as a whole and verified."""

import pytest

from downloads.jobs import runner
from downloads.models import JobState
from engine.cache.layout import RepoCache
from fakehub.hostile import HostileHub
from settings_app.models import Setting
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes

DATA = pseudo_random_bytes(6_000_000)


@pytest.fixture
def rangeless(db, storage, monkeypatch):
    from huggingface_hub.utils import close_session

    monkeypatch.setattr("engine.transfer.layout.MIN_PIECE", 1 << 20)
    with HostileHub() as server:
        server.repo("org/whole", files={"weights.bin": DATA},
                    resolve={"weights.bin": lambda h: h.send(200, DATA)})  # whatever Range asks
        setting = Setting.load()
        setting.hub_endpoint, setting.storage_dir, setting.min_free_space = server.url, str(storage), 0
        setting.segment_min_size = 1_000_000
        setting.save()
        yield server
    close_session()


def test_a_server_ignoring_range_gets_one_stream(rangeless, storage):
    job = runner.run_job(start_job("org/whole", kind="files").pk)

    assert job.state == JobState.SUCCEEDED, job.error_message
    assert (RepoCache(storage, "org/whole").snapshot_dir(job.commit) / "weights.bin").read_bytes() == DATA
    assert job.events.filter(kind="restart", message__contains="ignores Range").exists()
