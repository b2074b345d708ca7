"""File bytes: ``resolve`` URLs (HEAD/GET with Range), the redirect of LFS files to the CDN origin and
the CDN origin itself, and the body writer that applies the injected faults and throttling."""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote

from fakehub.handler import Abort, HandlerBase
from fakehub.model import HubFile

CORRUPT_BYTES = 4096  # corrupt_next flips every byte of the first 4 KiB of the response body
_FLIP = bytes(range(255, -1, -1))  # translate table: v -> v ^ 0xFF
_HAS_SENDFILE = hasattr(os, "sendfile")


# Seconds of sending a throttled body may make up after falling behind its pace (see the body loop).
MAX_CATCH_UP = 0.2

@dataclass
class _BodyPlan:
    """What one GET's body gets: faults are taken (counted down) before its headers go out."""

    stall: float | None = None
    drop: int | None = None
    corrupt: bool = False
    bps: int | None = None
    ttfb: float = 0.0
    link: object = None  # faults.LinkCap shared by every connection of the CDN origin


class FileRoutes(HandlerBase):
    """``{repo_id}/resolve/{revision}/{path}`` on the hub origin; ``/lfs/{key}/{sha256}`` on the CDN
    origin."""

    def _resolve(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        if self.command not in ("GET", "HEAD"):
            return self._send_error(405, "Method Not Allowed")
        if (found := self._repo_at(repo_type, repo_id, segs, content=True)) is None:
            return
        state, commit, rest = found
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
            if (deadline := hub.cdn_url_deadline()) is not None:
                location += f"&expires={deadline:.3f}"  # a signed URL's lifetime, as the Hub's CDN has
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
        expires = dict(self._query).get("expires")
        if expires is not None and time.monotonic() > float(expires):
            return self._send_error(403, "Request has expired")
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
        if self.server.kind == "cdn":
            per_connection, plan.ttfb, plan.link = hub.cdn_limits()
            if per_connection:
                plan.bps = min(plan.bps or per_connection, per_connection)
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
            raise Abort()
        if plan.ttfb and hub._stopping.wait(plan.ttfb):
            raise Abort()
        limit = length if plan.drop is None else min(length, plan.drop)
        fh = open(entry.source, "rb") if entry.source is not None else None  # noqa: SIM115
        try:
            t0 = time.monotonic()
            chunk = 1 << 20
            if plan.bps:
                chunk = max(1024, min(64 * 1024, plan.bps // 10))
            while self._body_sent < limit:
                sent_before = self._body_sent
                pos = start + self._body_sent
                remaining = limit - self._body_sent
                if plan.corrupt and self._body_sent < CORRUPT_BYTES:
                    n = min(remaining, CORRUPT_BYTES - self._body_sent)
                    self._send_all(entry._read(fh, pos, n).translate(_FLIP))
                elif plan.bps:
                    self._send_all(entry._read(fh, pos, min(remaining, chunk)))
                elif fh is not None and _HAS_SENDFILE:
                    # small pieces when the link is shared, so no connection hogs it for long
                    piece = (256 << 10) if plan.link is not None else (16 << 20)
                    n = os.sendfile(self.connection.fileno(), fh.fileno(), pos, min(remaining, piece))
                    if n <= 0:
                        raise Abort()  # file shrank on disk
                    self._rec.bytes_sent += n
                    self._body_sent += n
                else:
                    data = entry._read(fh, pos, min(remaining, chunk))
                    if not data:
                        raise Abort()
                    self._send_all(data)
                sent = self._body_sent - sent_before
                if plan.link is not None and not plan.link.consume(sent, hub._stopping):
                    raise Abort()
                if plan.bps:
                    now = time.monotonic()
                    delay = t0 + self._body_sent / plan.bps - now
                    if delay < -MAX_CATCH_UP:
                        # Behind schedule (the client, or this thread, was held up): a throttled link's
                        # rate is a ceiling, so the backlog is not sent in one burst. Catching up made a
                        # "slow" download finish at once on a loaded machine, under a test's Ctrl-C.
                        t0 = now - self._body_sent / plan.bps - MAX_CATCH_UP
                    elif delay > 0 and hub._stopping.wait(delay):
                        raise Abort()
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
            raise Abort()


def _range_start_only(header: str | None) -> int | None:
    m = re.match(r"\s*bytes\s*=\s*(\d+)", header or "")
    return int(m.group(1)) if m else None
