"""Removing files from a cache folder without ever reaching outside it.

Every delete in storage_cleanup, storage_delete and cache_copy goes through here: the parent folder
must resolve inside the root (so a symlinked `blobs/` cannot redirect a delete elsewhere), links are
removed as links. (Callers remove a blob only while holding its lock: `blob_locks.try_hold`.)
"""

import os
import stat
from pathlib import Path

from engine.cache.layout import within


class OutsideRoot(Exception):
    """A path to delete does not resolve inside the folder it was supposed to be in."""


def check_inside(path: Path, root: Path) -> None:
    # The parent is resolved, not the path: unlinking a symlink removes the link, never its target.
    if not within(path.parent, root) or os.path.abspath(path) == os.path.abspath(root):
        raise OutsideRoot(f"{path} is outside {root}; refusing to delete it")


def unlink(path: Path, root: Path) -> int:
    """Remove one file or link inside `root`; returns the bytes this frees (0 for a link, a missing
    file, or a file with other hard links)."""
    check_inside(path, root)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(str(path))
    os.unlink(path)
    return 0 if stat.S_ISLNK(st.st_mode) or st.st_nlink > 1 else st.st_size


def prune_empty_dirs(start: Path, stop: Path) -> list[Path]:
    """Remove `start` and its parents while they are empty, never `stop` or anything above it."""
    removed = []
    path = Path(os.path.abspath(start))
    stop = Path(os.path.abspath(stop))
    while path != stop and stop in path.parents and not path.is_symlink():
        try:
            path.rmdir()
        except OSError:
            break
        removed.append(path)
        path = path.parent
    return removed


def remove_empty_tree(top: Path, root: Path) -> list[Path]:
    """Remove every empty folder under `top` (bottom-up), then `top` itself if it became empty."""
    check_inside(top, root)
    removed = []
    for dirpath, _dirnames, _filenames in os.walk(top, topdown=False):
        if os.path.islink(dirpath):
            continue
        try:
            os.rmdir(dirpath)
            removed.append(Path(dirpath))
        except OSError:
            pass
    return removed
