"""The one module that talks to the Hub about metadata: revisions, file lists, whoami, error mapping.

Metadata goes through huggingface_hub's HfApi (endpoint and token from Settings, its error classes);
bytes are fetched by downloads.transfer, which asks this module for URLs, auth headers and the
mapping of HTTP failures to error codes, so every refusal is classified in one place.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar
from urllib.parse import quote

from engine.errors import ErrorCode, HubError
from engine.hub import answers, origins
from engine.redaction import redact
from engine.retrying import Backoff, parse_retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Lazy:
    """huggingface_hub and its HTTP client take ~0.15 s to import. Every management command and web
    process imports this module (through services), but only the ones that talk to the Hub need them."""

    @cached_property
    def errors(self):
        from huggingface_hub import errors

        return errors

    @cached_property
    def transport_errors(self) -> tuple[type[BaseException], ...]:
        import httpx2

        return (httpx2.TransportError, OSError)

    @cached_property
    def redirect_errors(self) -> tuple[type[BaseException], ...]:
        import httpx2

        return (httpx2.TooManyRedirects,)

    @cached_property
    def utils(self):
        from huggingface_hub import utils

        return utils


hf = _Lazy()

TRANSIENT_STATUS = {429, 500, 502, 503, 504}
API_TIMEOUT = 60.0  # seconds; huggingface_hub's default is none, and a stalled mirror would hold a worker forever
MAX_TREE_PAGES = 10_000  # a listing that never ends is a broken or hostile server, not a big repo
# What a server answer that is not the JSON it should be raises while huggingface_hub or we parse it.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repo at a commit, with the Hub's size and checksum."""

    path: str
    size: int
    git_sha1: str
    sha256: str | None = None  # LFS files only

    @property
    def etag(self) -> str:
        """The blob name in the HF cache: sha256 for LFS files, git blob sha1 otherwise."""
        return self.sha256 or self.git_sha1

    @property
    def hash_algo(self) -> str:
        return "sha256" if self.sha256 else "git-sha1"

    def as_manifest(self) -> dict:
        return {"size": self.size, "git_sha1": self.git_sha1, "sha256": self.sha256}


@dataclass(frozen=True)
class RepoSnapshot:
    repo_id: str
    repo_type: str
    revision: str
    commit: str
    gated: str | bool
    files: list[RemoteFile]


@dataclass(frozen=True)
class RepoOverview:
    repo_id: str
    repo_type: str
    revision: str
    commit: str
    gated: str | bool
    private: bool
    files: list[RemoteFile]
    access_error: HubError | None  # set when the current token cannot list the files


class HubClient:
    def __init__(self, endpoint: str, token: str | None, *, token_source: str = "none", token_problem: str = "",
                 backoff: Backoff | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.token_source = token_source
        self.token_problem = token_problem  # why a configured token is held back (settings-unconfirmed)
        self.backoff = backoff or Backoff(retries=4, base=0.5, cap=10)
        # token=False: never let huggingface_hub fall back to HF_TOKEN or its token file on its own;
        # which token applies is decided by settings_app.tokens.
        from huggingface_hub import HfApi

        self.api = HfApi(endpoint=self.endpoint, token=token or False, library_name="modelhub")
        origins.bind(token, self.endpoint)

    # --- metadata
    def snapshot(self, repo_id: str, repo_type: str, revision: str) -> RepoSnapshot:
        info, ctx = self._info(repo_id, repo_type, revision)
        files = self._call(lambda: self._list_files(repo_id, repo_type, info.sha), ctx)
        return RepoSnapshot(repo_id, repo_type, revision, info.sha, getattr(info, "gated", False) or False, files)

    def overview(self, repo_id: str, repo_type: str, revision: str) -> "RepoOverview":
        """Repo facts for a picker: commit, gating, and the files if this token may list them.

        A gated repo's info is public while its tree is not: the refusal is returned as
        `access_error` (a HubError with the same code a download would get) instead of raised.
        """
        info, ctx = self._info(repo_id, repo_type, revision)
        gated = getattr(info, "gated", False) or False
        private = bool(getattr(info, "private", False))
        try:
            files = self._call(lambda: self._list_files(repo_id, repo_type, info.sha), ctx)
        except HubError as exc:
            if exc.code not in (ErrorCode.GATED_NO_TOKEN, ErrorCode.GATED_NO_ACCESS, ErrorCode.TOKEN_INVALID,
                                ErrorCode.REPO_NOT_FOUND):
                raise
            return RepoOverview(repo_id, repo_type, revision, info.sha, gated, private, [], exc)
        return RepoOverview(repo_id, repo_type, revision, info.sha, gated, private, files, None)

    def latest_commit(self, repo_id: str, repo_type: str, revision: str) -> str:
        """The commit a branch points to now (for "update available")."""
        return self._info(repo_id, repo_type, revision)[0].sha

    def _info(self, repo_id: str, repo_type: str, revision: str):
        """The Hub's repo info at a revision (with the commit it resolves to), and the error context."""
        ctx = {"repo_id": repo_id, "repo_type": repo_type, "revision": revision}
        info = self._call(lambda: self.api.repo_info(repo_id, revision=revision, repo_type=repo_type,
                                                              timeout=API_TIMEOUT), ctx)
        answers.commit(info.sha, endpoint=self.endpoint, **ctx)  # also refuses a missing one
        return info, ctx

    def _list_files(self, repo_id: str, repo_type: str, commit: str) -> list[RemoteFile]:
        """Every file of the commit, from the tree listing, page by page.

        Paginated here rather than by huggingface_hub's list_repo_tree, which follows a `Link: next`
        to any host with the same headers: the token and the request itself stay on the endpoint.
        """
        ctx = {"repo_id": repo_id, "repo_type": repo_type, "revision": commit}
        url = f"{self.endpoint}/api/{repo_type}s/{repo_id}/tree/{quote(commit, safe='')}"
        params: dict | None = {"recursive": "true", "expand": "false"}
        headers = hf.utils.build_hf_headers(token=self.token or False, library_name="modelhub")
        files, seen = [], set()
        while url:
            if url in seen or len(seen) >= MAX_TREE_PAGES:
                raise HubError(ErrorCode.PROTOCOL_ERROR, f"{self.endpoint} paginated the file list of {repo_id} without end",
                               endpoint=self.endpoint, detail="endless pagination", **ctx)
            seen.add(url)
            response = hf.utils.get_session().get(url, params=params, headers=headers, timeout=API_TIMEOUT)
            hf.utils.hf_raise_for_status(response)
            page = response.json()
            if not isinstance(page, list):
                raise HubError(ErrorCode.PROTOCOL_ERROR, f"{self.endpoint} sent a file list that is not a list",
                               endpoint=self.endpoint, detail="tree listing is not a JSON list", **ctx)
            for entry in page:
                parsed = answers.tree_entry(entry, endpoint=self.endpoint, **ctx)
                if parsed:
                    files.append(RemoteFile(*parsed))
            url = answers.next_page(response.links.get("next", {}).get("url"), str(response.url),
                                        endpoint=self.endpoint, **ctx)
            params = None  # the next link already carries the query
        return files

    def whoami(self) -> dict:
        """The Hub's view of the token: name and role. Raises HubError(token_invalid) when rejected."""
        if not self.token:
            raise HubError(ErrorCode.TOKEN_INVALID, "No HF token is configured.", endpoint=self.endpoint,
                           token_source=self.token_source)
        try:
            data = self._retry(lambda: self.api.whoami(token=self.token))
        except hf.errors.HfHubHTTPError as exc:
            status = _status(exc)
            if status == 401:
                raise HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                               endpoint=self.endpoint, token_source=self.token_source) from None
            raise self._map(exc, {}) from None
        except hf.transport_errors as exc:
            raise HubError(ErrorCode.NETWORK, f"Could not reach {self.endpoint}: {exc}", endpoint=self.endpoint,
                           detail=str(exc)) from None
        auth = data.get("auth") or {}
        role = (auth.get("accessToken") or {}).get("role") or auth.get("type") or "unknown"
        return {"name": data.get("name", ""), "role": role, "type": data.get("type", "")}

    def token_is_valid(self) -> tuple[bool | None, str]:
        """(True, user) / (False, "") / (None, reason) when the Hub could not be asked."""
        try:
            return True, self.whoami()["name"]
        except HubError as exc:
            if exc.code == ErrorCode.TOKEN_INVALID:
                return False, ""
            return None, exc.message

    # --- bytes (used by downloads.transfer)
    def file_url(self, repo_id: str, repo_type: str, commit: str, path: str) -> str:
        prefix = "datasets/" if repo_type == "dataset" else ""
        return f"{self.endpoint}/{prefix}{repo_id}/resolve/{commit}/{quote(path)}"

    def headers_for(self, url: str) -> dict[str, str]:
        """Request headers for `url`: the token goes only to the configured endpoint's origin,
        never to a CDN a download is redirected to."""
        headers = {"Accept-Encoding": "identity", "User-Agent": "modelhub/0.1"}
        if origins.may_carry(self.token, url):
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def error_for_response(self, status: int, headers, *, repo_id: str, repo_type: str, revision: str,
                           path: str) -> HubError:
        """Classify a failed file GET (no exception object: transfer uses requests, not httpx)."""
        code_hdr = headers.get("X-Error-Code", "")
        message = headers.get("X-Error-Message", "") or f"HTTP {status}"
        ctx = {"repo_id": repo_id, "repo_type": repo_type, "revision": revision}
        if code_hdr == "GatedRepo" or (status in (401, 403) and "gated" in message.lower()):
            return self._gated_error(message, ctx)
        if code_hdr == "RepoNotFound":
            return self._not_found_error(message, ctx)
        if code_hdr == "RevisionNotFound":
            return HubError(ErrorCode.REVISION_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if code_hdr == "EntryNotFound" or status == 404:
            return HubError(ErrorCode.FILE_NOT_FOUND, f"{path}: {message}", endpoint=self.endpoint, files=[path], **ctx)
        if status < 500 and status not in (401, 403, 429):
            message = f"Unexpected HTTP {status} for {path}: {message}"
        return self._by_status(status, message, headers.get("Retry-After"), ctx)

    # --- internals
    def _call(self, fn: Callable[[], T], ctx: dict) -> T:
        try:
            return self._retry(fn)
        except hf.errors.HfHubHTTPError as exc:
            raise self._map(exc, ctx) from None
        except hf.transport_errors as exc:
            raise HubError(ErrorCode.NETWORK, f"Could not reach {self.endpoint}: {exc}", endpoint=self.endpoint,
                           detail=redact(str(exc)), **ctx) from None
        except hf.redirect_errors as exc:
            raise HubError(ErrorCode.REDIRECT_LOOP, f"{self.endpoint} kept redirecting: {exc}", endpoint=self.endpoint,
                           detail=redact(str(exc)), **ctx) from None
        except MALFORMED as exc:
            raise HubError(ErrorCode.PROTOCOL_ERROR, f"{self.endpoint} sent an answer that could not be read: "
                           f"{type(exc).__name__}: {str(exc)[:200]}", endpoint=self.endpoint,
                           detail=f"unreadable answer ({type(exc).__name__})", **ctx) from None

    def _retry(self, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except hf.errors.HfHubHTTPError as exc:
                status = _status(exc)
                if status not in TRANSIENT_STATUS or attempt >= self.backoff.retries:
                    raise
                retry_after = parse_retry_after(_header(exc, "Retry-After"))
            except hf.transport_errors:
                if attempt >= self.backoff.retries:
                    raise
                retry_after = None
            attempt += 1
            delay = self.backoff.delay(attempt, retry_after)
            log.info("Hub call failed, retry %d/%d in %.1fs", attempt, self.backoff.retries, delay)
            time.sleep(delay)

    def _map(self, exc: Exception, ctx: dict) -> HubError:
        message = redact(_message(exc))
        if isinstance(exc, hf.errors.GatedRepoError):
            return self._gated_error(message, ctx)
        if isinstance(exc, hf.errors.RevisionNotFoundError):
            return HubError(ErrorCode.REVISION_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.RemoteEntryNotFoundError | hf.errors.EntryNotFoundError):
            return HubError(ErrorCode.FILE_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.DisabledRepoError):
            return HubError(ErrorCode.REPO_NOT_FOUND, f"{message} (the repository is disabled)", endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.RepositoryNotFoundError):
            return self._not_found_error(message, ctx)
        return self._by_status(_status(exc), message, _header(exc, "Retry-After"), ctx)

    def _by_status(self, status: int | None, message: str, retry_after: str | None, ctx: dict) -> HubError:
        """What a refusal without a more specific Hub error code means."""
        if status == 401:
            return self._unauthorized_error(message, ctx)
        if status == 403:
            return self._gated_error(message, ctx)
        if status == 429:
            return HubError(ErrorCode.RATE_LIMITED, message, endpoint=self.endpoint,
                            retry_after=parse_retry_after(retry_after), **ctx)
        return HubError(ErrorCode.SERVER_ERROR, message, endpoint=self.endpoint, status=status, **ctx)

    def _held_back_error(self, message: str, ctx: dict) -> HubError:
        return HubError(ErrorCode.TOKEN_UNCONFIRMED, f"{self.token_problem} ({message})", endpoint=self.endpoint, **ctx)

    def _gated_error(self, message: str, ctx: dict) -> HubError:
        if not self.token and self.token_problem:
            return self._held_back_error(message, ctx)
        if not self.token:
            return HubError(ErrorCode.GATED_NO_TOKEN, f"{ctx.get('repo_id')} is gated and no HF token is configured. "
                            f"({message})", endpoint=self.endpoint, **ctx)
        valid, user = self.token_is_valid()
        if valid is False:
            return HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                            endpoint=self.endpoint, token_source=self.token_source, **ctx)
        return HubError(ErrorCode.GATED_NO_ACCESS, f"The token ({self.token_source}) has no access to "
                        f"{ctx.get('repo_id')}. ({message})", endpoint=self.endpoint, user=user, **ctx)

    def _not_found_error(self, message: str, ctx: dict) -> HubError:
        # A private repo looks "not found" to a bad token: ask whoami before blaming the repo id.
        if self.token and self.token_is_valid()[0] is False:
            return HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                            endpoint=self.endpoint, token_source=self.token_source, **ctx)
        if not self.token and self.token_problem:  # "not found" or private: either way, say a token is held back
            message = f"{message}. If the repository is private: {self.token_problem}"
        return HubError(ErrorCode.REPO_NOT_FOUND, message, endpoint=self.endpoint, **ctx)

    def _unauthorized_error(self, message: str, ctx: dict) -> HubError:
        if not self.token:
            return HubError(ErrorCode.REPO_NOT_FOUND, f"{message} (private repositories need a token)",
                            endpoint=self.endpoint, **ctx)
        return self._not_found_error(message, ctx)


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _header(exc: Exception, name: str) -> str | None:
    response = getattr(exc, "response", None)
    return response.headers.get(name) if response is not None else None


def _message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        server_msg = response.headers.get("X-Error-Message")
        if server_msg:
            return f"HTTP {response.status_code}: {server_msg}"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
