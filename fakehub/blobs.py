"""How file content becomes a `HubFile`: git blob ids, LFS pointers and which files are LFS.

Files given as paths are hashed in parallel and remembered by (path, size, mtime), so add_commit or a
repeated add_repo of the same big files does not hash them again.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import threading
from concurrent.futures import ThreadPoolExecutor

from fakehub.model import HubFile

LFS_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".onnx")
LFS_SIZE_THRESHOLD = 1024
_HASH_CHUNK = 8 * 1024 * 1024


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of ``data``: ``sha1(b"blob %d\\0" % len(data) + data)``."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


# Hashes of files on disk, so add_commit / repeated add_repo of the same big files do not re-hash.
_PATH_HASH_CACHE: dict[tuple, str] = {}
_PATH_HASH_LOCK = threading.Lock()


def _file_sha256(path: pathlib.Path) -> str:
    st = path.stat()
    key = ("sha256", str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _PATH_HASH_LOCK:
        hit = _PATH_HASH_CACHE.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    with _PATH_HASH_LOCK:
        _PATH_HASH_CACHE[key] = digest
    return digest


def _file_git_sha1(path: pathlib.Path, size: int) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def build_files(files, lfs, sha256s) -> dict[str, HubFile]:
    """``{path: bytes | Path}`` as HubFiles. ``lfs(path)`` overrides the default LFS rule (big, or a weights
    suffix); ``sha256s`` gives known digests of LFS files on disk, which are then not read."""
    out: dict[str, HubFile] = {}
    to_hash: list[tuple[str, pathlib.Path, int, bool]] = []
    for raw_path, value in files.items():
        path = raw_path.strip("/")
        if not path:
            raise ValueError("empty file path")
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            is_lfs = lfs(path) if lfs else _default_is_lfs(path, len(data))
            out[path] = _make_file(path, len(data), is_lfs, data=data)
        elif isinstance(value, os.PathLike):
            src = pathlib.Path(value)
            size = src.stat().st_size
            is_lfs = lfs(path) if lfs else _default_is_lfs(path, size)
            if is_lfs and path in sha256s:
                out[path] = _make_file(path, size, True, source=src, sha256=sha256s[path].lower())
            else:
                to_hash.append((path, src, size, is_lfs))
        else:
            raise TypeError(
                f"{path}: file content must be bytes or a pathlib.Path, not {type(value).__name__}"
            )

    def compute(item):
        path, src, size, is_lfs = item
        if is_lfs:
            return path, _make_file(path, size, True, source=src, sha256=_file_sha256(src))
        return path, _make_file(path, size, False, source=src, git_sha1=_file_git_sha1(src, size))

    if len(to_hash) > 1:
        with ThreadPoolExecutor(max_workers=min(8, len(to_hash))) as pool:
            out.update(dict(pool.map(compute, to_hash)))
    else:
        out.update(dict(map(compute, to_hash)))
    return out


def _default_is_lfs(path: str, size: int) -> bool:
    return size >= LFS_SIZE_THRESHOLD or path.lower().endswith(LFS_SUFFIXES)


def _make_file(
    path: str,
    size: int,
    is_lfs: bool,
    *,
    data: bytes | None = None,
    source: pathlib.Path | None = None,
    sha256: str | None = None,
    git_sha1: str | None = None,
) -> HubFile:
    if is_lfs:
        if sha256 is None:
            assert data is not None
            sha256 = hashlib.sha256(data).hexdigest()
        pointer = _lfs_pointer(sha256, size)
        return HubFile(
            path=path,
            size=size,
            git_sha1=git_blob_sha1(pointer),
            is_lfs=True,
            sha256=sha256,
            data=data,
            source=source,
            pointer_size=len(pointer),
        )
    if git_sha1 is None:
        git_sha1 = git_blob_sha1(data) if data is not None else "pending"
    return HubFile(path=path, size=size, git_sha1=git_sha1, is_lfs=False, data=data, source=source)
