"""Hub-compatible HTTP servers for tests and benchmarks: `FakeHub` speaks the Hub protocol honestly
(with fault injection and a CDN origin), `HostileHub` answers whatever a test scripts."""

from fakehub.hostile import HostileHub
from fakehub.server import LFS_SUFFIXES, FakeHub, HubFile, Repo, RequestRecord, git_blob_sha1

__all__ = ["FakeHub", "HostileHub", "HubFile", "Repo", "RequestRecord", "LFS_SUFFIXES", "git_blob_sha1"]
