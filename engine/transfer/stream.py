"""One file over one connection at a time: the partial grows by appending, resumed from its size.

The bytes already in the partial are hashed first (so a resumed file is covered), then the stream as
it arrives: no second pass. A server that ignores Range is noticed (200 to a ranged request) and the
file starts over rather than getting a second copy appended. The sibling for big files over several
connections is segments.SegmentedDownload; both hand back the digest, and the fetcher publishes.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from engine.events import EventKind
from engine.hub import RemoteFile
from engine.transfer.failures import Retryable, storage_error, too_long
from engine.transfer.partial import open_partial, restore
from engine.transfer.writeback import WriteBehind
from engine.verify import StreamHasher


class StreamDownload:
    def __init__(self, fetcher, remote: RemoteFile, partial: Path):
        self.f = fetcher
        self.remote = remote
        self.partial = partial

    def run(self) -> tuple[str, int, int]:
        """(sha of the whole file, bytes found in the partial, bytes received now)."""
        f, remote, partial = self.f, self.remote, self.partial
        hasher = StreamHasher(remote.hash_algo, remote.size)
        offset = 0
        try:
            if partial.exists():
                offset = partial.stat().st_size
                if offset > remote.size:
                    partial.unlink()
                    offset = 0
                elif offset:
                    hasher.feed_prefix(partial, offset, f.cancel)
            resumed_from = offset
            if offset:
                f.progress.add(offset, network=False)
                with f.progress.lock:
                    f.progress.resumed += offset
                f.on_event(EventKind.RESUMED,
                           f"{remote.path}: resuming at byte {offset:,} of {remote.size:,}")
            fh = open_partial(partial)
        except OSError as exc:
            hasher.close()
            raise storage_error(exc, partial, f.cache) from None

        url = f.hub.file_url(f.repo_id, f.repo_type, f.commit, remote.path)
        transferred_before = offset
        sink = _Sink(fh, hasher, WriteBehind(fh.fileno()))
        try:
            f.retrying(remote, position=fh.tell,
                          attempt=lambda: self._attempt(url, sink, fh.tell()) >= remote.size)
            fh.flush()
            sink.writeback.close()
            os.fsync(fh.fileno())  # a blob published after a crash must hold the bytes we hashed
            if restore(fh.fileno(), partial):
                f.on_event(EventKind.RESUMED,
                           f"{remote.path}: the partial file was deleted while downloading "
                           "(hf cache prune?); its bytes were written out again")
            fh.close()
        except OSError as exc:
            hasher.close()
            raise storage_error(exc, partial, f.cache) from None
        except BaseException:
            hasher.close()
            raise
        finally:
            # After a failure, closing flushes what is still buffered and may fail the same way (a
            # second ENOSPC): the first error is the one to report, so these must not raise here.
            _quietly(sink.writeback.close)
            _quietly(fh.close)
        return hasher.hexdigest(), resumed_from, remote.size - transferred_before

    def _attempt(self, url: str, sink: "_Sink", offset: int) -> int:
        f, remote = self.f, self.remote
        resp = f.open(url, offset)
        try:
            status = resp.status_code
            if status == 416 and offset == remote.size:
                return offset
            f.raise_for_status(resp, remote)
            f.check_length(resp, remote, offset)
            if offset and status == 200:
                # The server ignored Range: start over rather than append a second copy.
                f.on_event(EventKind.RESTART,
                           f"{remote.path}: server ignored the Range request; restarting the file")
                sink.fh.truncate(0)
                sink.fh.seek(0)
                f.progress.add(-offset, network=False)
                sink.hasher.reset()
                offset = 0
            elif status == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                raise Retryable(f"unexpected Content-Range {resp.headers.get('Content-Range')!r}")
            return self._copy(resp, sink, offset)
        finally:
            resp.close()

    def _copy(self, resp: requests.Response, sink: "_Sink", offset: int) -> int:
        f, remote = self.f, self.remote
        try:
            for chunk in f.chunks(resp):
                if offset + len(chunk) > remote.size:
                    raise too_long(remote)
                sink.fh.write(chunk)
                sink.hasher.update(chunk)
                sink.writeback.wrote(len(chunk))
                offset += len(chunk)
                f.account(len(chunk))
        finally:
            sink.fh.flush()  # what was received is on disk for the resume, whatever happens next
        return offset


@dataclass
class _Sink:
    """Where a stream's bytes go: the partial file, the hash, and the write-behind."""

    fh: object
    hasher: StreamHasher
    writeback: WriteBehind


def _quietly(close: Callable[[], None]) -> None:
    try:
        close()
    except OSError:
        pass
