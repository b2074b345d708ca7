"""The retry loop every connection of a file runs: transient failures back off and try again, from
where the bytes stopped, until a budget of failures in a row is spent.

A refusal for the rate limit (429) is not a failure of the network or the server: the Hub says when
to come back (Retry-After), and coming back then succeeds. Those waits are not counted against the
failure budget, so a repo of thousands of files outlasts a busy window instead of failing its job;
they have their own, generous budget (retrying.py), so a server that answers 429 for ever still lets go.
"""

from collections.abc import Callable

from engine.errors import ErrorCode, HubError, JobCancelled, JobError
from engine.events import EventKind
from engine.hub import RemoteFile
from engine.retrying import rate_limit_allows, sleep_unless
from engine.transfer.failures import Retryable


def retry_until_done(f, remote: RemoteFile, *, position: Callable[[], int], attempt: Callable[[], bool],
                     label: str = "") -> None:
    """Call `attempt` until it reports completion, retrying transient failures with backoff (`f` is
    the Fetcher: backoff, cancel, events).

    The retry budget counts failures in a row: an attempt that moved `position` forward resets it, so
    a long download over a flaky link keeps going while a dead one gives up.
    """
    failures = limited = 0
    limited_wait = 0.0
    while True:
        if f.cancel.is_set():
            raise JobCancelled()
        start = position()
        try:
            if attempt():
                return
            raise Retryable(f"connection closed at byte {position():,} of {remote.size:,}")
        except Retryable as exc:
            if position() > start:
                limited, limited_wait = 0, 0.0
            if exc.rate_limited and rate_limit_allows(limited, limited_wait):
                limited += 1
                delay = f.backoff.delay(min(limited, 6), exc.retry_after)
                limited_wait += delay
                f.on_event(EventKind.RETRY, f"{remote.path}{label}: the Hub's rate limit ({exc.reason}); "
                           f"waiting {delay:.1f}s as it asks, then continuing from byte {position():,}")
            else:
                failures = 0 if position() > start and not exc.stalled else failures + 1
                if failures > f.backoff.retries:
                    raise give_up(f, exc, remote) from None
                delay = f.backoff.delay(max(failures, 1), exc.retry_after)
                f.on_event(EventKind.RETRY,
                           f"{remote.path}{label}: {exc.reason}; retry {max(failures, 1)}/"
                           f"{f.backoff.retries} in {delay:.1f}s from byte {position():,}")
            if sleep_unless(f.cancel, delay):
                raise JobCancelled() from None


def give_up(f, exc: Retryable, remote: RemoteFile) -> JobError:
    if exc.error is not None:
        return exc.error
    return HubError(ErrorCode.NETWORK,
                    f"{remote.path}: {exc.reason} (gave up after {f.backoff.retries} retries)",
                    endpoint=f.hub.endpoint, repo_id=f.repo_id, repo_type=f.repo_type,
                    revision=f.revision, detail=exc.reason)
