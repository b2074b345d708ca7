"""A Hub-compatible server that lies: every answer is scripted by the test, so a test can send the
values a malicious mirror or proxy would (blob ids and commits that are paths, `Link` and `Location`
headers to other hosts, endless redirects, trickled bodies, false `Content-Length`).

Two listeners: the *endpoint* ModelHub is configured with, and *elsewhere*, another origin (same
host, another port) that pagination links and redirects point at. Both record every request with
the Authorization header it carried, so a test can prove the token reached the endpoint alone.

    with HostileHub() as evil:
        evil.repo("org/x", sha="../../victim", files={"a.json": b"{}"})
        ... run a download against evil.url ...
        assert evil.origins_that_saw("hf_...") <= {evil.url}
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

Handler = Callable[["_Handler"], None]


def git_blob_sha1(data: bytes) -> str:
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


@dataclass
class Seen:
    origin: str          # the listener's base URL
    method: str
    path: str
    authorization: str | None


@dataclass
class Script:
    """What the endpoint answers for one repo. Any value may be hostile; None means "the honest one"."""

    repo_id: str
    sha: object
    files: dict[str, bytes]
    tree: list[dict] | None = None          # raw tree entries; default: honest entries for `files`
    tree_link: str | None = None            # a `Link: <...>; rel="next"` on the first tree page
    info: Handler | None = None             # replaces the revision-info answer
    resolve: dict[str, Handler] = field(default_factory=dict)  # path -> replaces the file answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hub: HostileHub, name: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub = hub
        self.name = name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):  # a client hanging up mid-body is expected here
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._dispatch()

    # --- helpers for scripted answers
    def send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj, headers: dict | None = None) -> None:
        self.send(200, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def send_file(self, data: bytes, headers: dict | None = None) -> None:
        """`data` honestly, with Range support (206 + Content-Range)."""
        start = 0
        match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) + 1 if match.group(2) else len(data)
            chunk = data[start:end]
            self.send(206, chunk, {"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(data)}",
                                   **(headers or {})})
        else:
            self.send(200, data, headers)

    @property
    def range_start(self) -> int:
        match = re.match(r"bytes=(\d+)-", self.headers.get("Range") or "")
        return int(match.group(1)) if match else 0

    # --- routing
    def _dispatch(self) -> None:
        hub = self.server.hub
        path = urlsplit(self.path).path
        hub.seen.append(Seen(self.server.url, self.command, self.path, self.headers.get("Authorization")))
        if self.server.name == "elsewhere":
            return hub.elsewhere_handler(self)
        if path == "/api/whoami-v2":
            return self.send_json({"type": "user", "name": "victim", "auth": {"type": "access_token"}})
        m = re.match(r"^/api/models/([^/]+/[^/]+)/revision/[^/]+$", path)
        if m and (script := hub.scripts.get(unquote(m.group(1)))):
            return (script.info or _honest_info(script))(self)
        m = re.match(r"^/api/models/([^/]+/[^/]+)/tree/", path)
        if m and (script := hub.scripts.get(unquote(m.group(1)))):
            headers = {"Link": f'<{script.tree_link}>; rel="next"'} if script.tree_link else {}
            return self.send_json(script.tree if script.tree is not None else honest_tree(script.files),
                                  headers)
        m = re.match(r"^/([^/]+/[^/]+)/resolve/[^/]+/(.+)$", path)
        if m and (script := hub.scripts.get(unquote(m.group(1)))):
            file_path = unquote(m.group(2))
            if file_path in script.resolve:
                return script.resolve[file_path](self)
            if file_path in script.files:
                return self.send_file(script.files[file_path])
        self.send(404, b'{"error": "not found"}',
                  {"X-Error-Code": "RepoNotFound", "X-Error-Message": "not found"})


def honest_tree(files: dict[str, bytes]) -> list[dict]:
    entries = []
    for path, data in files.items():
        entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_sha1(data)}
        if path.endswith((".safetensors", ".gguf", ".bin")):
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
        entries.append(entry)
    return entries


def _honest_info(script: Script) -> Handler:
    def answer(handler: _Handler) -> None:
        handler.send_json({"id": script.repo_id, "sha": script.sha, "private": False, "gated": False,
                           "siblings": [{"rfilename": p} for p in script.files]})
    return answer


def in_pieces(data: bytes, *, piece: int, every: float) -> Handler:
    """Answers with the right headers (Range honoured), then `piece` bytes every `every` seconds:
    one byte at a time is a stalling mirror; small pieces fill a client's write buffer."""
    def answer(handler: _Handler) -> None:
        start = handler.range_start
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(data) - start))
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        for pos in range(start, len(data), piece):
            if handler.server.hub.stopping.is_set():
                return
            handler.wfile.write(data[pos:pos + piece])
            handler.wfile.flush()
            time.sleep(every)
    return answer


def trickle(data: bytes, *, every: float) -> Handler:
    """One byte per `every` seconds (a stalling mirror)."""
    return in_pieces(data, piece=1, every=every)


class HostileHub:
    def __init__(self):
        self.endpoint = _Server(self, "endpoint")
        self.other = _Server(self, "elsewhere")
        self.scripts: dict[str, Script] = {}
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        # What "elsewhere" answers: by default an empty tree page / the requested bytes are unknown.
        self.elsewhere_handler: Handler = lambda h: h.send_json([])

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def elsewhere(self) -> str:
        return self.other.url

    def repo(self, repo_id: str, *, sha: object = "a" * 40, files: dict[str, bytes] | None = None,
             **script) -> Script:
        self.scripts[repo_id] = Script(repo_id, sha, dict(files or {}), **script)
        return self.scripts[repo_id]

    def origins_that_saw(self, token: str) -> set[str]:
        return {s.origin for s in self.seen if s.authorization and token in s.authorization}

    def requests_to(self, origin: str) -> list[Seen]:
        return [s for s in self.seen if s.origin == origin]

    def start(self) -> HostileHub:
        for server in (self.endpoint, self.other):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for server in (self.endpoint, self.other):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> HostileHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
