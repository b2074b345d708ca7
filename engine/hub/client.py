"""The one client that talks to the Hub about metadata: revisions, file lists, whoami.

Metadata goes through huggingface_hub's HTTP client (endpoint and token as configured; its error
classes, mapped to codes by `Refusals`); bytes are fetched by engine.transfer, which asks this client
for URLs, the headers a request may carry (engine.hub.origins) and what a failed response means.
"""

import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TypeVar
from urllib.parse import quote

from engine.errors import ErrorCode, HubError
from engine.hub import answers, card, listings, origins, search
from engine.hub.info import RepoInfo, info_url
from engine.hub.lazy import hf
from engine.hub.refusals import Refusals, header_of, status_of
from engine.hub.repo import RemoteFile, RepoFacts, RepoOverview, RepoSnapshot
from engine.redaction import redact
from engine.retrying import Backoff, parse_retry_after, rate_limit_allows

log = logging.getLogger(__name__)
T = TypeVar("T")


TRANSIENT_STATUS = {429, 500, 502, 503, 504}
# seconds; huggingface_hub's default is none, and a stalled mirror would hold a worker forever
API_TIMEOUT = 60.0
MAX_TREE_PAGES = 10_000  # a listing that never ends is a broken or hostile server, not a big repo
# What a server answer that is not the JSON it should be raises while huggingface_hub or we parse it.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)

class HubClient(Refusals):
    def __init__(self, endpoint: str, token: str | None, *, token_source: str = "none",
                 token_problem: str = "", backoff: Backoff | None = None):
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.token_source = token_source
        self.token_problem = token_problem  # why a configured token is held back (settings-unconfirmed)
        self.backoff = backoff or Backoff(retries=4, base=0.5, cap=10)
        origins.bind(token, self.endpoint)
        origins.install()  # with or without a token: metadata calls are paced by the rate limit (quota.py)

    @cached_property
    def api(self):
        """huggingface_hub's HfApi (for whoami), imported on first use: ~0.1-0.3 s (info.py)."""
        from huggingface_hub import HfApi

        # token=False: never let huggingface_hub fall back to HF_TOKEN or its token file on its own;
        # which token applies is decided by settings_app.tokens.
        return HfApi(endpoint=self.endpoint, token=self.token or False, library_name="modelhub")

    # --- metadata
    def snapshot(self, repo_id: str, repo_type: str, revision: str) -> RepoSnapshot:
        info, ctx = self._info(repo_id, repo_type, revision)
        files = self._listing(repo_id, repo_type, info.sha, ctx)
        return RepoSnapshot(repo_id, repo_type, revision, info.sha, getattr(info, "gated", False) or False,
                            files, RepoFacts.from_info(info))

    def overview(self, repo_id: str, repo_type: str, revision: str) -> "RepoOverview":
        """Repo facts for a picker: commit, gating, and the files if this token may list them.

        A gated repo's info is public while its tree is not: the refusal is returned as
        `access_error` (a HubError with the same code a download would get) instead of raised.
        """
        info, ctx = self._info(repo_id, repo_type, revision)
        gated = getattr(info, "gated", False) or False
        private = bool(getattr(info, "private", False))
        try:
            files = self._listing(repo_id, repo_type, info.sha, ctx)
        except HubError as exc:
            if exc.code not in (ErrorCode.GATED_NO_TOKEN, ErrorCode.GATED_NO_ACCESS, ErrorCode.TOKEN_INVALID,
                                ErrorCode.REPO_NOT_FOUND):
                raise
            return RepoOverview(repo_id, repo_type, revision, info.sha, gated, private, [], exc,
                                RepoFacts.from_info(info))
        return RepoOverview(repo_id, repo_type, revision, info.sha, gated, private, files, None,
                            RepoFacts.from_info(info))

    def card(self, repo_id: str, repo_type: str, commit: str) -> "card.CardText":
        """The first lines of the repo's model card (engine.hub.card); never raises."""
        return card.read_card(self, repo_id, repo_type, commit)

    def search_models(self, query: str, limit: int = 20) -> "search.SearchResult":
        """The endpoint's model search (engine.hub.search), or why it has none."""
        return search.search_models(self, query, limit)

    def latest_commit(self, repo_id: str, repo_type: str, revision: str) -> str:
        """The commit a branch points to now (for "update available")."""
        return self._info(repo_id, repo_type, revision)[0].sha

    def _info(self, repo_id: str, repo_type: str, revision: str):
        """The Hub's repo info at a revision (with the commit it resolves to), and the error context."""
        ctx = {"repo_id": repo_id, "repo_type": repo_type, "revision": revision}
        info = self._call(lambda: self._get_info(repo_id, repo_type, revision), ctx)
        answers.commit(info.sha, endpoint=self.endpoint, **ctx)  # also refuses a missing one
        return info, ctx

    def _get_info(self, repo_id: str, repo_type: str, revision: str) -> RepoInfo:
        """GET the repo info (the URL HfApi.repo_info asks, without importing HfApi: info.py)."""
        headers = hf.utils.build_hf_headers(token=self.token or False, library_name="modelhub")
        response = hf.utils.get_session().get(info_url(self.endpoint, repo_id, repo_type, revision),
                                              headers=headers, timeout=API_TIMEOUT)
        hf.utils.hf_raise_for_status(response)
        data = response.json()
        if not isinstance(data, dict):
            raise TypeError("the repo info is not a JSON object")  # MALFORMED: a protocol error
        return RepoInfo(data)

    def _listing(self, repo_id: str, repo_type: str, commit: str, ctx: dict) -> list[RemoteFile]:
        """The commit's files, from a listing made moments ago if there is one (listings.py)."""
        key = (self.endpoint, self.token or "", repo_type, repo_id, commit)
        files = listings.get(key)
        if files is None:
            files = self._call(lambda: self._list_files(repo_id, repo_type, commit), ctx)
            listings.put(key, files)
        return files

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
                raise HubError(ErrorCode.PROTOCOL_ERROR,
                               f"{self.endpoint} paginated the file list of {repo_id} without end",
                               endpoint=self.endpoint, detail="endless pagination", **ctx)
            seen.add(url)
            response = hf.utils.get_session().get(url, params=params, headers=headers, timeout=API_TIMEOUT)
            hf.utils.hf_raise_for_status(response)
            page = response.json()
            if not isinstance(page, list):
                raise HubError(ErrorCode.PROTOCOL_ERROR,
                               f"{self.endpoint} sent a file list that is not a list",
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
            status = status_of(exc)
            if status == 401:
                raise HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                               endpoint=self.endpoint, token_source=self.token_source) from None
            raise self._map(exc, {}) from None
        except hf.transport_errors as exc:
            raise HubError(ErrorCode.NETWORK, f"Could not reach {self.endpoint}: {exc}",
                           endpoint=self.endpoint, detail=str(exc)) from None
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

    # --- bytes (used by engine.transfer)
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

    def _call(self, fn: Callable[[], T], ctx: dict) -> T:
        try:
            return self._retry(fn)
        except hf.errors.HfHubHTTPError as exc:
            raise self._map(exc, ctx) from None
        except hf.transport_errors as exc:
            raise HubError(ErrorCode.NETWORK, f"Could not reach {self.endpoint}: {exc}",
                           endpoint=self.endpoint, detail=redact(str(exc)), **ctx) from None
        except hf.redirect_errors as exc:
            raise HubError(ErrorCode.REDIRECT_LOOP, f"{self.endpoint} kept redirecting: {exc}",
                           endpoint=self.endpoint, detail=redact(str(exc)), **ctx) from None
        except MALFORMED as exc:
            raise HubError(ErrorCode.PROTOCOL_ERROR,
                           f"{self.endpoint} sent an answer that could not be read: "
                           f"{type(exc).__name__}: {str(exc)[:200]}", endpoint=self.endpoint,
                           detail=f"unreadable answer ({type(exc).__name__})", **ctx) from None

    def _retry(self, fn: Callable[[], T]) -> T:
        """Transient failures are retried `backoff.retries` times in a row; 429s (the rate limit) are
        waited out as the Hub asks without counting, within retrying.rate_limit_allows."""
        attempt = limited = 0
        limited_wait = 0.0
        while True:
            try:
                return fn()
            except hf.errors.HfHubHTTPError as exc:
                status = status_of(exc)
                retry_after = parse_retry_after(header_of(exc, "Retry-After"))
                if status == 429 and rate_limit_allows(limited, limited_wait):
                    limited += 1
                    delay = self.backoff.delay(min(limited, 6), retry_after)
                    limited_wait += delay
                    log.info("Hub rate limit (429), waiting %.1fs as it asks", delay)
                    time.sleep(delay)
                    continue
                if status not in TRANSIENT_STATUS or attempt >= self.backoff.retries:
                    raise
            except hf.transport_errors:
                if attempt >= self.backoff.retries:
                    raise
                retry_after = None
            attempt += 1
            delay = self.backoff.delay(attempt, retry_after)
            log.info("Hub call failed, retry %d/%d in %.1fs", attempt, self.backoff.retries, delay)
            time.sleep(delay)
