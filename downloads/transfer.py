"""One file's bytes: Range resume, hashing while streaming, progress, cancel, rate limit, retries.

A file is written to `blobs/<etag>.incomplete`; the hash is fed from that partial's bytes on disk first
(so resumed bytes are covered) and then from the stream, and the blob is moved into place only when
size and checksum match the Hub's. Wrong bytes never reach `blobs/<etag>`.
"""

import errno
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
import urllib3
from filelock import FileLock
from filelock import Timeout as LockTimeout

from downloads.cache_layout import RepoCache
from downloads.errors import HubError, JobCancelled, JobError
from downloads.hub import TRANSIENT_STATUS, HubClient, RemoteFile
from downloads.retrying import Backoff, parse_retry_after, sleep_unless

log = logging.getLogger(__name__)

CHUNK = 1 << 20          # bytes asked per socket read / file write
HASH_READ_CHUNK = 4 << 20
MAX_REDIRECTS = 5
TIMEOUT = (10, 60)       # connect, read (seconds without a byte)


# --- hashing -------------------------------------------------------------------------------------
def new_hasher(algo: str, size: int):
    if algo == "sha256":
        return hashlib.sha256()
    h = hashlib.sha1()
    h.update(b"blob %d\0" % size)  # git blob id = sha1 over a header plus the contents
    return h


def hash_file(path: os.PathLike, algo: str, size: int, *, cancel: threading.Event | None = None,
              on_bytes: Callable[[int], None] | None = None) -> str:
    h = new_hasher(algo, size)
    feed_file(h, path, None, cancel=cancel, on_bytes=on_bytes)
    return h.hexdigest()


def feed_file(hasher, path: os.PathLike, limit: int | None, *, cancel: threading.Event | None = None,
              on_bytes: Callable[[int], None] | None = None) -> int:
    """Feed the first `limit` bytes (all when None) of a file into `hasher`; returns bytes read."""
    total = 0
    buf = bytearray(HASH_READ_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while limit is None or total < limit:
            if cancel is not None and cancel.is_set():
                raise JobCancelled()
            want = HASH_READ_CHUNK if limit is None else min(HASH_READ_CHUNK, limit - total)
            n = fh.readinto(view[:want])
            if not n:
                break
            hasher.update(view[:n])  # hashlib drops the GIL on large buffers: files hash in parallel
            total += n
            if on_bytes:
                on_bytes(n)
    return total


class StreamHasher:
    """Hashes chunks on a helper thread so hashing overlaps with receiving and writing.

    hashlib releases the GIL on large buffers, so on a multi-core machine the hash keeps up with
    the network instead of adding its time to it. The queue is bounded: memory stays flat (a few
    MiB) whatever the file size. Small files are hashed inline: a thread isn't worth it there.
    """

    QUEUE_CHUNKS = 16
    THREAD_MIN_SIZE = 8 << 20

    def __init__(self, algo: str, size: int):
        self._algo, self._size = algo, size
        self._hasher = new_hasher(algo, size)
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if size >= self.THREAD_MIN_SIZE:
            self._queue = queue.Queue(maxsize=self.QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._run, name="hash", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hasher.update(chunk)

    def feed_prefix(self, path: os.PathLike, limit: int, cancel: threading.Event | None) -> None:
        """Hash the bytes an earlier attempt left in the partial (before any streamed chunk)."""
        feed_file(self, path, limit, cancel=cancel)

    def update(self, chunk) -> None:
        if self._queue is None:
            self._hasher.update(chunk)
        else:
            self._queue.put(bytes(chunk))  # copy: the caller may reuse its buffer

    def hexdigest(self) -> str:
        self.close()
        return self._hasher.hexdigest()

    def reset(self) -> None:
        """Start over (the server ignored a Range request and sends the whole file)."""
        self.close()
        self.__init__(self._algo, self._size)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


# --- shared state between the file threads and the job's monitor loop ---------------------------
@dataclass
class Progress:
    done: int = 0          # bytes present for the selected files (kept, resumed or received)
    transferred: int = 0   # bytes received over the network this attempt
    resumed: int = 0       # bytes of partials kept from an earlier attempt
    files_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int, *, network: bool = True) -> None:
        with self.lock:
            self.done += n
            if network:
                self.transferred += n

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.done, self.transferred, self.files_done


class RateLimiter:
    """Paces byte consumption to `rate` bytes/s (None: unlimited); the rate may change while running."""

    BURST_SECONDS = 0.25

    def __init__(self, rate: float | None = None):
        self._rate = rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float | None:
        return self._rate

    def set_rate(self, rate: float | None) -> None:
        with self._lock:
            self._rate = rate if rate and rate > 0 else None

    def consume(self, n: int, cancel: threading.Event | None = None) -> None:
        with self._lock:
            if not self._rate:
                return
            now = time.monotonic()
            # Never bank more than a short burst of idle time, so a pause doesn't allow a spike.
            start = max(self._next, now - self.BURST_SECONDS)
            self._next = start + n / self._rate
            wait = self._next - now
        if wait > 0:
            sleep_unless(cancel, wait)


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


class _Retryable(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None, error: JobError | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.error = error


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
    on_event: Callable[[str, str], None] = lambda kind, message: None

    def fetch(self, remote: RemoteFile, *, force: bool = False, trusted_fingerprint: dict | None = None) -> FileOutcome:
        self.cache.ensure_dirs()
        lock = FileLock(str(self.cache.lock_path(remote.etag)))
        while True:  # two jobs sharing a blob: the second waits, then finds it in place
            try:
                lock.acquire(timeout=0.5)
                break
            except LockTimeout:
                if self.cancel.is_set():
                    raise JobCancelled() from None
        try:
            if not force:
                present = self._present(remote, trusted_fingerprint)
                if present:
                    return present
            return self._download(remote)
        finally:
            lock.release()

    # --- already on disk?
    def _present(self, remote: RemoteFile, fingerprint: dict | None) -> FileOutcome | None:
        blob = self.cache.blob_path(remote.etag)
        try:
            st = blob.stat()
        except FileNotFoundError:
            return None
        expected = remote.etag
        if st.st_size == remote.size:
            if fingerprint and fingerprint.get("size") == st.st_size and fingerprint.get("mtime_ns") == st.st_mtime_ns:
                self.progress.add(remote.size, network=False)
                return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, expected, expected,
                                   how="trusted")
            actual = hash_file(blob, remote.hash_algo, remote.size, cancel=self.cancel)
            if actual == expected:
                self.progress.add(remote.size, network=False)
                return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, expected, actual,
                                   how="present")
        self.on_event("repair", f"{remote.path}: the blob on disk does not match the Hub; downloading it again")
        blob.unlink(missing_ok=True)
        return None

    # --- fetch with resume and retries
    def _download(self, remote: RemoteFile) -> FileOutcome:
        partial = self.cache.partial_path(remote.etag)
        hasher = StreamHasher(remote.hash_algo, remote.size)
        offset = 0
        try:
            if partial.exists():
                offset = partial.stat().st_size
                if offset > remote.size:
                    partial.unlink()
                    offset = 0
                elif offset:
                    hasher.feed_prefix(partial, offset, self.cancel)
            resumed_from = offset
            if offset:
                self.progress.add(offset, network=False)
                with self.progress.lock:
                    self.progress.resumed += offset
                self.on_event("resumed", f"{remote.path}: resuming at byte {offset:,} of {remote.size:,}")
            fh = open(partial, "ab")  # noqa: SIM115 - closed in finally; kept open across retries
        except OSError as exc:
            hasher.close()
            raise _storage_error(exc, partial, self.cache) from None

        url = self.hub.file_url(self.repo_id, self.repo_type, self.commit, remote.path)
        transferred_before = offset
        failures = 0
        try:
            while offset < remote.size or remote.size == 0:
                if self.cancel.is_set():
                    raise JobCancelled()
                start = offset
                try:
                    offset = self._stream(url, remote, fh, hasher, offset)
                    if offset >= remote.size:
                        break
                    raise _Retryable(f"connection closed at byte {offset:,} of {remote.size:,}")
                except _Retryable as exc:
                    offset = fh.tell()
                    failures = 0 if offset > start else failures + 1  # the budget counts failures in a row
                    if failures > self.backoff.retries:
                        raise self._give_up(exc, remote) from None
                    delay = self.backoff.delay(max(failures, 1), exc.retry_after)
                    self.on_event("retry", f"{remote.path}: {exc.reason}; retry {max(failures, 1)}/"
                                           f"{self.backoff.retries} in {delay:.1f}s from byte {offset:,}")
                    if sleep_unless(self.cancel, delay):
                        raise JobCancelled() from None
            fh.flush()
            os.fsync(fh.fileno())  # a blob published after a crash must hold the bytes we hashed
        except OSError as exc:
            hasher.close()
            raise _storage_error(exc, partial, self.cache) from None
        except BaseException:
            hasher.close()
            raise
        finally:
            fh.close()

        actual = hasher.hexdigest()
        if actual != remote.etag:
            partial.unlink(missing_ok=True)  # bad bytes must not be resumed from either
            raise JobError(
                "verification_failed",
                f"{remote.path}: {remote.hash_algo} mismatch (expected {remote.etag}, got {actual}); "
                "the downloaded bytes were discarded",
                files=[remote.path],
            )
        try:
            os.replace(partial, self.cache.blob_path(remote.etag))
        except OSError as exc:
            raise _storage_error(exc, partial, self.cache) from None
        return FileOutcome(remote.path, remote.etag, remote.size, remote.hash_algo, remote.etag, actual,
                           resumed_from=resumed_from, transferred=remote.size - transferred_before)

    def _give_up(self, exc: _Retryable, remote: RemoteFile) -> JobError:
        if exc.error is not None:
            return exc.error
        return HubError("network", f"{remote.path}: {exc.reason} (gave up after {self.backoff.retries} retries)",
                        endpoint=self.hub.endpoint, repo_id=self.repo_id, repo_type=self.repo_type,
                        revision=self.revision, detail=exc.reason)

    def _open(self, url: str, offset: int) -> requests.Response:
        """GET with Range, following redirects by hand so the token never reaches another origin."""
        for _ in range(MAX_REDIRECTS + 1):
            headers = self.hub.headers_for(url)
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                resp = self.session.get(url, headers=headers, stream=True, allow_redirects=False, timeout=TIMEOUT)
            except requests.RequestException as exc:
                raise _Retryable(_short(exc)) from None
            if resp.is_redirect:
                url = urljoin(url, resp.headers["Location"])
                resp.close()
                continue
            return resp
        raise _Retryable("too many redirects")

    def _stream(self, url: str, remote: RemoteFile, fh, hasher: StreamHasher, offset: int) -> int:
        resp = self._open(url, offset)
        try:
            status = resp.status_code
            if status == 416 and offset == remote.size:
                return offset
            if status in TRANSIENT_STATUS:
                err = self.hub.error_for_response(status, resp.headers, repo_id=self.repo_id,
                                                  repo_type=self.repo_type, revision=self.revision, path=remote.path)
                raise _Retryable(f"HTTP {status}", retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                                 error=err)
            if status >= 400:
                raise self.hub.error_for_response(status, resp.headers, repo_id=self.repo_id,
                                                  repo_type=self.repo_type, revision=self.revision, path=remote.path)
            if offset and status == 200:
                # The server ignored Range: start over rather than append a second copy.
                self.on_event("restart", f"{remote.path}: server ignored the Range request; restarting the file")
                fh.truncate(0)
                fh.seek(0)
                self.progress.add(-offset, network=False)
                hasher.reset()
                offset = 0
            elif status == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
                raise _Retryable(f"unexpected Content-Range {resp.headers.get('Content-Range')!r}")
            return self._copy(resp, remote, fh, hasher, offset)
        finally:
            resp.close()

    def _copy(self, resp: requests.Response, remote: RemoteFile, fh, hasher, offset: int) -> int:
        raw = resp.raw
        while True:
            if self.cancel.is_set():
                raise JobCancelled()
            try:
                # read1: return what arrived instead of waiting for a full chunk, so cancel and
                # progress stay responsive on slow links.
                chunk = raw.read1(CHUNK)
            except (urllib3.exceptions.HTTPError, requests.RequestException, ConnectionError, TimeoutError) as exc:
                fh.flush()
                raise _Retryable(_short(exc)) from None
            if not chunk:
                return offset
            if offset + len(chunk) > remote.size:
                fh.flush()
                raise JobError("verification_failed",
                               f"{remote.path}: the server sent more than the expected {remote.size:,} bytes",
                               files=[remote.path])
            fh.write(chunk)
            hasher.update(chunk)
            offset += len(chunk)
            self.progress.add(len(chunk))
            for limiter in self.limiters:
                limiter.consume(len(chunk), self.cancel)


def _short(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) < 200 else text[:200] + "…"


def _storage_error(exc: OSError, path, cache: RepoCache) -> JobError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return JobError("disk_full", f"No space left on the device while writing {path}",
                        storage_dir=str(cache.storage_dir), file=os.path.basename(str(path)))
    return JobError("storage_error", f"{exc.strerror or exc} ({path})", storage_dir=str(cache.storage_dir),
                    detail=exc.strerror or str(exc))
