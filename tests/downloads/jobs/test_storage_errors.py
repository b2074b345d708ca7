"""Every failure of the storage folder (an unsafe path, too little space, a full disk, a folder that
cannot be written) gets a stable code and a specific fix, and damages nothing already installed."""

import os
import subprocess
import threading

import pytest

from downloads.models import JobState, ModelVariant, VariantStatus
from engine.cache.layout import RepoCache
from settings_app.models import Setting
from tests import workers
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db


def test_unsafe_paths_are_refused_before_any_write(configured, hub, storage):
    hub.add_repo("org/evil", {"ok.json": b"{}", "../../escape.txt": b"pwned", "model.gguf": make_gguf()})
    job = run("org/evil", kind="files")
    assert job.error_code == "unsafe_path"
    assert "../../escape.txt" in job.error_message
    assert hub.bytes_sent() == 0
    assert not (storage.parent / "escape.txt").exists()
    assert not (storage / "models--org--evil" / "blobs").exists() or \
        not any((storage / "models--org--evil" / "blobs").iterdir())


def test_insufficient_space_precheck_reports_bytes(configured, hub):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    setting = Setting.load()
    setting.min_free_space = 10**18
    setting.save()
    job = run("org/tiny")
    assert job.error_code == "insufficient_space"
    assert "still to download" in job.guidance and "is free" in job.guidance
    assert hub.bytes_sent() == 0


@pytest.fixture
def small_fs(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small tmpfs for the disk-full test: {done.stderr.decode()}")
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_mid_write_keeps_partial_and_damages_nothing(configured, hub, small_fs):
    setting = Setting.load()
    setting.storage_dir = str(small_fs)
    setting.save()
    # an installed small model must survive the later disk-full failure
    hub.add_repo("org/small", {"model.gguf": make_gguf()})
    assert run("org/small").state == JobState.SUCCEEDED
    small_blobs = {p: p.read_bytes() for p in (small_fs / "models--org--small" / "blobs").iterdir()}
    big = os.urandom(600_000)  # fits when the job starts: the pre-check passes
    repo = hub.add_repo("org/big", {"weights.bin": big})
    cache = RepoCache(small_fs, "org/big")
    partial = cache.partial_path(repo.files["weights.bin"].etag)
    hub.throttle(400_000)

    def fill_disk_once_streaming():  # another program eats the space mid-download
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 0, timeout=20,
                         message="partial")
        with open(small_fs / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass

    filler = threading.Thread(target=fill_disk_once_streaming)
    filler.start()
    job = run("org/big", kind="files")
    filler.join()
    assert job.error_code == "disk_full"
    assert "partial file was kept" in job.guidance
    assert partial.exists() and partial.stat().st_size > 0
    assert not cache.blob_path(repo.files["weights.bin"].etag).exists()
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.FAILED
    assert {p: p.read_bytes() for p in small_blobs} == small_blobs


def test_disk_full_with_buffered_small_pieces_stays_disk_full_and_retry_resumes(configured, small_fs):
    """A body arriving in small pieces sits in the file's write buffer: after the first ENOSPC,
    flushing and closing fail the same way, and that second error must not replace disk_full."""
    from huggingface_hub.utils import close_session

    from fakehub.hostile import HostileHub, in_pieces

    data = os.urandom(700_000)

    with HostileHub() as mirror:
        mirror.repo("org/big", files={"weights.bin": data},
                    resolve={"weights.bin": in_pieces(data, piece=700, every=0.0005)})
        setting = Setting.load()
        setting.hub_endpoint = mirror.url
        setting.storage_dir = str(small_fs)
        setting.save()
        filler = small_fs / "filler"
        partial = RepoCache(small_fs, "org/big").partial_path(_sha256(data))

        def fill_disk_once_streaming():
            workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 50_000, timeout=20,
                             message="partial")
            with open(filler, "wb", buffering=0) as fh:
                try:
                    while True:
                        fh.write(b"\0" * 4096)
                except OSError:
                    pass

        thread = threading.Thread(target=fill_disk_once_streaming)
        thread.start()
        job = run("org/big", kind="files")
        thread.join()
        assert job.error_code == "disk_full", job.error_message
        kept = partial.stat().st_size
        assert 0 < kept < len(data)
        filler.unlink()  # space is freed; Retry resumes the partial
        job = run("org/big", kind="files")
        assert job.state == JobState.SUCCEEDED, job.error_message
        assert job.bytes_resumed >= kept - 65536
    close_session()


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_unusable_storage_folder_is_storage_error(configured, hub, tmp_path):
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("I am a file, not a folder")
    Setting.objects.filter(pk=1).update(storage_dir=str(not_a_dir / "hub"))
    job = run("org/tiny")
    assert job.error_code == "storage_error"
    assert "a-file" in job.guidance and "writable" in job.guidance


def test_unusable_lock_folder_is_storage_error(configured, hub, storage):
    """The blob locks live in <storage>/.locks: a file in its place fails the job as storage_error,
    naming the path, not as a crash."""
    hub.add_repo("org/tiny", {"model.gguf": make_gguf()})
    storage.mkdir(parents=True, exist_ok=True)
    (storage / ".locks").write_text("not a folder")
    job = run("org/tiny")
    assert job.error_code == "storage_error", job.error_message
    assert ".locks" in job.error_message
