"""What every measurement gets: the harness, the hub server, ModelHub, the repos, the reference tools."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data import Repo
from benchmarks.fixtures import HubServer, ModelHub
from benchmarks.harness import Harness, Result, clear_dir, hf_env, tool


@dataclass
class Ctx:
    h: Harness
    hub: HubServer
    mh: ModelHub
    repos: dict[str, Repo]
    runs: int
    quick: bool
    raw: dict = field(default_factory=dict)  # everything measured, for --json

    # --- reference tools
    @property
    def hf_cache(self) -> Path:
        return self.h.path("hf-cache")

    @property
    def curl_dir(self) -> Path:
        return self.h.path("curl-out")

    def hf_download(self, repo: Repo) -> Result:
        clear_dir(self.hf_cache)
        return self.h.run([tool("hf"), "download", repo.repo_id, "--cache-dir", str(self.hf_cache)],
                          env=self._hf_env()).ok()

    def hf_verify(self, repo: Repo) -> Result:
        return self.h.run([tool("hf"), "cache", "verify", repo.repo_id, "--cache-dir", str(self.hf_cache)],
                          env=self._hf_env()).ok()

    def curl(self, repo: Repo, *, parallel: int = 8, to_null: bool = False, durable: bool = False) -> Result:
        """One curl process: the file, or every file with --parallel; no hashing, no metadata calls.
        `to_null`: to /dev/null, i.e. the network alone (single-file repos). `durable`: then
        `sync FILE` (fsync), the guarantee ModelHub gives before it publishes a blob."""
        clear_dir(self.curl_dir)
        if len(repo.files) == 1:
            (path,) = repo.files
            out = "/dev/null" if to_null else str(self.curl_dir / "out.bin")
            cmd = ["curl", "-s", "-f", "-o", out, repo.url(self.hub.url, path)]
            if durable:
                cmd = ["sh", "-c", f'{shlex.join(cmd)} && sync "$0"', out]
            return self.h.run(cmd).ok()
        config = self.h.path("curl.conf")
        config.write_text("".join(f'url = "{repo.url(self.hub.url, p)}"\noutput = "{self.curl_dir / p}"\n'
                                  for p in sorted(repo.files)))
        return self.h.run(["curl", "-s", "-f", "--create-dirs", "--parallel", "--parallel-max", str(parallel),
                           "-K", str(config)]).ok()

    def _hf_env(self) -> dict:
        return hf_env(self.hub.url, self.h.path("hf-home"))
