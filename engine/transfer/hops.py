"""The requests of a file's bytes: redirects followed by hand, each hop paced and with its own headers.

The token goes only to the endpoint's origin (`HubClient.headers_for` per hop), and a redirect may
only lead to an http(s) URL. A file's URL redirects to the CDN on the Hub; where it did, the file's
other connections (segments, retries) go straight to where it led: one redirect per file instead of
one per connection, which on a fast link is a visible share of the time before the first byte, and
one resolve request per file against the Hub's rate limit. Connections starting together wait for
the first one's redirect instead of each asking. If the target stops answering well (its signed URL
expired, a 5xx), the file's URL is asked again.
"""

import threading
from urllib.parse import urljoin, urlsplit

import requests

from engine.errors import ErrorCode, JobCancelled
from engine.events import EventKind
from engine.hub import quota
from engine.transfer.failures import Retryable, short

MAX_REDIRECTS = 5
TIMEOUT = (10, 60)  # connect, read (seconds without a byte)


class Hops:
    def __init__(self, fetcher):
        self.f = fetcher
        self._lock = threading.Lock()
        self._locations: dict[str, str] = {}  # file URL -> where it redirected
        self._resolving: dict[str, threading.Event] = {}  # file URLs whose first redirect is under way
        # one "waiting for the rate limit" event per stretch for the whole job, not per file or thread
        self._quota_watch = quota.Watch(lambda message: self.f.on_event(EventKind.RATE_LIMIT, message))

    def open(self, url: str, offset: int, end: int | None = None) -> requests.Response:
        """GET `url` (Range from `offset` to `end`, exclusive), through its redirects."""
        with self._lock:
            target = self._locations.get(url)
            pending = self._resolving.get(url) if target is None else None
            if target is None and pending is None:
                self._resolving[url] = threading.Event()
        if pending is not None:  # another connection is resolving it: its answer serves this one too
            pending.wait(TIMEOUT[0])
            with self._lock:
                target = self._locations.get(url)
        if target is None:
            try:
                return self._follow(url, url, offset, end)
            finally:
                self._resolved(url)
        resp = self._follow(url, target, offset, end)
        if resp.status_code < 400:
            return resp
        resp.close()  # the target no longer serves (an expired signature, a failing node): ask again
        with self._lock:
            if self._locations.get(url) == target:
                del self._locations[url]
        return self._follow(url, url, offset, end)

    def _follow(self, url: str, hop: str, offset: int, end: int | None) -> requests.Response:
        """GET `hop` and the redirects from there; the last place `url` led to is remembered."""
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._get(hop, offset, end)
            if not resp.is_redirect:
                return resp
            hop = self._redirect_target(hop, resp.headers.get("Location", ""))
            resp.close()
            with self._lock:
                self._locations[url] = hop
            self._resolved(url)  # the connections waiting for it may go there now, alongside this one
        raise self.f.hub_error(ErrorCode.REDIRECT_LOOP, f"{url} redirected more than {MAX_REDIRECTS} times",
                               detail=f"more than {MAX_REDIRECTS} redirects")

    def _resolved(self, url: str) -> None:
        with self._lock:
            event = self._resolving.pop(url, None)
        if event is not None:
            event.set()

    def _get(self, url: str, offset: int, end: int | None) -> requests.Response:
        """One request, paced by the server's rate-limit headers (engine/hub/quota.py)."""
        headers = self.f.hub.headers_for(url)
        if offset or end is not None:
            headers["Range"] = f"bytes={offset}-{'' if end is None else end - 1}"
        if not quota.before(url, self.f.cancel, self._quota_watch):
            raise JobCancelled()
        try:
            resp = self.f.session.get(url, headers=headers, stream=True, allow_redirects=False,
                                      timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise Retryable(short(exc)) from None
        quota.after(url, resp.status_code, resp.headers)
        return resp

    def _redirect_target(self, url: str, location: str) -> str:
        """Where a redirect leads, if it is somewhere a download may go: an http(s) URL."""
        target = urljoin(url, location)
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).hostname:
            raise self.f.hub_error(ErrorCode.PROTOCOL_ERROR,
                                   f"{urlsplit(url).netloc} redirected a download to "
                                   f"{location[:200]!r}, which is not an http(s) URL",
                                   detail="redirect to a non-http(s) location")
        return target
