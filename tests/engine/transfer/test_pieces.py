"""Adaptive connections take pieces in file order: the file is covered exactly once, what is in
flight ahead of the hashed prefix stays bounded, the last round of pieces is small (it is what is
left to hash after the last byte), and an interrupted download resumes its pieces."""

import json
import threading

import pytest
from django.db import connection

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, JobState
from engine.cache.layout import RepoCache
from engine.transfer.layout import LAG, MIN_PIECE, next_piece
from fakehub import FakeHub
from settings_app.models import Setting
from tests import workers
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes

GiB = 1 << 30


def pieces(size: int, connections: int) -> list:
    out, front = [], 0
    while (piece := next_piece(front, size, connections)) is not None:
        out.append(piece)
        front = piece.end
    return out


@pytest.mark.parametrize("size,connections", [(GiB, 16), (GiB + 12345, 8), (300_000_000, 4), (5_000_000, 8)])
def test_pieces_tile_the_file_in_order(size, connections):
    got = pieces(size, connections)
    assert got[0].start == 0 and got[-1].end == size
    assert all(a.end == b.start for a, b in zip(got, got[1:], strict=False))
    assert all(p.end - p.start <= max(LAG // connections, MIN_PIECE) for p in got)


def test_the_last_round_of_pieces_is_small():
    got = pieces(4 * GiB, 16)
    last_round = sum(p.end - p.start for p in got[-16:])
    assert last_round <= 16 * MIN_PIECE * 1.1  # ~64 MiB to hash after the last byte, not gigabytes
    # and the rounds before are large enough that a request's time to first byte stays a small share
    assert len(got) < 4 * GiB // (16 << 20) * 1.5


@pytest.fixture
def cdn(db, storage, monkeypatch):
    monkeypatch.setattr("engine.transfer.segments.MIN_SPLIT", 1 << 20)
    monkeypatch.setattr("engine.transfer.layout.MIN_PIECE", 1 << 20)
    with FakeHub(use_cdn=True) as hub:
        setting = Setting.load()
        setting.hub_endpoint, setting.storage_dir, setting.min_free_space = hub.url, str(storage), 0
        setting.segment_min_size = 1_000_000
        setting.save()
        yield hub


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_adaptive_download_resumes_its_pieces(cdn, storage):
    data = pseudo_random_bytes(20_000_000)
    repo = cdn.add_repo("org/pieces", {"weights.bin": data})
    etag = repo.files["weights.bin"].etag
    cdn.cdn_profile(1_000_000)
    job = start_job("org/pieces", kind="files")
    t = threading.Thread(target=lambda: (runner.run_job(job.pk), connection.close()))
    t.start()
    workers.wait_for(lambda: DownloadJob.objects.get(pk=job.pk).bytes_done > 6_000_000, timeout=60,
                     message="progress")
    services.cancel(DownloadJob.objects.get(pk=job.pk))
    t.join(timeout=20)
    assert DownloadJob.objects.get(pk=job.pk).state == JobState.CANCELLED
    partial = RepoCache(storage, "org/pieces").partial_path(etag)
    state = json.loads(partial.with_name(partial.name + ".segments").read_text())
    kept = sum(done for _, _, done in state["segments"])
    assert kept > 0
    cdn.cdn_profile(None)
    cdn.reset_log()

    second = runner.run_job(start_job("org/pieces", kind="files").pk)

    assert second.state == JobState.SUCCEEDED, second.error_message
    assert RepoCache(storage, "org/pieces").blob_path(etag).read_bytes() == data
    assert cdn.bytes_sent("weights.bin") == len(data) - kept  # nothing fetched twice
    assert second.bytes_resumed == kept
