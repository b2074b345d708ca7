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
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import pathlib
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

__all__ = ["FakeHub", "Repo", "HubFile", "RequestRecord", "LFS_SUFFIXES", "git_blob_sha1"]

LFS_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".onnx")
LFS_SIZE_THRESHOLD = 1024
CORRUPT_BYTES = 4096  # corrupt_next flips every byte of the first 4 KiB of the response body
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"

_REPO_TYPES = ("model", "dataset", "space")
_API_PREFIX_TO_TYPE = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX_TO_TYPE = {"datasets": "dataset", "spaces": "space"}
_TYPE_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_FLIP = bytes(range(255, -1, -1))  # translate table: v -> v ^ 0xFF
_HEX40 = re.compile(r"[0-9a-f]{40}")
_HAS_SENDFILE = hasattr(os, "sendfile")
_HASH_CHUNK = 8 * 1024 * 1024


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of ``data``: ``sha1(b"blob %d\\0" % len(data) + data)``."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


# --------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubFile:
    """One file of one commit.

    ``git_sha1`` is the git blob id the Hub reports as ``oid``/``blobId``: the sha1 of the content's
    git blob for regular files, and of the LFS *pointer* blob for LFS files (exactly like the real
    Hub). ``sha256`` is set for LFS files only. ``etag`` is what the cache names the blob after.
    """

    path: str
    size: int
    git_sha1: str
    is_lfs: bool
    sha256: str | None = None
    data: bytes | None = field(default=None, repr=False)
    source: pathlib.Path | None = None
    pointer_size: int | None = None

    @property
    def oid(self) -> str:
        return self.git_sha1

    @property
    def etag(self) -> str:
        return self.sha256 if self.is_lfs and self.sha256 else self.git_sha1

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.source is not None
        return self.source.read_bytes()

    def _read(self, fh, pos: int, n: int) -> bytes:
        if self.data is not None:
            return self.data[pos : pos + n]
        fh.seek(pos)
        return fh.read(n)


@dataclass(frozen=True)
class _Commit:
    sha: str
    parent: str | None
    files: dict[str, HubFile]
    title: str
    timestamp: float


@dataclass(frozen=True)
class Repo:
    """What ``add_repo``/``add_commit`` return: one commit of one branch of a repo."""

    repo_id: str
    repo_type: str
    branch: str
    commit: str
    files: dict[str, HubFile]
    parent: str | None = None
    gated: bool | str = False
    private: bool = False

    @property
    def sha(self) -> str:
        return self.commit


@dataclass
class RequestRecord:
    method: str
    path: str
    server: str  # "hub" | "cdn"
    repo_id: str | None = None
    file_path: str | None = None
    status: int | None = None
    range_start: int | None = None
    bytes_sent: int = 0
    authorization: str | None = None
    time: float = 0.0
    # extras
    range_end: int | None = None  # inclusive, as in Content-Range
    query: str = ""
    repo_type: str | None = None
    revision: str | None = None
    end_time: float | None = None

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.time


class _RepoState:
    def __init__(self, repo_id: str, repo_type: str, default_branch: str):
        self.repo_id = repo_id
        self.repo_type = repo_type
        self.default_branch = default_branch
        self.branches: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.commits: dict[str, _Commit] = {}
        self.gated: bool | str = False
        self.private = False
        self.created = time.time()
        self._tree_cache: dict[str, list[dict]] = {}

    def resolve(self, rev: str) -> _Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        if rev in self.tags:
            return self.commits[self.tags[rev]]
        if rev in self.commits:
            return self.commits[rev]
        if 7 <= len(rev) < 40 and re.fullmatch(r"[0-9a-f]+", rev):
            hits = [c for sha, c in self.commits.items() if sha.startswith(rev)]
            if len(hits) == 1:
                return hits[0]
        return None

    def last_commit_of(self, commit: _Commit, path: str) -> _Commit:
        """The newest commit (walking back from ``commit``) since which ``path`` is unchanged."""
        entry = commit.files.get(path)
        cur = commit
        while cur.parent is not None:
            parent = self.commits[cur.parent]
            prev = parent.files.get(path)
            if entry is None:
                if not any(p == path or p.startswith(path + "/") for p in parent.files):
                    break
                if _dir_oid(parent, path) != _dir_oid(cur, path):
                    break
            elif prev is None or prev.git_sha1 != entry.git_sha1:
                break
            cur = parent
        return cur


def _dir_oid(commit: _Commit, dirpath: str) -> str:
    h = hashlib.sha1(b"tree\0")
    prefix = dirpath + "/" if dirpath else ""
    for p in sorted(commit.files):
        if p.startswith(prefix):
            h.update(p.encode() + b"\0" + commit.files[p].git_sha1.encode() + b"\n")
    return h.hexdigest()


def _tree_entries(state: _RepoState, commit: _Commit) -> list[dict]:
    """All entries (directories first, then files, each sorted by path) of a commit; cached."""
    cached = state._tree_cache.get(commit.sha)
    if cached is not None:
        return cached
    dirs: set[str] = set()
    for p in commit.files:
        parts = p.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    entries: list[dict] = [{"type": "directory", "path": d, "oid": _dir_oid(commit, d)} for d in sorted(dirs)]
    for p in sorted(commit.files):
        entries.append(_file_entry_json(commit.files[p]))
    state._tree_cache[commit.sha] = entries
    return entries


def _file_entry_json(f: HubFile) -> dict:
    entry: dict = {"type": "file", "oid": f.git_sha1, "size": f.size, "path": f.path}
    if f.is_lfs:
        entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
    return entry


class _Fault:
    __slots__ = ("kind", "pattern", "count", "status", "retry_after", "methods", "nbytes", "seconds")

    def __init__(
        self,
        kind,
        pattern,
        count,
        *,
        status=None,
        retry_after=None,
        methods=("GET",),
        nbytes=None,
        seconds=None,
    ):
        self.kind = kind
        self.pattern = pattern
        self.count = count
        self.status = status
        self.retry_after = retry_after
        self.methods = tuple(m.upper() for m in methods)
        self.nbytes = nbytes
        self.seconds = seconds


@dataclass
class _BodyPlan:
    stall: float | None = None
    drop: int | None = None
    corrupt: bool = False
    bps: int | None = None


class _Abort(Exception):
    """End the current request and close its connection (quietly)."""


# Hashes of files on disk, so add_commit / repeated add_repo of the same big files do not re-hash.
_PATH_HASH_CACHE: dict[tuple, str] = {}
_PATH_HASH_LOCK = threading.Lock()


def _file_sha256(path: pathlib.Path) -> str:
    st = path.stat()
    key = ("sha256", str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _PATH_HASH_LOCK:
        hit = _PATH_HASH_CACHE.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    with _PATH_HASH_LOCK:
        _PATH_HASH_CACHE[key] = digest
    return digest


def _file_git_sha1(path: pathlib.Path, size: int) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, hub: FakeHub, kind: str, port: int):
        self.hub = hub
        self.kind = kind
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), which can block on DNS; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):  # never print tracebacks
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError | _Abort):
            self.hub.server_errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

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
        except (OSError, _Abort, ValueError):
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
        for k, v in headers:
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
                raise _Abort()
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
                self._handle_hub(split.path)
        except _Abort:
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

    # ---- hub routes -----------------------------------------------------------------------------
    def _handle_hub(self, path: str):
        hub = self.server.hub
        segs = path.split("/")[1:]
        if path.rstrip("/") == "/api/whoami-v2":
            return self._whoami()
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

    def _check_repo(self, repo_type: str, repo_id: str, *, content: bool) -> _RepoState | None:
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
                    f"Visit {hub.url}/{_TYPE_URL_PREFIX[repo_type]}{repo_id} to ask for access."
                )
                self._send_error(403, msg, "GatedRepo")
            return None
        return state

    def _resolve_rev(self, state: _RepoState, segs: list[str]) -> tuple[_Commit | None, str, list[str]]:
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

    def _api(self, repo_type: str, repo_id: str, rest: list[str]):
        route = rest[0] if rest else ""
        if route in ("", "revision"):
            if self.command not in ("GET", "HEAD"):
                return self._send_error(405, "Method Not Allowed")
            return self._repo_info(repo_type, repo_id, rest[1:] if route else None)
        if route == "tree" and len(rest) >= 2 and self.command in ("GET", "HEAD"):
            return self._tree(repo_type, repo_id, rest[1:])
        if route == "paths-info" and len(rest) >= 2 and self.command == "POST":
            return self._paths_info(repo_type, repo_id, rest[1:])
        if route == "refs" and len(rest) == 1 and self.command == "GET":
            return self._refs(repo_type, repo_id)
        if route == "commits" and len(rest) >= 2 and self.command == "GET":
            return self._commits(repo_type, repo_id, rest[1:])
        return self._send_error(404, "Not Found")

    def _repo_info(self, repo_type: str, repo_id: str, rev_segs: list[str] | None):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=False)
        if state is None:
            return
        if rev_segs is None:
            rev_segs = [quote(state.default_branch, safe="")]
        rev = unquote("/".join(rev_segs))
        with hub._lock:
            commit = state.resolve(rev)
        self._rec.revision = rev
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        q = dict(self._query)
        blobs = q.get("blobs", "").lower() in ("true", "1")
        siblings = []
        for p in sorted(commit.files):
            f = commit.files[p]
            sib: dict = {"rfilename": p}
            if blobs:
                sib["size"] = f.size
                sib["blobId"] = f.git_sha1
                if f.is_lfs:
                    sib["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            siblings.append(sib)
        info = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": commit.sha,
            "lastModified": _iso(commit.timestamp),
            "createdAt": _iso(state.created),
            "private": state.private,
            "gated": state.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "cardData": None,
            "siblings": siblings,
            "usedStorage": sum(f.size for f in commit.files.values()),
        }
        if repo_type == "model":
            info["modelId"] = repo_id
            info["spaces"] = []
        return self._send_json(200, info)

    def _tree(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=True)
        if state is None:
            return
        commit, rev, rest = self._resolve_rev(state, segs)
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        sub = unquote("/".join(rest)).strip("/")
        q = dict(self._query)
        recursive = q.get("recursive", "").lower() in ("true", "1")
        expand = q.get("expand", "").lower() in ("true", "1")
        with hub._lock:
            entries = _tree_entries(state, commit)
        if sub:
            if not any(e["type"] == "directory" and e["path"] == sub for e in entries):
                return self._send_error(
                    404, f"Entry not found: {sub}", "EntryNotFound", [("X-Repo-Commit", commit.sha)]
                )
            prefix = sub + "/"
        else:
            prefix = ""
        selected = [
            e
            for e in entries
            if e["path"].startswith(prefix) and (recursive or "/" not in e["path"][len(prefix) :])
        ]
        try:
            offset = int(base64.urlsafe_b64decode(q["cursor"].encode()).decode()) if q.get("cursor") else 0
        except (ValueError, UnicodeDecodeError):
            return self._send_error(400, "Invalid cursor", "BadRequest")
        size = max(1, hub.tree_page_size)
        page = selected[offset : offset + size]
        if expand:
            page = [self._expand(state, commit, e) for e in page]
        headers = []
        if offset + size < len(selected):
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            params = [(k, v) for k, v in self._query if k != "cursor"] + [("cursor", cursor)]
            host = self.headers.get("Host") or hub.url.split("://", 1)[1]
            url = f"http://{host}{self._rec.path}?{urlencode(params)}"
            headers.append(("Link", f'<{url}>; rel="next"'))
        self._send_json(200, page, headers)

    def _expand(self, state: _RepoState, commit: _Commit, entry: dict) -> dict:
        last = state.last_commit_of(commit, entry["path"])
        out = dict(entry)
        out["lastCommit"] = {"id": last.sha, "title": last.title, "date": _iso(last.timestamp)}
        if entry["type"] == "file":
            out["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False, "virusNames": None},
                "pickleImportScan": None,
            }
        return out

    def _paths_info(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=True)
        if state is None:
            return
        commit, rev, _ = self._resolve_rev(state, segs)
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        ctype = (self.headers.get("Content-Type") or "").lower()
        paths: list[str] = []
        expand = False
        try:
            if "json" in ctype:
                payload = json.loads(self._body or b"{}")
                raw = payload.get("paths", [])
                paths = [raw] if isinstance(raw, str) else list(raw)
                expand = str(payload.get("expand", "")).lower() in ("true", "1")
            else:
                pairs = parse_qsl(self._body.decode(), keep_blank_values=True)
                paths = [v for k, v in pairs if k in ("paths", "paths[]")]
                expand = any(k == "expand" and v.lower() in ("true", "1") for k, v in pairs)
        except (ValueError, UnicodeDecodeError, AttributeError):
            return self._send_error(400, "Invalid body", "BadRequest")
        with hub._lock:
            by_path = {e["path"]: e for e in _tree_entries(state, commit)}
        out, seen = [], set()
        for p in paths:
            p = p.strip("/")
            if p in by_path and p not in seen:
                seen.add(p)
                out.append(self._expand(state, commit, by_path[p]) if expand else by_path[p])
        self._send_json(200, out)

    def _refs(self, repo_type: str, repo_id: str):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=False)
        if state is None:
            return
        with hub._lock:
            branches = dict(state.branches)
            tags = dict(state.tags)

        def ref(name, kind, sha):
            return {
                "name": name,
                "ref": name if name.startswith("refs/") else f"refs/{kind}/{name}",
                "targetCommit": sha,
            }

        self._send_json(
            200,
            {
                "branches": [ref(b, "heads", s) for b, s in branches.items() if not b.startswith("refs/")],
                "converts": [
                    ref(b, "convert", s) for b, s in branches.items() if b.startswith("refs/convert/")
                ],
                "tags": [ref(t, "tags", s) for t, s in tags.items()],
                "pullRequests": [ref(b, "pr", s) for b, s in branches.items() if b.startswith("refs/pr/")],
            },
        )

    def _commits(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=False)
        if state is None:
            return
        commit, rev, _ = self._resolve_rev(state, segs)
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        out = []
        with hub._lock:
            cur: _Commit | None = commit
            while cur is not None:
                out.append(
                    {
                        "id": cur.sha,
                        "title": cur.title,
                        "message": "",
                        "date": _iso(cur.timestamp),
                        "authors": [{"user": "fakehub", "avatar": None}],
                    }
                )
                cur = state.commits[cur.parent] if cur.parent else None
        self._send_json(200, out)

    def _whoami(self):
        hub = self.server.hub
        auth = self.headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        info = hub._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if info is None:
            return self._send_error(401, INVALID_CREDENTIALS)
        user = info["user"]
        return self._send_json(
            200,
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "test", "role": info["role"]},
                },
            },
        )

    # ---- file routes ----------------------------------------------------------------------------
    def _resolve(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        if self.command not in ("GET", "HEAD"):
            return self._send_error(405, "Method Not Allowed")
        state = self._check_repo(repo_type, repo_id, content=True)
        if state is None:
            return
        commit, rev, rest = self._resolve_rev(state, segs)
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        file_path = unquote("/".join(rest))
        self._rec.file_path = file_path
        entry = commit.files.get(file_path)
        if entry is None:
            return self._send_error(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit.sha)])
        meta = [("X-Repo-Commit", commit.sha), ("ETag", f'"{entry.etag}"')]
        if entry.is_lfs:
            meta += [("X-Linked-Etag", f'"{entry.sha256}"'), ("X-Linked-Size", str(entry.size))]
        if self._injected_failure(file_path, meta):
            return
        if entry.is_lfs and hub.use_cdn:
            key = hub._cdn_key(state, commit, entry)
            location = f"{hub.cdn_url}/lfs/{key}/{entry.sha256}?sig={key[:16]}"
            self._start(302, [*meta, ("Location", location), ("Content-Length", "0")])
            return
        self._serve_file(entry, meta)

    def _handle_cdn(self, path: str):
        hub = self.server.hub
        segs = path.split("/")[1:]
        if self.command not in ("GET", "HEAD") or len(segs) != 3 or segs[0] != "lfs":
            return self._send_error(404, "Not Found")
        target = hub._cdn_map.get(segs[1])
        if target is None or target[2].sha256 != segs[2]:
            return self._send_error(404, "Not Found")
        repo_type, repo_id, entry = target
        self._rec.repo_id = repo_id
        self._rec.repo_type = repo_type
        self._rec.file_path = entry.path
        meta = [
            ("ETag", f'"{entry.sha256}"'),
            ("Content-Disposition", f'inline; filename="{entry.path.rsplit("/", 1)[-1]}"'),
        ]
        if self._injected_failure(entry.path, []):
            return
        self._serve_file(entry, meta)

    def _injected_failure(self, file_path: str, meta: list) -> bool:
        rule = self.server.hub._take_fault("fail", file_path, self.command)
        if rule is None:
            return False
        headers = list(meta)
        if rule.retry_after is not None:
            headers.append(("Retry-After", str(rule.retry_after)))
        self._send_error(rule.status, f"Injected failure: HTTP {rule.status}", None, headers)
        return True

    def _serve_file(self, entry: HubFile, meta: list):
        hub = self.server.hub
        size = entry.size
        start, end = 0, size - 1
        status = 200
        rng = self._parse_range(self.headers.get("Range"), size)
        if rng == "unsatisfiable":
            self._rec.range_start = _range_start_only(self.headers.get("Range"))
            return self._send_error(
                416,
                "Requested Range Not Satisfiable",
                None,
                [*meta, ("Content-Range", f"bytes */{size}"), ("Accept-Ranges", "bytes")],
            )
        if rng is not None:
            start, end = rng
            status = 206
            self._rec.range_start, self._rec.range_end = start, end
        length = end - start + 1 if size else 0
        headers = [
            *meta,
            ("Content-Type", "application/octet-stream"),
            ("Accept-Ranges", "bytes"),
            ("Content-Length", str(length)),
        ]
        if status == 206:
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        if self.command == "HEAD":
            self._start(status, headers)
            return
        plan = _BodyPlan()
        path = entry.path
        stall = hub._take_fault("stall", path, "GET")
        plan.stall = stall.seconds if stall else None
        drop = hub._take_fault("drop", path, "GET")
        plan.drop = drop.nbytes if drop else None
        plan.corrupt = hub._take_fault("corrupt", path, "GET") is not None
        plan.bps = hub._throttle_for(path)
        if plan.drop is not None:
            self.close_connection = True
        self._start(status, headers)
        self._write_body(entry, start, length, plan)

    @staticmethod
    def _parse_range(header: str | None, size: int):
        """(start, end) inclusive, None (serve everything), or "unsatisfiable"."""
        if not header:
            return None
        m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
        if not m or (not m.group(1) and not m.group(2)):
            return None  # multi-range or malformed: ignore the header like many servers do
        if not m.group(1):  # suffix range: last N bytes
            n = int(m.group(2))
            if n == 0:
                return "unsatisfiable"
            return (max(0, size - n), size - 1) if size else "unsatisfiable"
        start = int(m.group(1))
        if start >= size:
            return "unsatisfiable"
        end = int(m.group(2)) if m.group(2) else size - 1
        if end < start:
            return None
        return start, min(end, size - 1)

    def _write_body(self, entry: HubFile, start: int, length: int, plan: _BodyPlan):
        hub = self.server.hub
        if plan.stall and hub._stopping.wait(plan.stall):
            raise _Abort()
        limit = length if plan.drop is None else min(length, plan.drop)
        fh = open(entry.source, "rb") if entry.source is not None else None  # noqa: SIM115
        try:
            t0 = time.monotonic()
            chunk = 1 << 20
            if plan.bps:
                chunk = max(1024, min(64 * 1024, plan.bps // 10))
            while self._body_sent < limit:
                pos = start + self._body_sent
                remaining = limit - self._body_sent
                if plan.corrupt and self._body_sent < CORRUPT_BYTES:
                    n = min(remaining, CORRUPT_BYTES - self._body_sent)
                    self._send_all(entry._read(fh, pos, n).translate(_FLIP))
                elif plan.bps:
                    self._send_all(entry._read(fh, pos, min(remaining, chunk)))
                elif fh is not None and _HAS_SENDFILE:
                    n = os.sendfile(self.connection.fileno(), fh.fileno(), pos, min(remaining, 16 << 20))
                    if n <= 0:
                        raise _Abort()  # file shrank on disk
                    self._rec.bytes_sent += n
                    self._body_sent += n
                else:
                    data = entry._read(fh, pos, min(remaining, chunk))
                    if not data:
                        raise _Abort()
                    self._send_all(data)
                if plan.bps:
                    delay = t0 + self._body_sent / plan.bps - time.monotonic()
                    if delay > 0 and hub._stopping.wait(delay):
                        raise _Abort()
        finally:
            if fh is not None:
                fh.close()
        if plan.drop is not None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                self.connection.close()
            except OSError:
                pass
            raise _Abort()


def _range_start_only(header: str | None) -> int | None:
    m = re.match(r"\s*bytes\s*=\s*(\d+)", header or "")
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------------------------------
# The public object
# --------------------------------------------------------------------------------------------------


class FakeHub:
    """A Hub-compatible server on 127.0.0.1 (plus an optional CDN origin on ``localhost``)."""

    def __init__(self, *, tree_page_size: int = 50, use_cdn: bool = False, port: int = 0, cdn_port: int = 0):
        self.tree_page_size = tree_page_size
        self.use_cdn = use_cdn
        self.url: str = ""
        self.cdn_url: str = ""
        self.down = False
        self.requests: list[RequestRecord] = []
        self.server_errors: list[str] = []  # tracebacks of unexpected exceptions inside handlers
        self._port = port
        self._cdn_port = cdn_port
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._fault_lock = threading.Lock()
        self._conn_lock = threading.Lock()
        self._repos: dict[tuple[str, str], _RepoState] = {}
        self._tokens: dict[str, dict] = {}
        self._faults: list[_Fault] = []
        self._throttles: dict[str, int] = {}
        self._cdn_map: dict[str, tuple[str, str, HubFile]] = {}
        self._conns: set[socket.socket] = set()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._counter = 0

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeHub:
        if self._servers:
            return self
        self._stopping.clear()
        hub_srv = _Server(self, "hub", self._port)
        self._servers.append(hub_srv)
        self.url = f"http://127.0.0.1:{hub_srv.server_address[1]}"
        if self.use_cdn:
            cdn_srv = _Server(self, "cdn", self._cdn_port)
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

    # ---- repos ----------------------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | pathlib.Path],
        *,
        repo_type: str = "model",
        branch: str = "main",
        tags: dict[str, str] | None = None,
        gated: bool | str = False,
        private: bool = False,
        lfs: Callable[[str], bool] | None = None,
        sha256: dict[str, str] | None = None,
        message: str | None = None,
    ) -> Repo:
        """Create the repo (or, if it exists, (re)create ``branch``) with exactly ``files`` as one commit."""
        return self._commit(
            repo_id,
            files,
            repo_type=repo_type,
            branch=branch,
            tags=tags,
            gated=gated,
            private=private,
            lfs=lfs,
            sha256=sha256,
            message=message,
            merge=False,
        )

    def add_commit(
        self,
        repo_id: str,
        files: dict[str, bytes | pathlib.Path | None],
        *,
        repo_type: str = "model",
        branch: str = "main",
        tags: dict[str, str] | None = None,
        gated: bool | str | None = None,
        private: bool | None = None,
        lfs: Callable[[str], bool] | None = None,
        sha256: dict[str, str] | None = None,
        message: str | None = None,
    ) -> Repo:
        """A new commit on ``branch``: the parent's files updated with ``files`` (a None value deletes
        a path). A missing branch is forked from the default branch. Old commits stay resolvable."""
        return self._commit(
            repo_id,
            files,
            repo_type=repo_type,
            branch=branch,
            tags=tags,
            gated=gated,
            private=private,
            lfs=lfs,
            sha256=sha256,
            message=message,
            merge=True,
        )

    def _commit(
        self, repo_id, files, *, repo_type, branch, tags, gated, private, lfs, sha256, message, merge
    ):
        if repo_type not in _REPO_TYPES:
            raise ValueError(f"repo_type must be one of {_REPO_TYPES}")
        if gated is True:
            gated = "auto"
        if gated not in (False, None, "auto", "manual"):
            raise ValueError("gated must be False, 'auto' or 'manual'")
        built = self._build_files({k: v for k, v in files.items() if v is not None}, lfs, sha256 or {})
        with self._lock:
            key = (repo_type, repo_id)
            state = self._repos.get(key)
            if state is None:
                if merge:
                    raise KeyError(f"unknown repo {repo_type}:{repo_id}; use add_repo first")
                state = _RepoState(repo_id, repo_type, branch)
                self._repos[key] = state
            parent_sha = state.branches.get(branch)
            if merge and parent_sha is None:
                parent_sha = state.branches.get(state.default_branch)
            new_files: dict[str, HubFile] = {}
            if merge and parent_sha is not None:
                new_files.update(state.commits[parent_sha].files)
                for p, v in files.items():
                    if v is None:
                        new_files.pop(p.strip("/"), None)
            new_files.update(built)
            self._counter += 1
            h = hashlib.sha1(f"{repo_type}/{repo_id}\0{branch}\0{self._counter}\0{parent_sha}\0".encode())
            for p in sorted(new_files):
                h.update(p.encode() + b"\0" + new_files[p].git_sha1.encode() + b"\n")
            sha = h.hexdigest()
            title = message or (f"Update {len(built)} files" if merge else f"Upload {len(new_files)} files")
            commit = _Commit(
                sha=sha,
                parent=parent_sha if merge else None,
                files=new_files,
                title=title,
                timestamp=time.time(),
            )
            state.commits[sha] = commit
            state.branches[branch] = sha
            if gated is not None:
                state.gated = gated
            if private is not None:
                state.private = bool(private)
            for tag, target in (tags or {}).items():
                if target in state.branches:
                    state.tags[tag] = state.branches[target]
                elif target in state.commits:
                    state.tags[tag] = target
                else:
                    raise ValueError(f"tag {tag!r} points to unknown branch {target!r}")
            return Repo(
                repo_id=repo_id,
                repo_type=repo_type,
                branch=branch,
                commit=sha,
                files=dict(new_files),
                parent=commit.parent,
                gated=state.gated,
                private=state.private,
            )

    def _build_files(self, files, lfs, sha256s) -> dict[str, HubFile]:
        out: dict[str, HubFile] = {}
        to_hash: list[tuple[str, pathlib.Path, int, bool]] = []
        for raw_path, value in files.items():
            path = raw_path.strip("/")
            if not path:
                raise ValueError("empty file path")
            if isinstance(value, bytes | bytearray | memoryview):
                data = bytes(value)
                is_lfs = lfs(path) if lfs else _default_is_lfs(path, len(data))
                out[path] = _make_file(path, len(data), is_lfs, data=data)
            elif isinstance(value, os.PathLike):
                src = pathlib.Path(value)
                size = src.stat().st_size
                is_lfs = lfs(path) if lfs else _default_is_lfs(path, size)
                if is_lfs and path in sha256s:
                    out[path] = _make_file(path, size, True, source=src, sha256=sha256s[path].lower())
                else:
                    to_hash.append((path, src, size, is_lfs))
            else:
                raise TypeError(
                    f"{path}: file content must be bytes or a pathlib.Path, not {type(value).__name__}"
                )

        def compute(item):
            path, src, size, is_lfs = item
            if is_lfs:
                return path, _make_file(path, size, True, source=src, sha256=_file_sha256(src))
            return path, _make_file(path, size, False, source=src, git_sha1=_file_git_sha1(src, size))

        if len(to_hash) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(to_hash))) as pool:
                out.update(dict(pool.map(compute, to_hash)))
        else:
            out.update(dict(map(compute, to_hash)))
        return out

    def get_repo(self, repo_id: str, *, repo_type: str = "model", revision: str | None = None) -> Repo:
        with self._lock:
            state = self._repos[(repo_type, repo_id)]
            rev = revision or state.default_branch
            commit = state.resolve(rev)
            if commit is None:
                raise KeyError(rev)
            return Repo(
                repo_id=repo_id,
                repo_type=repo_type,
                branch=rev,
                commit=commit.sha,
                files=dict(commit.files),
                parent=commit.parent,
                gated=state.gated,
                private=state.private,
            )

    def set_repo(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        gated: bool | str | None = None,
        private: bool | None = None,
    ) -> None:
        """Change a repo's gating/visibility."""
        with self._lock:
            state = self._repos[(repo_type, repo_id)]
            if gated is not None:
                state.gated = "auto" if gated is True else gated
            if private is not None:
                state.private = private

    def resolve_url(
        self, repo_id: str, path: str, *, revision: str = "main", repo_type: str = "model"
    ) -> str:
        return (
            f"{self.url}/{_TYPE_URL_PREFIX[repo_type]}{repo_id}/resolve/"
            f"{quote(revision, safe='')}/{quote(path)}"
        )

    def _get_state(self, repo_type: str, repo_id: str) -> _RepoState | None:
        with self._lock:
            return self._repos.get((repo_type, repo_id))

    def _split_repo_id(self, repo_type: str, segs: list[str]) -> tuple[str, list[str]]:
        with self._lock:
            if len(segs) >= 2 and (repo_type, unquote(f"{segs[0]}/{segs[1]}")) in self._repos:
                return unquote(f"{segs[0]}/{segs[1]}"), segs[2:]
            if segs and (repo_type, unquote(segs[0])) in self._repos:
                return unquote(segs[0]), segs[1:]
        if len(segs) >= 2:
            return unquote(f"{segs[0]}/{segs[1]}"), segs[2:]
        return unquote(segs[0]) if segs else "", []

    def _cdn_key(self, state: _RepoState, commit: _Commit, entry: HubFile) -> str:
        key = hashlib.sha1(
            f"{state.repo_type}/{state.repo_id}@{commit.sha}:{entry.path}".encode()
        ).hexdigest()
        self._cdn_map[key] = (state.repo_type, state.repo_id, entry)
        return key

    # ---- tokens ---------------------------------------------------------------------------------
    def add_token(
        self, token: str, *, user: str = "alice", role: str = "read", can_access: Iterable[str] = ()
    ) -> None:
        """Register a valid token. It reads gated/private repos listed in ``can_access`` ("*" = all)
        and private repos of its own namespace ``user``."""
        self._tokens[token] = {"user": user, "role": role, "can_access": set(can_access)}

    # ---- faults ---------------------------------------------------------------------------------
    def fail_next(
        self, pattern: str, status: int, count: int = 1, *, retry_after: int | None = None, methods=("GET",)
    ) -> None:
        with self._fault_lock:
            self._faults.append(
                _Fault("fail", pattern, count, status=status, retry_after=retry_after, methods=methods)
            )

    def drop_after(self, pattern: str, nbytes: int, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(_Fault("drop", pattern, count, nbytes=nbytes))

    def corrupt_next(self, pattern: str, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(_Fault("corrupt", pattern, count))

    def stall(self, pattern: str, seconds: float, count: int = 1) -> None:
        with self._fault_lock:
            self._faults.append(_Fault("stall", pattern, count, seconds=seconds))

    def throttle(self, bytes_per_second: int | None, pattern: str = "*") -> None:
        """Pace body writes of matching files. ``None`` removes the rule for ``pattern``
        (``throttle(None)`` removes all throttling)."""
        with self._fault_lock:
            if bytes_per_second is None:
                if pattern == "*":
                    self._throttles.clear()
                else:
                    self._throttles.pop(pattern, None)
            else:
                self._throttles.pop(pattern, None)
                self._throttles[pattern] = int(bytes_per_second)

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()
            self._throttles.clear()

    def _take_fault(self, kind: str, file_path: str, method: str) -> _Fault | None:
        with self._fault_lock:
            for rule in self._faults:
                if (
                    rule.kind == kind
                    and rule.count > 0
                    and method.upper() in rule.methods
                    and fnmatch.fnmatchcase(file_path, rule.pattern)
                ):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._faults.remove(rule)
                    return rule
        return None

    def _throttle_for(self, file_path: str) -> int | None:
        with self._fault_lock:
            found = None
            for pattern, bps in self._throttles.items():
                if fnmatch.fnmatchcase(file_path, pattern):
                    found = bps
            return found if found and found > 0 else None

    # ---- request log ----------------------------------------------------------------------------
    def _log(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(rec)

    def bytes_sent(self, file_path: str | None = None, *, repo_id: str | None = None) -> int:
        """Body bytes written for GETs of that repo file (all files if None), hub and CDN together."""
        with self._log_lock:
            recs = list(self.requests)
        return sum(
            r.bytes_sent
            for r in recs
            if r.method == "GET"
            and r.file_path is not None
            and (file_path is None or r.file_path == file_path)
            and (repo_id is None or r.repo_id == repo_id)
        )

    def file_requests(self, file_path: str, *, method: str | None = None) -> list[RequestRecord]:
        with self._log_lock:
            recs = list(self.requests)
        return [r for r in recs if r.file_path == file_path and (method is None or r.method == method)]

    def reset_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    @property
    def cdn_saw_authorization(self) -> bool:
        with self._log_lock:
            return any(r.server == "cdn" and r.authorization for r in self.requests)


def _default_is_lfs(path: str, size: int) -> bool:
    return size >= LFS_SIZE_THRESHOLD or path.lower().endswith(LFS_SUFFIXES)


def _make_file(
    path: str,
    size: int,
    is_lfs: bool,
    *,
    data: bytes | None = None,
    source: pathlib.Path | None = None,
    sha256: str | None = None,
    git_sha1: str | None = None,
) -> HubFile:
    if is_lfs:
        if sha256 is None:
            assert data is not None
            sha256 = hashlib.sha256(data).hexdigest()
        pointer = _lfs_pointer(sha256, size)
        return HubFile(
            path=path,
            size=size,
            git_sha1=git_blob_sha1(pointer),
            is_lfs=True,
            sha256=sha256,
            data=data,
            source=source,
            pointer_size=len(pointer),
        )
    if git_sha1 is None:
        git_sha1 = git_blob_sha1(data) if data is not None else "pending"
    return HubFile(path=path, size=size, git_sha1=git_sha1, is_lfs=False, data=data, source=source)


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def _dir_files(root: pathlib.Path) -> dict[str, pathlib.Path]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(".git/") or rel == ".git" or rel.startswith(".cache/huggingface/"):
            continue
        if p.is_file():
            out[rel] = p
    return out


def _log_finished_requests(path: str) -> None:
    """CLI only: after each request, append {method, path, file_path, status, range, bytes_sent, times}."""
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    lock = threading.Lock()
    dispatch = _Handler._dispatch

    def dispatch_and_log(handler: _Handler) -> None:
        try:
            dispatch(handler)
        finally:
            rec = getattr(handler, "_rec", None)
            if rec is not None:
                line = json.dumps({
                    "method": rec.method, "path": rec.path, "repo_id": rec.repo_id, "file_path": rec.file_path,
                    "status": rec.status, "range_start": rec.range_start, "range_end": rec.range_end,
                    "bytes_sent": rec.bytes_sent, "time": rec.time, "end_time": rec.end_time,
                })
                with lock:
                    out.write(line + "\n")

    _Handler._dispatch = dispatch_and_log


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fakehub", description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument(
        "--repo", action="append", default=[], metavar="ORG/NAME=DIR", help="serve DIR as a model repo"
    )
    ap.add_argument(
        "--dataset", action="append", default=[], metavar="ORG/NAME=DIR", help="serve DIR as a dataset"
    )
    ap.add_argument("--throttle", type=int, default=None, metavar="BPS", help="pace every file body")
    ap.add_argument("--cdn", action="store_true", help="redirect LFS files to a second origin")
    ap.add_argument("--tree-page-size", type=int, default=1000)
    ap.add_argument("--token", action="append", default=[], help="a token that can read every repo")
    ap.add_argument("--log", metavar="FILE", help="append one JSON line per finished request (benchmarks)")
    args = ap.parse_args(argv)

    hub = FakeHub(tree_page_size=args.tree_page_size, use_cdn=args.cdn, port=args.port)
    for specs, repo_type in ((args.repo, "model"), (args.dataset, "dataset")):
        for spec in specs:
            repo_id, sep, directory = spec.partition("=")
            if not sep or not repo_id:
                ap.error(f"bad repo spec {spec!r}; expected ORG/NAME=DIR")
            root = pathlib.Path(directory)
            if not root.is_dir():
                ap.error(f"not a directory: {directory}")
            hub.add_repo(repo_id, _dir_files(root), repo_type=repo_type)
    for token in args.token:
        hub.add_token(token, can_access=["*"])
    if args.throttle:
        hub.throttle(args.throttle)
    if args.log:
        _log_finished_requests(args.log)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    hub.start()
    print(f"READY {hub.url}", flush=True)
    if hub.cdn_url:
        print(f"CDN {hub.cdn_url}", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
