"""The repos a `FakeHub` serves: creating them and their commits, reading them back, and the lookups the
request handlers make (which repo a URL names, the CDN key of an LFS file)."""

from __future__ import annotations

import hashlib
import pathlib
import threading
import time
from collections.abc import Callable
from urllib.parse import quote, unquote

from fakehub.blobs import build_files
from fakehub.model import REPO_TYPES, TYPE_URL_PREFIX, Commit, HubFile, Repo, RepoState


class RepoStore:
    """The repo half of `FakeHub`. ``_lock`` guards every repo, branch, tag and commit."""

    url: str  # set by FakeHub.start()

    def _init_repos(self) -> None:
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], RepoState] = {}
        self._cdn_map: dict[str, tuple[str, str, HubFile]] = {}
        self._counter = 0
        self._cards: dict[tuple[str, str], dict] = {}

    def set_card(self, repo_id: str, *, repo_type: str = "model", pipeline_tag: str | None = None,
                 library_name: str | None = None, tags: list[str] | None = None, card_data: object = None,
                 downloads: object = None, likes: object = None) -> None:
        """What repo info (and the model search) says about the repo beside its files: the model card's
        metadata (``cardData``, e.g. ``{"license": "mit"}``), downloads and likes. The card's text is
        the repo's README.md, served like any file."""
        with self._lock:
            self._cards[(repo_type, repo_id)] = {"pipeline_tag": pipeline_tag, "library_name": library_name,
                                                 "tags": list(tags or []), "cardData": card_data,
                                                 "downloads": downloads, "likes": likes}

    def card_of(self, repo_type: str, repo_id: str) -> dict:
        with self._lock:
            return dict(self._cards.get((repo_type, repo_id), {}))

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
            repo_id, files, merge=False, repo_type=repo_type, branch=branch, tags=tags, gated=gated,
            private=private, lfs=lfs, sha256=sha256, message=message
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
            repo_id, files, merge=True, repo_type=repo_type, branch=branch, tags=tags, gated=gated,
            private=private, lfs=lfs, sha256=sha256, message=message
        )

    def _commit(
        self, repo_id, files, *, repo_type, branch, tags, gated, private, lfs, sha256, message, merge
    ):
        if repo_type not in REPO_TYPES:
            raise ValueError(f"repo_type must be one of {REPO_TYPES}")
        if gated is True:
            gated = "auto"
        if gated not in (False, None, "auto", "manual"):
            raise ValueError("gated must be False, 'auto' or 'manual'")
        built = build_files({k: v for k, v in files.items() if v is not None}, lfs, sha256 or {})
        with self._lock:
            key = (repo_type, repo_id)
            state = self._repos.get(key)
            if state is None:
                if merge:
                    raise KeyError(f"unknown repo {repo_type}:{repo_id}; use add_repo first")
                state = RepoState(repo_id, repo_type, branch)
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
            commit = Commit(
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
            f"{self.url}/{TYPE_URL_PREFIX[repo_type]}{repo_id}/resolve/"
            f"{quote(revision, safe='')}/{quote(path)}"
        )

    def _get_state(self, repo_type: str, repo_id: str) -> RepoState | None:
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

    def _cdn_key(self, state: RepoState, commit: Commit, entry: HubFile) -> str:
        key = hashlib.sha1(
            f"{state.repo_type}/{state.repo_id}@{commit.sha}:{entry.path}".encode()
        ).hexdigest()
        self._cdn_map[key] = (state.repo_type, state.repo_id, entry)
        return key
