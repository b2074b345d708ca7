"""Shared by the storage, import, cleanup and update tests: real downloads, hand-made leftovers, users."""

import hashlib
import json
import os
import time
from pathlib import Path

from django.contrib.auth.models import Permission, User

from downloads.models import DownloadJob, ModelVariant
from tests.jobs import run_download, start_job
from tests.modelfiles import make_safetensors


def model_files(tag: str = "") -> dict[str, bytes]:
    """A small but complete text model: config, tokenizer, LFS weights, a nested non-LFS file."""
    return {
        "config.json": json.dumps({"model_type": "llama", "tag": tag}).encode(),
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"vocab": {"a": 0}}}).encode(),
        "model.safetensors": make_safetensors(metadata={"tag": tag or "base"}),
        "nested/dir/extra.txt": b"hello nested " + tag.encode(),
    }


def download(repo_id: str, **kw) -> DownloadJob:
    """The real download path, run in this process (as `download --wait` does)."""
    done = run_download(repo_id, **kw)
    assert done is not None and done.state == "succeeded", (done.error_code, done.error_message)
    return done


def queue_download(repo_id: str, **kw) -> DownloadJob:
    """An active (queued) job that nobody runs: what a worker would be about to pick up."""
    return start_job(repo_id, **kw)


def set_age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then), follow_symlinks=False)


def write_partial(storage: Path, folder: str, size: int, *, hours: float, name: str | None = None) -> Path:
    data = os.urandom(size)
    blobs = storage / folder / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    path = blobs / (name or f"{hashlib.sha256(data).hexdigest()}.incomplete")
    path.write_bytes(data)
    set_age(path, hours)
    return path


def write_orphan_blob(storage: Path, folder: str, data: bytes) -> Path:
    path = storage / folder / "blobs" / hashlib.sha256(data).hexdigest()
    path.write_bytes(data)
    return path


def blob_of(snapshot_file: Path) -> Path:
    return Path(os.path.realpath(snapshot_file))


def flip_byte(path: Path, offset: int = -1) -> None:
    """Corrupt a file in place, keeping its size (so only a hash check can notice)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def staff_user(username: str, *codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=staff)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="downloads",
                                                        codename__in=codenames))
    return user


def variant(pk: int) -> ModelVariant:
    return ModelVariant.objects.get(pk=pk)
