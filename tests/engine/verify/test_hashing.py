"""The hashes the Hub publishes, computed the fast way: same digests as hashlib, cancellable."""

import hashlib
import threading

import pytest

from engine.errors import JobCancelled
from engine.verify.hashing import PIPELINE_MIN_SIZE, StreamHasher, feed_file, hash_file
from tests.modelfiles import pseudo_random_bytes


@pytest.fixture
def big_file(tmp_path):
    data = pseudo_random_bytes(PIPELINE_MIN_SIZE + 3 * 1024 * 1024 + 17)  # read ahead, odd tail
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    return path, data


def test_read_ahead_hash_matches_hashlib(big_file):
    path, data = big_file
    assert hash_file(path, "sha256", len(data)) == hashlib.sha256(data).hexdigest()
    git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    assert hash_file(path, "git-sha1", len(data)) == git


def test_prefix_feed_stops_at_the_limit(big_file):
    path, data = big_file
    h = hashlib.sha256()
    assert feed_file(h, path, PIPELINE_MIN_SIZE + 5) == PIPELINE_MIN_SIZE + 5
    assert h.hexdigest() == hashlib.sha256(data[:PIPELINE_MIN_SIZE + 5]).hexdigest()


def test_small_file_hash_matches_hashlib(tmp_path):
    path = tmp_path / "small.json"
    path.write_bytes(b'{"a": 1}')
    assert hash_file(path, "git-sha1", 8) == hashlib.sha1(b'blob 8\0{"a": 1}').hexdigest()


def test_cancel_stops_a_read_ahead_hash_and_its_reader(big_file):
    path, data = big_file
    cancel = threading.Event()
    seen = []

    def on_bytes(n):
        seen.append(n)
        cancel.set()

    before = threading.active_count()
    with pytest.raises(JobCancelled):
        hash_file(path, "sha256", len(data), cancel=cancel, on_bytes=on_bytes)
    assert len(seen) == 1
    assert threading.active_count() == before  # the reader thread was stopped and joined


def test_stream_hasher_threaded_and_inline_agree():
    data = pseudo_random_bytes(StreamHasher.THREAD_MIN_SIZE + 12345)
    threaded = StreamHasher("sha256", len(data))
    for i in range(0, len(data), 1 << 20):
        threaded.update(data[i:i + (1 << 20)])
    inline = StreamHasher("sha256", 10)
    inline.update(data)
    assert threaded.hexdigest() == inline.hexdigest() == hashlib.sha256(data).hexdigest()
