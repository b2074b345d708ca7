"""``GET /api/models?search=…&limit=…``: the Hub's model search, as FakeHub answers it.

Public repos whose id contains the search text (case-insensitive), most downloaded first, with the
fields a search page shows (``id``, ``downloads``, ``likes``, ``pipeline_tag``, ``tags``). A test turns
it off with ``hub.model_search = False`` to stand for a mirror that serves downloads only (404).
"""

from __future__ import annotations

import hashlib

from fakehub.handler import HandlerBase


class SearchRoutes(HandlerBase):
    def _search(self, repo_type: str):
        hub = self.server.hub
        if not hub.model_search or repo_type != "model":
            return self._send_error(404, "Not Found")
        if self.command not in ("GET", "HEAD"):
            return self._send_error(405, "Method Not Allowed")
        q = dict(self._query)
        text = q.get("search", "").lower()
        try:
            limit = int(q.get("limit") or 1000)
        except ValueError:
            return self._send_error(400, "Invalid limit", "BadRequest")
        with hub._lock:
            found = [rid for (kind, rid), state in hub._repos.items()
                     if kind == repo_type and not state.private and text in rid.lower()]
        models = []
        for rid in found:
            card = hub.card_of(repo_type, rid)
            models.append({
                "_id": hashlib.sha1(f"{repo_type}/{rid}".encode()).hexdigest()[:24],
                "id": rid, "modelId": rid, "private": False,
                "downloads": card.get("downloads") or 0, "likes": card.get("likes") or 0,
                "pipeline_tag": card.get("pipeline_tag"), "library_name": card.get("library_name"),
                "tags": card.get("tags", []),
            })
        models.sort(key=lambda m: (-m["downloads"], m["id"]))
        return self._send_json(200, models[:max(0, limit)])
