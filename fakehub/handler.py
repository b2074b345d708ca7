"""What every FakeHub request shares: connection handling, response helpers, the request log record,
and the checks a repo route makes first (token, visibility, gating, revision).

The routes themselves are in `api.py` (JSON API) and `files.py` (resolve and the CDN origin);
`server.py` joins them into one handler class and says which URL goes where.
"""

from __future__ import annotations

import json
import socket
import time
import traceback
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from fakehub.model import TYPE_URL_PREFIX, Commit, RepoState
from fakehub.request_log import RequestRecord

if TYPE_CHECKING:
    from fakehub.server import OriginServer

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


class Abort(Exception):
    """End the current request and close its connection (quietly)."""


class HandlerBase(BaseHTTPRequestHandler):
    """Everything but the routes. `_dispatch` hands each request to ``_handle_hub`` (server.py) or
    ``_handle_cdn`` (files.py), which the concrete `server.Handler` has."""

    protocol_version = "HTTP/1.1"
    server: OriginServer

    def version_string(self) -> str:
        return "FakeHub/1.0"

    # ---- connection lifecycle -------------------------------------------------------------------
    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.hub._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.hub._track(self.connection, False)

    def handle(self):
        try:
            super().handle()
        except (OSError, Abort, ValueError):
            self.close_connection = True

    def log_message(self, format, *args):  # silence access/error logging
        pass

    def log_error(self, format, *args):
        pass

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # ---- response helpers -----------------------------------------------------------------------
    def _start(self, status: int, headers: Iterable[tuple[str, str]]):
        self._rec.status = status
        self._headers_sent = True
        self.send_response(status)
        for k, v in [*headers, *getattr(self, "_quota_headers", ())]:  # rate-limit mode (ratelimit.py)
            self.send_header(k, v)
        self.end_headers()

    def _send_json(self, status: int, obj, headers: Iterable[tuple[str, str]] = ()):
        body = json.dumps(obj).encode()
        hdrs = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
        self._start(status, [*hdrs, *headers])
        if self.command != "HEAD":
            self.wfile.write(body)
            self._rec.bytes_sent += len(body)

    def _send_error(self, status: int, message: str, code: str | None = None, headers: Iterable = ()):
        hdrs = [("X-Error-Message", message)]
        if code:
            hdrs.append(("X-Error-Code", code))
        self._send_json(status, {"error": message}, [*hdrs, *headers])

    def _send_all(self, buf) -> None:
        view = memoryview(buf)
        sock = self.connection
        while view:
            n = sock.send(view)
            if n <= 0:
                raise Abort()
            self._rec.bytes_sent += n
            self._body_sent += n
            view = view[n:]

    def _read_request_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            try:
                return self.rfile.read(int(length))
            except ValueError:
                self.close_connection = True
                return b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        return b""

    # ---- dispatch -------------------------------------------------------------------------------
    def _dispatch(self):
        hub = self.server.hub
        split = urlsplit(self.path)
        self._headers_sent = False
        self._body_sent = 0
        self._quota_headers: list[tuple[str, str]] = []
        self._rec = rec = RequestRecord(
            method=self.command,
            path=split.path,
            server=self.server.kind,
            authorization=self.headers.get("Authorization"),
            time=time.time(),
            query=split.query,
        )
        hub._log(rec)
        try:
            self._body = self._read_request_body()
            self._query = parse_qsl(split.query, keep_blank_values=True)
            if hub.down:
                self._send_error(503, "Service Unavailable")
            elif self.server.kind == "cdn":
                self._handle_cdn(split.path)
            else:
                self._quota_headers, retry_after = hub.charge_quota(split.path)
                if retry_after is None:
                    self._handle_hub(split.path)
                else:
                    self._send_error(429, "You have exceeded our rate limit; retry later", None,
                                     [("Retry-After", str(retry_after))])
        except Abort:
            self.close_connection = True
        except OSError:
            self.close_connection = True
        except Exception:
            hub.server_errors.append(traceback.format_exc())
            self.close_connection = True
            if not self._headers_sent:
                try:
                    self._send_error(500, "Internal error in FakeHub")
                except OSError:
                    pass
        finally:
            rec.end_time = time.time()

    # ---- checks shared by the repo routes ------------------------------------------------------
    def _token_user(self) -> tuple[bool, dict | None]:
        """(ok, token_info): ok is False when an Authorization header carries an unknown token."""
        auth = self.headers.get("Authorization")
        if not auth:
            return True, None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False, None
        info = self.server.hub._tokens.get(token.strip())
        return (info is not None), info

    def _check_repo(self, repo_type: str, repo_id: str, *, content: bool) -> RepoState | None:
        """Authentication/visibility/gating checks; sends the error and returns None on failure."""
        hub = self.server.hub
        self._rec.repo_id = repo_id
        self._rec.repo_type = repo_type
        ok, tok = self._token_user()
        if not ok:
            self._send_error(401, INVALID_CREDENTIALS)
            return None
        state = hub._get_state(repo_type, repo_id)
        if state is None:
            self._send_error(404, "Repository not found", "RepoNotFound")
            return None
        allowed = tok is not None and (
            repo_id in tok["can_access"] or "*" in tok["can_access"] or repo_id.split("/")[0] == tok["user"]
        )
        if state.private and not allowed:
            if tok is None:
                self._send_error(401, "Repository not found", "RepoNotFound")
            else:
                self._send_error(404, "Repository not found", "RepoNotFound")
            return None
        if content and state.gated and not allowed:
            word = repo_type
            if tok is None:
                msg = (
                    f"Access to {word} {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in."
                )
                self._send_error(401, msg, "GatedRepo")
            else:
                msg = (
                    f"Access to {word} {repo_id} is restricted and you are not in the authorized list. "
                    f"Visit {hub.url}/{TYPE_URL_PREFIX[repo_type]}{repo_id} to ask for access."
                )
                self._send_error(403, msg, "GatedRepo")
            return None
        return state

    def _resolve_rev(self, state: RepoState, segs: list[str]) -> tuple[Commit | None, str, list[str]]:
        """Find the revision at the start of raw ``segs`` (quoted, or unquoted with slashes)."""
        hub = self.server.hub
        with hub._lock:
            for k in range(1, min(len(segs), 4) + 1):
                rev = unquote("/".join(segs[:k]))
                commit = state.resolve(rev)
                if commit is not None:
                    self._rec.revision = rev
                    return commit, rev, segs[k:]
        rev = unquote(segs[0]) if segs else ""
        self._rec.revision = rev
        return None, rev, segs[1:]

    def _repo_at(
        self, repo_type: str, repo_id: str, segs: list[str], *, content: bool
    ) -> tuple[RepoState, Commit, list[str]] | None:
        """`_check_repo`, then the revision ``segs`` start with: (state, commit, the rest of ``segs``), or
        None once the error is sent."""
        state = self._check_repo(repo_type, repo_id, content=content)
        if state is None:
            return None
        commit, rev, rest = self._resolve_rev(state, segs)
        if commit is None:
            self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            return None
        return state, commit, rest
