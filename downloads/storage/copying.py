"""Copying a snapshot from another cache into the storage folder, and removing the source after a move.

The copy keeps the HF layout (blobs, relative snapshot links, refs, the cached tree listing). Each
blob is written to `blobs/<etag>.<uuid>.incomplete` while being hashed, renamed into place only when
its bytes match the expected checksum, and only while holding the blob's lock; an existing blob is
never overwritten (the verification that follows checks it). A move on the same volume hard-links
instead of copying, so it needs no extra space.
"""

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from downloads.storage.discovery import FoundFile, FoundSnapshot
from downloads.storage.overview import volume_usage
from engine.cache import locks, safety
from engine.cache.layout import RepoCache, check_repo_path
from engine.cache.scan import TREES_DIR, scan_repo
from engine.verify import HASH_READ_CHUNK, hash_file, new_hasher
from settings_app.models import Setting


class CopyRefused(Exception):
    """The copy cannot start (no space, storage not writable); nothing was written."""


@dataclass
class CopyOutcome:
    bytes_copied: int = 0
    not_copied: dict[str, str] = field(default_factory=dict)  # repo path -> why
    refs_written: list[str] = field(default_factory=list)


def copy_snapshot(found: FoundSnapshot, storage: Path, *, hardlink: bool = False) -> CopyOutcome:
    dest = RepoCache(storage, found.repo_id, found.repo_type)
    try:
        dest.ensure_dirs()
    except OSError as exc:
        raise CopyRefused(f"cannot write to {storage}: {exc.strerror or exc}") from None
    src_snapshot = found.snapshot_path
    same_volume = hardlink and _device(src_snapshot) == _device(dest.blobs_dir)
    _check_space(found, dest, storage, same_volume)
    outcome = CopyOutcome()
    for path, item in sorted(found.files.items()):
        reason = _copy_file(src_snapshot / path, item, dest, found.commit, same_volume, outcome)
        if reason:
            outcome.not_copied[path] = reason
    for ref in found.refs:
        if not (dest.root / "refs" / ref).exists() and not check_repo_path(ref):
            dest.write_ref(ref, found.commit)
            outcome.refs_written.append(ref)
    _copy_tree_listing(found, dest)
    return outcome


def remove_source(found: FoundSnapshot) -> int:
    """Delete the snapshot from its source cache after a verified move: its links, the blobs no other
    snapshot there uses, and refs pointing at it. Returns bytes freed."""
    root = found.location
    repo = scan_repo(root, found.folder)
    snap = repo.snapshots.get(found.commit)
    if snap is None:
        return 0
    freed = 0
    for rel in snap.files:
        freed += safety.unlink(snap.path / rel, root)
    safety.remove_empty_tree(snap.path, root)
    others = {name for commit, s in repo.snapshots.items() if commit != found.commit for name in s.blob_names}
    source = RepoCache(root, found.repo_id, found.repo_type)
    for name in sorted(snap.blob_names - others):
        with locks.try_hold(source.lock_path(name)) as free:
            if free:
                freed += safety.unlink(source.blob_path(name), root)
                safety.unlink(source.lock_path(name), root)
    for ref in snap.refs:
        safety.unlink(repo.path / "refs" / ref, root)
    safety.unlink(repo.path / TREES_DIR / f"{found.commit}.json", root)
    if not others and not any((repo.path / "blobs").glob("*")):
        safety.remove_empty_tree(repo.path, root)  # nothing left of the repo: no empty husk
        if repo.path.is_dir():
            (repo.path / "snapshots").mkdir(exist_ok=True)  # huggingface_hub flags a repo without it
    if source.lock_dir.is_dir():
        safety.prune_empty_dirs(source.lock_dir, root)
    return freed


def _copy_file(src: Path, item: FoundFile, dest: RepoCache, commit: str, same_volume: bool,
               outcome: CopyOutcome) -> str:
    """Publish one file's blob and link it; returns why it was not copied, or ''."""
    if check_repo_path(item.path):
        return f"unsafe path: {check_repo_path(item.path)}"
    etag = item.etag
    if not etag or not (item.sha256 or item.git_sha1):
        return "no checksum to verify it against"
    if not src.exists():
        return "missing in the source (dangling link)"
    blob = dest.blob_path(etag)
    with locks.hold(dest.lock_path(etag)):  # the same lock downloads take: one writer per blob
        if not blob.exists():  # an existing blob (shared with another revision) is reused as it is
            reason = _publish(src, item, blob, same_volume)
            if reason:
                return reason
            outcome.bytes_copied += 0 if same_volume else blob.stat().st_size
    dest.link(commit, item.path, etag)
    return ""


def _publish(src: Path, item: FoundFile, blob: Path, same_volume: bool) -> str:
    algo, expected = ("sha256", item.sha256) if item.sha256 else ("git-sha1", item.git_sha1)
    tmp = blob.with_name(f"{blob.name}.{uuid.uuid4().hex[:8]}.incomplete")
    try:
        if same_volume:
            os.link(os.path.realpath(src), tmp)
            actual = hash_file(tmp, algo, tmp.stat().st_size)
        else:
            actual = _copy_hashing(src, tmp, algo)
        if actual != expected:
            return f"the source bytes do not match: {algo} {actual[:12]}…, expected {expected[:12]}…"
        os.replace(tmp, blob)
        return ""
    except OSError as exc:
        return f"copy failed: {exc.strerror or exc}"
    finally:
        tmp.unlink(missing_ok=True)


def _copy_hashing(src: Path, dst: Path, algo: str) -> str:
    size = src.stat().st_size
    hasher = new_hasher(algo, size)
    buf = bytearray(HASH_READ_CHUNK)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fin, open(dst, "wb") as fout:
        while n := fin.readinto(view):
            hasher.update(view[:n])
            fout.write(view[:n])
        fout.flush()
        os.fsync(fout.fileno())  # the rename must not publish bytes still only in the page cache
    return hasher.hexdigest()


def _check_space(found: FoundSnapshot, dest: RepoCache, storage: Path, same_volume: bool) -> None:
    if same_volume:
        return
    sizes = {f.etag: f.size or 0 for f in found.files.values() if f.etag}
    needed = sum(size for etag, size in sizes.items() if not dest.blob_path(etag).exists())
    usage = volume_usage(storage)
    keep = Setting.load().effective_min_free_space
    if usage is not None and needed + keep > usage.free:
        raise CopyRefused(f"needs {needed:,} bytes plus {keep:,} kept free, but {usage.free:,} bytes are "
                          f"free in {storage}")


def _copy_tree_listing(found: FoundSnapshot, dest: RepoCache) -> None:
    src = found.location / found.folder / TREES_DIR / f"{found.commit}.json"
    target = dest.tree_path(found.commit)
    if not src.is_file() or target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(src.read_bytes())
    os.replace(tmp, target)


def _device(path: Path) -> int | None:
    try:
        return os.stat(path).st_dev
    except OSError:
        return None
