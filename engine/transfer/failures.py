"""How a transfer fails: what another attempt may get past (Retryable), and what the job ends with
when the disk, not the network, is the problem."""

import errno
import os

from engine.cache.layout import RepoCache
from engine.errors import ErrorCode, JobError
from engine.hub import RemoteFile


class Retryable(Exception):
    """A failure another attempt may get past. `stalled`: the attempt moved a few bytes but too
    slowly to count as progress, so it does not reset the retry budget (a trickling server would
    otherwise hold a worker for ever). `rate_limited`: the server refused for its rate limit (429), and
    waiting as it asks is expected to work (transfer/retries.py)."""

    def __init__(self, reason: str, *, retry_after: float | None = None, error: JobError | None = None,
                 stalled: bool = False, rate_limited: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.error = error
        self.stalled = stalled
        self.rate_limited = rate_limited


def too_long(remote: RemoteFile) -> JobError:
    return JobError(ErrorCode.VERIFICATION_FAILED, f"{remote.path}: the server sent more than the expected "
                    f"{remote.size:,} bytes", files=[remote.path])


def short(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) < 200 else text[:200] + "…"


def storage_error(exc: OSError, path, cache: RepoCache) -> JobError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return JobError(ErrorCode.DISK_FULL, f"No space left on the device while writing {path}",
                        storage_dir=str(cache.storage_dir), file=os.path.basename(str(path)))
    return JobError(ErrorCode.STORAGE_ERROR, f"{exc.strerror or exc} ({path})",
                    storage_dir=str(cache.storage_dir), detail=exc.strerror or str(exc))
