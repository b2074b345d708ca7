"""Adaptive connections: a large file opens more connections while throughput keeps growing and stops
when it does not; every byte is still fetched once and the file verifies. Served through the test
Hub's CDN mode, which caps each connection and delays the first byte, as the Hub's CDN does."""

import pytest

from downloads.jobs import runner
from downloads.models import JobState
from engine.cache.layout import RepoCache
from engine.limits import MAX_SEGMENTS_PER_FILE
from engine.transfer.adaptive import GAIN, START, WINDOW, ConnectionBudget, Ramp
from fakehub import FakeHub
from settings_app.models import Setting
from tests import workers
from tests.jobs import start_job
from tests.modelfiles import pseudo_random_bytes

SIZE = 24_000_000
FEW = 2


def windows(ramp: Ramp, rates: list[float]) -> list[int]:
    """Feed the ramp one measured window per rate (bytes/s); the connections it wants after each."""
    t, received, out = 0.0, 0, []
    ramp.wanted(received, flowing=True, now=t)  # the first window starts
    step = WINDOW * 1.01  # a window is at least WINDOW long (and 0.6 - 0.3 < 0.3 in floating point)
    for rate in rates:
        t, received = t + step, received + int(rate * step)
        out.append(ramp.wanted(received, flowing=True, now=t))
        ramp.wanted(received, flowing=True, now=t)  # the next window starts
    return out


def test_the_ramp_grows_while_throughput_follows_and_then_settles():
    ramp = Ramp(limit=START * 4)
    assert ramp.start() == START
    assert windows(ramp, [4e6, 8e6]) == [START * 2, START * 4]  # twice as fast: grow to the limit
    flat = Ramp(limit=START * 4)
    flat.start()
    full = 4e6 * (GAIN - 0.1)  # less than GAIN more: the link is full
    assert windows(flat, [4e6, full, full]) == [START * 2, START * 2, START * 2]
    assert flat.settled


def test_one_slow_window_does_not_stop_the_growth():
    """A busy machine can make one window slow; the next one decides."""
    ramp = Ramp(limit=START * 4)
    ramp.start()
    assert windows(ramp, [4e6, 3e6, 8e6]) == [START * 2, START * 2, START * 4]
    assert not ramp.settled and ramp.misses == 0


def test_a_window_counts_only_once_every_connection_flows():
    ramp = Ramp(limit=16)
    ramp.start()
    assert ramp.wanted(0, flowing=False, now=0.0) == START
    assert ramp.wanted(10_000_000, flowing=False, now=5.0) == START  # nothing measured yet


@pytest.fixture
def cdn(db, storage, monkeypatch):
    # Small numbers, so a test moves megabytes instead of gigabytes: split anything over 2 MB, pieces
    # from 1 MiB.
    monkeypatch.setattr("engine.transfer.segments.MIN_SPLIT", 1 << 20)
    monkeypatch.setattr("engine.transfer.layout.MIN_PIECE", 1 << 20)
    monkeypatch.setattr("engine.transfer.adaptive.START", FEW)  # room to grow below the limit
    with FakeHub(use_cdn=True) as hub:
        setting = Setting.load()
        setting.hub_endpoint, setting.storage_dir, setting.min_free_space = hub.url, str(storage), 0
        assert setting.segments_per_file == 0  # adaptive is the default
        setting.segment_min_size = 1_000_000
        setting.save()
        yield hub


def download(hub, storage, names=("weights.bin",), size=SIZE):
    data = {name: pseudo_random_bytes(size, seed=7 + i) for i, name in enumerate(names)}
    repo = hub.add_repo("org/big", data)
    job = runner.run_job(start_job("org/big", kind="files").pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    for name in names:
        assert RepoCache(storage, "org/big").blob_path(repo.files[name].etag).read_bytes() == data[name]
    gets = [r for name in names for r in hub.file_requests(name)
            if r.method == "GET" and r.range_start is not None]
    # a request the client let go of (its range was split) may still be ending on the server
    workers.wait_for(lambda: all(r.end_time is not None for r in gets), timeout=30,
                     message="the server to end every request")
    return job, gets


def most_at_once(gets) -> int:
    """The most requests the server was answering at the same time: the connections in use."""
    events = sorted([(r.time, 1) for r in gets] + [(r.end_time, -1) for r in gets])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_capped_connections_make_the_file_open_more(cdn, storage):
    cdn.cdn_profile(2_000_000, ttfb=0.02)  # every connection at most 2 MB/s
    job, gets = download(cdn, storage)
    assert most_at_once(gets) > FEW * 2  # it grew past the first connections, and again
    # a split connection stops where the new one starts: bytes are not fetched twice
    assert cdn.bytes_sent("weights.bin") <= SIZE * 1.1
    assert job.verification["ok"]


def test_a_full_link_stops_the_growth(cdn, storage):
    cdn.cdn_profile(2_000_000, ttfb=0.02, link=4_000_000)  # two connections fill the whole link
    job, gets = download(cdn, storage)
    assert most_at_once(gets) <= FEW * 2  # grew once at most, saw no gain, settled


def test_the_budget_grants_what_is_left_and_takes_back_what_is_given():
    budget = ConnectionBudget(10)
    assert budget.take(6) == 6
    assert budget.take(6) == 4  # only what is left
    assert budget.take(1) == 0
    budget.give(3)
    assert budget.take(5) == 3


def test_a_single_file_can_grow_past_a_fixed_settings_bound(cdn, storage):
    """Automatic connections are not held to the 16 a fixed value may ask for: a CDN that caps each
    connection low needs more to fill the link, and each addition still has to pay off."""
    cdn.cdn_profile(1_000_000, ttfb=0.02)  # every connection at most 1 MB/s, no link cap
    # large enough that pieces are left to take once the first 16 connections flow
    job, gets = download(cdn, storage, size=4 * SIZE)
    assert most_at_once(gets) > MAX_SEGMENTS_PER_FILE
    assert cdn.bytes_sent("weights.bin") <= 4 * SIZE * 1.1


def test_the_files_of_a_job_share_one_budget_of_connections(cdn, storage, monkeypatch):
    monkeypatch.setattr("downloads.jobs.runner.MAX_CONNECTIONS_PER_JOB", 12)
    Setting.objects.filter(pk=1).update(max_parallel_files=2)
    cdn.cdn_profile(1_000_000, ttfb=0.02)  # each file would grow well past 6 on its own
    job, gets = download(cdn, storage, names=("a.bin", "b.bin"))
    assert 2 * FEW < most_at_once(gets) <= 12
    assert job.verification["ok"]
