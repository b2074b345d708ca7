"""One file's bytes, from the blob lock to the published blob: what every connection shares.

A file is written to `blobs/<etag>.incomplete` by a StreamDownload (one connection) or, for a big
file, a SegmentedDownload (several); both hash as the bytes arrive. The Fetcher holds what they
share: the requests (redirects followed by hand so the token never leaves the endpoint's origin),
status and length checks, the low-speed limit, retries with backoff, progress and rate limits. The
blob is moved into place only when size and checksum match the Hub's: wrong bytes never reach
`blobs/<etag>`.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import requests
import urllib3

from engine.cache import locks
from engine.cache.layout import RepoCache
from engine.errors import ErrorCode, HubError, JobCancelled, JobError
from engine.events import EventKind
from engine.hub import TRANSIENT_STATUS, HubClient, RemoteFile
from engine.retrying import Backoff, parse_retry_after
from engine.transfer.adaptive import ConnectionBudget
from engine.transfer.failures import Retryable, short, storage_error
from engine.transfer.hops import Hops
from engine.transfer.progress import Progress, RateLimiter
from engine.transfer.retries import retry_until_done
from engine.transfer.segments import NoRangeSupport, SegmentedDownload, sidecar_path
from engine.transfer.stream import StreamDownload
from engine.verify import hash_file

log = logging.getLogger(__name__)

# Bytes asked per socket read / file write. Each read is a new bytes object; glibc mmaps the first
# large ones, raises its mmap threshold when they are freed, and from then on keeps freed reads in
# per-thread arenas. With dozens of connection threads, 1 MiB reads made a 4-file repo peak at
# ~165 MB RSS, 256 KiB at ~125 MB; smaller still costs loopback speed (more reads per byte).
CHUNK = 256 << 10


@dataclass(frozen=True)
class FileOutcome:
    path: str
    etag: str
    size: int
    algo: str
    expected: str
    actual: str
    resumed_from: int = 0
    transferred: int = 0
    how: str = "downloaded"   # downloaded | present (blob already there, re-hashed) | trusted (fingerprint)


@dataclass(frozen=True)
class LowSpeed:
    """Like curl's --speed-limit/--speed-time: a connection that delivers fewer than `limit` bytes/s
    over `seconds` of waiting on the network is dropped and retried (resuming where it stopped)."""

    limit: int = 1000
    seconds: float = 30.0


@dataclass
class Fetcher:
    """Fetches files of one repo at one commit into the cache; shared by a job's file threads."""

    hub: HubClient
    cache: RepoCache
    repo_id: str
    repo_type: str
    revision: str
    commit: str
    session: requests.Session
    progress: Progress
    cancel: threading.Event
    backoff: Backoff
    limiters: list[RateLimiter] = field(default_factory=list)
    segments: int = 1                 # connections per large file (1: one stream); adaptive: at most
    adaptive: bool = False            # grow the connections while throughput follows (adaptive.py)
    budget: ConnectionBudget | None = None  # adaptive: the extra connections the job's files share
    segment_min_size: int = 256 * 1000**2
    low_speed: LowSpeed = LowSpeed()
    on_event: Callable[[str, str], None] = lambda kind, message: None
    _dirs_ready: bool = field(default=False, init=False, repr=False)
    _hops: Hops = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._hops = Hops(self)

    def fetch(self, remote: RemoteFile, *, force: bool = False,
              trusted_fingerprint: dict | None = None) -> FileOutcome:
        lock_path = self.cache.lock_path(remote.etag)
        with ExitStack() as held:
            try:
                if not self._dirs_ready:  # once per job, not six mkdir calls per file (two threads may do it)
                    self.cache.ensure_dirs()
                    self._dirs_ready = True
                # Two jobs sharing a blob: the second waits here, then finds it in place.
                held.enter_context(locks.hold(lock_path, cancel=self.cancel))
            except OSError as exc:  # the cache folders or the lock file cannot be created
                raise storage_error(exc, lock_path, self.cache) from None
            if not force:
                present = self._present(remote, trusted_fingerprint)
                if present:
                    return present
            return self._download(remote)

    # --- already on disk?
    def _present(self, remote: RemoteFile, fingerprint: dict | None) -> FileOutcome | None:
        blob = self.cache.blob_path(remote.etag)
        try:
            st = blob.stat()
        except FileNotFoundError:
            return None
        expected = remote.etag
        if st.st_size == remote.size:
            if (fingerprint and fingerprint.get("size") == st.st_size
                    and fingerprint.get("mtime_ns") == st.st_mtime_ns):
                self.progress.add(remote.size, network=False)
                return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, expected,
                                   expected, how="trusted")
            actual = hash_file(blob, remote.hash_algo, remote.size, cancel=self.cancel)
            if actual == expected:
                self.progress.add(remote.size, network=False)
                return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, expected, actual,
                                   how="present")
        self.on_event(EventKind.REPAIR,
                      f"{remote.path}: the blob on disk does not match the Hub; downloading it again")
        blob.unlink(missing_ok=True)
        return None

    # --- fetch with resume and retries
    def _download(self, remote: RemoteFile) -> FileOutcome:
        partial = self.cache.partial_path(remote.etag)
        if sidecar_path(partial).exists() or (self.segments > 1 and remote.size >= self.segment_min_size):
            return self._download_segmented(remote, partial)
        return self._download_stream(remote, partial)

    def _download_segmented(self, remote: RemoteFile, partial) -> FileOutcome:
        url = self.hub.file_url(self.repo_id, self.repo_type, self.commit, remote.path)
        transfer = SegmentedDownload(self, remote, partial, max(2, self.segments), adaptive=self.adaptive,
                                     budget=self.budget)
        try:
            digest = transfer.run(url)
        except NoRangeSupport:
            self.on_event(EventKind.RESTART,
                          f"{remote.path}: the server ignores Range requests; one stream instead")
            self.progress.add(-sum(s.done for s in transfer.segments), network=False)
            sidecar_path(partial).unlink(missing_ok=True)
            partial.unlink(missing_ok=True)
            return self._download_stream(remote, partial)
        except OSError as exc:
            raise storage_error(exc, partial, self.cache) from None
        if digest is None:  # cannot happen after a complete run; never publish unhashed bytes
            raise JobError(ErrorCode.VERIFICATION_FAILED, f"{remote.path}: the hash did not cover the file",
                           files=[remote.path])
        return self.publish(remote, partial, digest)

    def _download_stream(self, remote: RemoteFile, partial) -> FileOutcome:
        digest, resumed_from, transferred = StreamDownload(self, remote, partial).run()
        outcome = self.publish(remote, partial, digest)
        return replace(outcome, resumed_from=resumed_from, transferred=transferred)

    def retrying(self, remote: RemoteFile, *, position: Callable[[], int], attempt: Callable[[], bool],
                 label: str = "") -> None:
        """Call `attempt` until it reports completion (transfer/retries.py)."""
        retry_until_done(self, remote, position=position, attempt=attempt, label=label)

    def publish(self, remote: RemoteFile, partial, actual: str) -> FileOutcome:
        """Move a fully received partial into blobs/ if its checksum is the Hub's; else discard it."""
        if actual != remote.etag:
            partial.unlink(missing_ok=True)  # bad bytes must not be resumed from either
            raise JobError(
                ErrorCode.VERIFICATION_FAILED,
                f"{remote.path}: {remote.hash_algo} mismatch (expected {remote.etag}, got {actual}); "
                "the downloaded bytes were discarded",
                files=[remote.path],
            )
        try:
            os.replace(partial, self.cache.blob_path(remote.etag))
        except OSError as exc:
            raise storage_error(exc, partial, self.cache) from None
        return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, remote.etag, actual)

    def open(self, url: str, offset: int, end: int | None = None) -> requests.Response:
        """GET with Range, through the file's redirects (transfer/hops.py)."""
        return self._hops.open(url, offset, end)

    def hub_error(self, code: str, message: str, **ctx) -> HubError:
        return HubError(code, message, endpoint=self.hub.endpoint, repo_id=self.repo_id,
                        repo_type=self.repo_type, revision=self.revision, **ctx)

    def raise_for_status(self, resp: requests.Response, remote: RemoteFile) -> None:
        """Transient statuses become retries; other failures become the Hub's error code."""
        status = resp.status_code
        if status in TRANSIENT_STATUS:
            err = self.hub.error_for_response(status, resp.headers, repo_id=self.repo_id,
                                              repo_type=self.repo_type, revision=self.revision,
                                              path=remote.path)
            raise Retryable(f"HTTP {status}", retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                            error=err, rate_limited=status == 429)
        if status >= 400:
            raise self.hub.error_for_response(status, resp.headers, repo_id=self.repo_id,
                                              repo_type=self.repo_type, revision=self.revision,
                                              path=remote.path)

    def check_length(self, resp: requests.Response, remote: RemoteFile, offset: int,
                     end: int | None = None) -> None:
        """A Content-Length that disagrees with the bytes asked for is refused at once: trusting it would
        mean waiting a whole read timeout for bytes that never come, on every attempt."""
        declared = resp.headers.get("Content-Length")
        if declared is None or resp.status_code not in (200, 206):
            return
        expected = remote.size - (offset if resp.status_code == 206 else 0)
        if resp.status_code == 206 and end is not None:
            expected = end - offset
        if not declared.isdigit() or int(declared) != expected:
            raise Retryable(f"Content-Length {declared[:40]!r} does not match the {expected:,} bytes "
                            "asked for",
                            error=JobError(ErrorCode.PROTOCOL_ERROR,
                                           f"{remote.path}: the server declared Content-Length "
                                           f"{declared[:40]!r} for {expected:,} bytes", files=[remote.path],
                                           detail="Content-Length does not match the file's size"))

    def chunks(self, resp: requests.Response):
        """The body as it arrives; network failures become retries, a cancel stops at once, and a
        connection slower than the low-speed limit is dropped (time spent in ModelHub's own rate
        limiter is not counted: only the wait for the network is)."""
        raw = resp.raw
        waited, received = 0.0, 0
        while True:
            if self.cancel.is_set():
                raise JobCancelled()
            started = time.monotonic()
            try:
                # read1: return what arrived instead of waiting for a full chunk, so cancel and
                # progress stay responsive on slow links.
                chunk = raw.read1(CHUNK)
            except (urllib3.exceptions.HTTPError, requests.RequestException, ConnectionError,
                    TimeoutError) as exc:
                raise Retryable(short(exc)) from None
            if not chunk:
                return
            waited += time.monotonic() - started
            received += len(chunk)
            if waited >= self.low_speed.seconds:
                if received < self.low_speed.limit * waited:
                    raise Retryable(f"the server sent {received:,} bytes in {waited:.0f} s, below the "
                                    f"low-speed limit of {self.low_speed.limit:,} bytes/s", stalled=True)
                waited, received = 0.0, 0
            yield chunk

    def account(self, n: int) -> None:
        self.progress.add(n)
        for limiter in self.limiters:
            limiter.consume(n, self.cancel)
