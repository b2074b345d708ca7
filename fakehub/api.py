"""The Hub's JSON API as FakeHub answers it: repo info, tree (paginated), paths-info, refs, commits,
whoami-v2. Field names and error codes follow what ``huggingface_hub`` parses."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode

from fakehub.handler import INVALID_CREDENTIALS, HandlerBase
from fakehub.model import Commit, RepoState, tree_entries


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


class ApiRoutes(HandlerBase):
    """``/api/{models,datasets,spaces}/{repo_id}/...`` and ``/api/whoami-v2``."""

    def _api(self, repo_type: str, repo_id: str, rest: list[str]):
        route = rest[0] if rest else ""
        if route in ("", "revision"):
            if self.command not in ("GET", "HEAD"):
                return self._send_error(405, "Method Not Allowed")
            return self._repo_info(repo_type, repo_id, rest[1:] if route else None)
        if route == "tree" and len(rest) >= 2 and self.command in ("GET", "HEAD"):
            return self._tree(repo_type, repo_id, rest[1:])
        if route == "paths-info" and len(rest) >= 2 and self.command == "POST":
            return self._paths_info(repo_type, repo_id, rest[1:])
        if route == "refs" and len(rest) == 1 and self.command == "GET":
            return self._refs(repo_type, repo_id)
        if route == "commits" and len(rest) >= 2 and self.command == "GET":
            return self._commits(repo_type, repo_id, rest[1:])
        return self._send_error(404, "Not Found")

    def _repo_info(self, repo_type: str, repo_id: str, rev_segs: list[str] | None):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=False)
        if state is None:
            return
        if rev_segs is None:
            rev_segs = [quote(state.default_branch, safe="")]
        rev = unquote("/".join(rev_segs))
        with hub._lock:
            commit = state.resolve(rev)
        self._rec.revision = rev
        if commit is None:
            return self._send_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        q = dict(self._query)
        blobs = q.get("blobs", "").lower() in ("true", "1")
        siblings = []
        for p in sorted(commit.files):
            f = commit.files[p]
            sib: dict = {"rfilename": p}
            if blobs:
                sib["size"] = f.size
                sib["blobId"] = f.git_sha1
                if f.is_lfs:
                    sib["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            siblings.append(sib)
        info = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": commit.sha,
            "lastModified": _iso(commit.timestamp),
            "createdAt": _iso(state.created),
            "private": state.private,
            "gated": state.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "cardData": None,
            "siblings": siblings,
            "usedStorage": sum(f.size for f in commit.files.values()),
        }
        if repo_type == "model":
            info["modelId"] = repo_id
            info["spaces"] = []
        card = hub.card_of(repo_type, repo_id)
        info["tags"] = card.pop("tags", [])
        info.update({k: v for k, v in card.items() if v is not None})
        return self._send_json(200, info)

    def _tree(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        if (found := self._repo_at(repo_type, repo_id, segs, content=True)) is None:
            return
        state, commit, rest = found
        sub = unquote("/".join(rest)).strip("/")
        q = dict(self._query)
        recursive = q.get("recursive", "").lower() in ("true", "1")
        expand = q.get("expand", "").lower() in ("true", "1")
        with hub._lock:
            entries = tree_entries(state, commit)
        if sub:
            if not any(e["type"] == "directory" and e["path"] == sub for e in entries):
                return self._send_error(
                    404, f"Entry not found: {sub}", "EntryNotFound", [("X-Repo-Commit", commit.sha)]
                )
            prefix = sub + "/"
        else:
            prefix = ""
        selected = [
            e
            for e in entries
            if e["path"].startswith(prefix) and (recursive or "/" not in e["path"][len(prefix) :])
        ]
        try:
            offset = int(base64.urlsafe_b64decode(q["cursor"].encode()).decode()) if q.get("cursor") else 0
        except (ValueError, UnicodeDecodeError):
            return self._send_error(400, "Invalid cursor", "BadRequest")
        size = max(1, hub.tree_page_size)
        page = selected[offset : offset + size]
        if expand:
            page = [self._expand(state, commit, e) for e in page]
        headers = []
        if offset + size < len(selected):
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            params = [(k, v) for k, v in self._query if k != "cursor"] + [("cursor", cursor)]
            host = self.headers.get("Host") or hub.url.split("://", 1)[1]
            url = f"http://{host}{self._rec.path}?{urlencode(params)}"
            headers.append(("Link", f'<{url}>; rel="next"'))
        self._send_json(200, page, headers)

    def _expand(self, state: RepoState, commit: Commit, entry: dict) -> dict:
        last = state.last_commit_of(commit, entry["path"])
        out = dict(entry)
        out["lastCommit"] = {"id": last.sha, "title": last.title, "date": _iso(last.timestamp)}
        if entry["type"] == "file":
            out["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False, "virusNames": None},
                "pickleImportScan": None,
            }
        return out

    def _paths_info(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        if (found := self._repo_at(repo_type, repo_id, segs, content=True)) is None:
            return
        state, commit, _ = found
        ctype = (self.headers.get("Content-Type") or "").lower()
        paths: list[str] = []
        expand = False
        try:
            if "json" in ctype:
                payload = json.loads(self._body or b"{}")
                raw = payload.get("paths", [])
                paths = [raw] if isinstance(raw, str) else list(raw)
                expand = str(payload.get("expand", "")).lower() in ("true", "1")
            else:
                pairs = parse_qsl(self._body.decode(), keep_blank_values=True)
                paths = [v for k, v in pairs if k in ("paths", "paths[]")]
                expand = any(k == "expand" and v.lower() in ("true", "1") for k, v in pairs)
        except (ValueError, UnicodeDecodeError, AttributeError):
            return self._send_error(400, "Invalid body", "BadRequest")
        with hub._lock:
            by_path = {e["path"]: e for e in tree_entries(state, commit)}
        out, seen = [], set()
        for p in paths:
            p = p.strip("/")
            if p in by_path and p not in seen:
                seen.add(p)
                out.append(self._expand(state, commit, by_path[p]) if expand else by_path[p])
        self._send_json(200, out)

    def _refs(self, repo_type: str, repo_id: str):
        hub = self.server.hub
        state = self._check_repo(repo_type, repo_id, content=False)
        if state is None:
            return
        with hub._lock:
            branches = dict(state.branches)
            tags = dict(state.tags)

        def ref(name, kind, sha):
            return {
                "name": name,
                "ref": name if name.startswith("refs/") else f"refs/{kind}/{name}",
                "targetCommit": sha,
            }

        self._send_json(
            200,
            {
                "branches": [ref(b, "heads", s) for b, s in branches.items() if not b.startswith("refs/")],
                "converts": [
                    ref(b, "convert", s) for b, s in branches.items() if b.startswith("refs/convert/")
                ],
                "tags": [ref(t, "tags", s) for t, s in tags.items()],
                "pullRequests": [ref(b, "pr", s) for b, s in branches.items() if b.startswith("refs/pr/")],
            },
        )

    def _commits(self, repo_type: str, repo_id: str, segs: list[str]):
        hub = self.server.hub
        if (found := self._repo_at(repo_type, repo_id, segs, content=False)) is None:
            return
        state, commit, _ = found
        out = []
        with hub._lock:
            cur: Commit | None = commit
            while cur is not None:
                out.append(
                    {
                        "id": cur.sha,
                        "title": cur.title,
                        "message": "",
                        "date": _iso(cur.timestamp),
                        "authors": [{"user": "fakehub", "avatar": None}],
                    }
                )
                cur = state.commits[cur.parent] if cur.parent else None
        self._send_json(200, out)

    def _whoami(self):
        hub = self.server.hub
        auth = self.headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        info = hub._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if info is None:
            return self._send_error(401, INVALID_CREDENTIALS)
        user = info["user"]
        return self._send_json(
            200,
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "test", "role": info["role"]},
                },
            },
        )
