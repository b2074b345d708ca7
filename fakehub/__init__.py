"""Hub-compatible HTTP servers for tests and benchmarks: `FakeHub` speaks the Hub protocol honestly
(with fault injection and a CDN origin), `HostileHub` answers whatever a test scripts.

Import from here; the modules behind it (see `server.py`) are free to move."""

from fakehub.blobs import LFS_SUFFIXES, git_blob_sha1
from fakehub.hostile import HostileHub
from fakehub.model import HubFile, Repo
from fakehub.request_log import RequestRecord
from fakehub.server import FakeHub

__all__ = ["FakeHub", "HostileHub", "HubFile", "Repo", "RequestRecord", "LFS_SUFFIXES", "git_blob_sha1"]
