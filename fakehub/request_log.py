"""The request log: one `RequestRecord` per request to either origin, so tests can assert what a client
asked for, with which token, and how many body bytes it was sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass


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


class RequestLog:
    """The request-log half of `FakeHub`: ``requests`` and the questions tests ask of it."""

    def _init_log(self) -> None:
        self.requests: list[RequestRecord] = []
        self._log_lock = threading.Lock()

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
