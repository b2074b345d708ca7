"""The partial file `blobs/<etag>.incomplete`: opened safely, and kept when someone else deletes it.

`hf cache prune` removes every `blobs/*.incomplete` it finds, including one ModelHub is writing this
moment (huggingface_hub names its own partials `<etag>.<uuid>.incomplete`, but prune matches both).
The bytes written so far live on in the open file, so before publishing, a partial whose name no
longer leads to the file being written is written out again from that open file: nothing received
is lost and the network is not asked twice. Between two attempts a pruned partial is simply gone,
and the next attempt starts that file over.
"""

import os
import threading
from pathlib import Path

COPY_CHUNK = 8 << 20


def open_partial(partial: Path):
    """The partial file for appending, never through a symlink planted in its place (O_NOFOLLOW).
    Readable too, so `restore` can copy it out should its name be deleted."""
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
    return os.fdopen(os.open(partial, flags, 0o644), "ab")


def still_named(fd: int, partial: Path) -> bool:
    """Whether `partial` is still the file open as `fd` (not deleted, not replaced)."""
    try:
        named = os.stat(partial, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def restore(fd: int, partial: Path) -> bool:
    """If the partial was deleted (or replaced) while `fd` was being written, write the open file's
    bytes out under its name again, durably. Returns whether it had to."""
    if still_named(fd, partial):
        return False
    tmp = partial.with_name(f".{partial.name}.{os.getpid()}.{threading.get_native_id()}.restore")
    out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(out, "wb") as dst:
            pos = 0
            while chunk := os.pread(fd, COPY_CHUNK, pos):  # pread: the writer's offset stays as it is
                dst.write(chunk)
                pos += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, partial)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True
