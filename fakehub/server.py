"""A Hugging Face Hub compatible HTTP server for tests and benchmarks (standard library only).

It speaks the plain-HTTP subset of the Hub protocol that ``huggingface_hub`` uses to download
(see ``/work/shared/docs/hub-protocol.md``): repo info, tree listing (paginated), paths-info,
refs, commits, ``HEAD``/``GET`` on ``resolve`` URLs with ``Range`` support, ``whoami-v2``,
Hub-style errors (``X-Error-Code`` / ``X-Error-Message``), gated and private repos, an optional
second "CDN" origin that LFS files redirect to, fault injection and a request log.
It never sends Xet headers, so clients always fall back to plain HTTP.

Usage in tests::

    with FakeHub() as hub:
        repo = hub.add_repo("org/name", {"config.json": b"{}", "model.safetensors": Path(...)})
        hf_hub_download("org/name", "config.json", endpoint=hub.url, token=False)

Usage from a shell (benchmarks)::

    python -m fakehub --port 0 --repo org/name=/path/to/dir [--repo ...] [--throttle BPS] [--log FILE]

prints ``READY <url>`` once it serves, and serves until SIGTERM/SIGINT.

The pieces: `model.py` and `blobs.py` (what is served), `repos.py`, `faults.py` and `request_log.py`
(the halves of `FakeHub` that tests drive), `handler.py`, `api.py` and `files.py` (answering a request),
`cli.py` (``python -m fakehub``). This module starts and stops the listening sockets.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Iterable
from http.server import ThreadingHTTPServer
from urllib.parse import unquote

from fakehub.api import ApiRoutes
from fakehub.faults import FaultInjection
from fakehub.files import FileRoutes
from fakehub.handler import Abort
from fakehub.repos import RepoStore
from fakehub.request_log import RequestLog
from fakehub.search import SearchRoutes

__all__ = ["FakeHub"]

_API_PREFIX_TO_TYPE = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX_TO_TYPE = {"datasets": "dataset", "spaces": "space"}


class OriginServer(ThreadingHTTPServer):
    """One origin on 127.0.0.1: ``kind`` is "hub" or "cdn"; handlers reach the FakeHub as ``server.hub``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, hub: FakeHub, kind: str, port: int):
        self.hub = hub
        self.kind = kind
        super().__init__(("127.0.0.1", port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), which can block on DNS; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):  # never print tracebacks
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError | Abort):
            self.hub.server_errors.append(traceback.format_exc())


class Handler(ApiRoutes, FileRoutes, SearchRoutes):
    """One request to either origin. The CDN origin serves files only (`FileRoutes._handle_cdn`); the
    hub origin's URLs are told apart here."""

    def _handle_hub(self, path: str):
        hub = self.server.hub
        segs = path.split("/")[1:]
        if path.rstrip("/") == "/api/whoami-v2":
            return self._whoami()
        if len(segs) == 2 and segs[0] == "api" and segs[1] in _API_PREFIX_TO_TYPE:  # /api/models?search=
            return self._search(_API_PREFIX_TO_TYPE[segs[1]])
        if len(segs) >= 3 and segs[0] == "api" and segs[1] in _API_PREFIX_TO_TYPE:
            repo_type = _API_PREFIX_TO_TYPE[segs[1]]
            repo_id, rest = hub._split_repo_id(repo_type, segs[2:])
            return self._api(repo_type, repo_id, rest)
        rest = segs
        repo_type = "model"
        if rest and rest[0] in _URL_PREFIX_TO_TYPE:
            repo_type = _URL_PREFIX_TO_TYPE[rest[0]]
            rest = rest[1:]
        if len(rest) >= 4 and rest[2] == "resolve":  # {org}/{name}/resolve/{rev}/{path}
            return self._resolve(repo_type, unquote(f"{rest[0]}/{rest[1]}"), rest[3:])
        if len(rest) >= 3 and rest[1] == "resolve":  # {name}/resolve/{rev}/{path} (legacy ids without org)
            return self._resolve(repo_type, unquote(rest[0]), rest[2:])
        return self._send_error(404, "Not Found")


class FakeHub(RepoStore, FaultInjection, RequestLog):
    """A Hub-compatible server on 127.0.0.1 (plus an optional CDN origin on ``localhost``)."""

    def __init__(self, *, tree_page_size: int = 50, use_cdn: bool = False, port: int = 0, cdn_port: int = 0):
        self.tree_page_size = tree_page_size
        self.use_cdn = use_cdn
        self.url: str = ""
        self.cdn_url: str = ""
        self.down = False  # every request is answered 503
        self.model_search = True  # False: /api/models answers 404, as on a mirror without search
        self.server_errors: list[str] = []  # tracebacks of unexpected exceptions inside handlers
        self._port = port
        self._cdn_port = cdn_port
        self._tokens: dict[str, dict] = {}
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()  # open connections, shut down by stop()
        self._servers: list[OriginServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()  # wakes stalled and throttled bodies when stop() is called
        self._init_repos()
        self._init_faults()
        self._init_log()

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeHub:
        if self._servers:
            return self
        self._stopping.clear()
        hub_srv = OriginServer(self, "hub", self._port)
        self._servers.append(hub_srv)
        self.url = f"http://127.0.0.1:{hub_srv.server_address[1]}"
        if self.use_cdn:
            cdn_srv = OriginServer(self, "cdn", self._cdn_port)
            self._servers.append(cdn_srv)
            self.cdn_url = f"http://localhost:{cdn_srv.server_address[1]}"
        for srv in self._servers:
            t = threading.Thread(
                target=srv.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fakehub-{srv.kind}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for srv in self._servers:
            srv.shutdown()
        with self._conn_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for srv in self._servers:
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def add_token(
        self, token: str, *, user: str = "alice", role: str = "read", can_access: Iterable[str] = ()
    ) -> None:
        """Register a valid token. It reads gated/private repos listed in ``can_access`` ("*" = all)
        and private repos of its own namespace ``user``."""
        self._tokens[token] = {"user": user, "role": role, "can_access": set(can_access)}
