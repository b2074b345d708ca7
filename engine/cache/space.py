"""Is there room for a download before it starts: what still has to arrive (blobs already here and
bytes already in partials don't count), plus the space to keep free, against what the disk has."""

import shutil

from engine.cache.layout import RepoCache
from engine.errors import ErrorCode, JobError
from engine.hub import RemoteFile
from engine.transfer.segments import present_bytes


def check_space(cache: RepoCache, to_fetch: list[RemoteFile], *, force: bool, min_free: int) -> None:
    storage = cache.storage_dir
    try:
        storage.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(storage).free
    except OSError as exc:
        raise JobError(ErrorCode.STORAGE_ERROR,
                       f"Storage folder {storage} is not usable: {exc.strerror or exc}",
                       storage_dir=str(storage), detail=exc.strerror or str(exc)) from None
    needed = 0
    for f in to_fetch:
        if cache.blob_path(f.etag).exists() and not force:
            continue
        needed += max(0, f.size - present_bytes(cache.partial_path(f.etag)))
    if needed + min_free > free:
        raise JobError(ErrorCode.INSUFFICIENT_SPACE,
                       f"Needs {needed:,} bytes plus {min_free:,} kept free, but {free:,} bytes are free "
                       f"in {storage}",
                       needed=needed, free=free, min_free=min_free, storage_dir=str(storage))
