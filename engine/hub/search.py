"""Model search on the Hub (`GET /api/models?search=…&limit=…`), for Add from Hub's search box.

The Hub answers a JSON list of models. Mirrors and proxies often serve only the download endpoints:
their 404, 405 or 501, a redirect to a login page, or an answer that is not a list of models means
"this endpoint does not search", which is said plainly (`SearchResult.unsupported`) rather than shown
as an error. Every hit is checked like any server value: an id that is not a repo id is dropped,
numbers must be numbers, text is capped.
"""

import json
import re
from dataclasses import dataclass

from engine.hub.lazy import hf

MAX_QUERY = 200
MAX_LIMIT = 50
MAX_BODY = 2 * 1024 * 1024  # a page of 50 models is a few kilobytes; a mirror may send anything
TIMEOUT = 30.0
UNSUPPORTED_STATUS = {404, 405, 410, 501}
_REPO_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,95})?")
_WORD = re.compile(r"[A-Za-z0-9_.:+-]{1,60}")


@dataclass(frozen=True)
class ModelHit:
    repo_id: str
    downloads: int | None
    likes: int | None
    pipeline_tag: str | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[ModelHit, ...]
    unsupported: str = ""  # why this endpoint cannot search, in plain words; "" when it can
    dropped: int = 0  # entries that were not a model the page could show


def search_models(client, query: str, limit: int = 20) -> SearchResult:
    """Models whose id matches `query`, as the endpoint ranks them. Raises HubError (through the
    client's mapping: network, rate limit, server errors, a rejected token) when the search failed."""
    query = (query or "").strip()[:MAX_QUERY]
    limit = max(1, min(int(limit), MAX_LIMIT))
    url = f"{client.endpoint}/api/models"
    headers = hf.utils.build_hf_headers(token=client.token or False, library_name="modelhub")

    def ask() -> tuple[int, bytes]:
        session = hf.utils.get_session()
        with session.stream("GET", url, params={"search": query, "limit": str(limit)}, headers=headers,
                            timeout=TIMEOUT, follow_redirects=False) as response:
            if response.status_code in UNSUPPORTED_STATUS or 300 <= response.status_code < 400:
                return response.status_code, b""
            if response.status_code >= 400:
                response.read()
                hf.utils.hf_raise_for_status(response)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    return response.status_code, b"\0"  # too big to be a page of models
            return response.status_code, bytes(body)

    status, body = client._call(ask, {"query": query})
    where = f"The Hub endpoint {client.endpoint}"
    if status != 200:
        what = "a redirect" if 300 <= status < 400 else f"HTTP {status}"
        return SearchResult(query, (), f"{where} does not offer model search (it answered {what} to "
                                       "/api/models); many mirrors serve downloads only.")
    try:
        page = json.loads(body)
    except ValueError:
        page = None
    if not isinstance(page, list):
        return SearchResult(query, (), f"{where} does not offer model search (its answer to /api/models "
                                       "is not a list of models).")
    hits = [hit for hit in (_hit(entry) for entry in page[:limit]) if hit]
    return SearchResult(query, tuple(hits), "", min(len(page), limit) - len(hits))


def _hit(entry: object) -> ModelHit | None:
    if not isinstance(entry, dict):
        return None
    repo_id = entry.get("id", entry.get("modelId"))
    if not isinstance(repo_id, str) or not _REPO_ID.fullmatch(repo_id):
        return None
    tag = entry.get("pipeline_tag")
    return ModelHit(repo_id, _count(entry.get("downloads")), _count(entry.get("likes")),
                    tag if isinstance(tag, str) and _WORD.fullmatch(tag) else None)


def _count(value: object) -> int | None:
    return value if type(value) is int and 0 <= value < 10**15 else None
