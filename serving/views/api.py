"""The Hub's JSON API as huggingface_hub 2.x calls it: revision info (with `?blobs=true`), the tree
listing (recursive, paginated with a Link header; `expand=true` adds `lastCommit`), paths-info, refs
and whoami-v2."""

import base64
import binascii
import hashlib
import json
from urllib.parse import parse_qsl, urlencode

from django.http import HttpResponse
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt

from engine.cache.layout import check_repo_path
from serving import refs
from serving.access import bearer
from serving.responses import (
    BAD_REQUEST,
    INVALID_CREDENTIALS,
    entry_not_found,
    hub_error,
    hub_json,
    repo_not_found,
)
from serving.snapshots import Snapshot
from serving.tokens import verify
from serving.views.common import REPO_TYPES, accept, method_not_allowed

TREE_PAGE_SIZE = 1000  # the Hub's page for unexpanded listings
EXPANDED_PAGE_SIZE = 50  # and for expanded ones
_TRUE = ("1", "true", "True")


@csrf_exempt  # token-authenticated API, no cookies involved; paths-info is a POST
def api(request, kind: str, rest: str) -> HttpResponse:
    repo_type = REPO_TYPES.get(kind)
    segments = rest.split("/")
    if repo_type is None:  # spaces are not something ModelHub downloads
        return repo_not_found("/".join(segments[:2]))
    accepted = accept(request, repo_type, segments[:2])
    if isinstance(accepted, HttpResponse):
        return accepted
    route, args = (segments[2], segments[3:]) if len(segments) > 2 else ("", [])
    if route == "" and not any(args):
        return method_not_allowed(request, ("GET", "HEAD")) or _info(request, accepted, "main")
    if route == "revision" and any(args):
        return method_not_allowed(request, ("GET", "HEAD")) or _info(request, accepted, "/".join(args))
    if route == "tree" and any(args):
        return method_not_allowed(request, ("GET", "HEAD")) or _tree(request, accepted, args)
    if route == "paths-info" and any(args):
        return method_not_allowed(request, ("POST",)) or _paths_info(request, accepted, "/".join(args))
    if route == "refs" and not any(args):
        return method_not_allowed(request, ("GET", "HEAD")) or _refs(request, accepted)
    return hub_error(404, None, f"/api/{kind}/{accepted.repo_id}/{route} is not served by ModelHub")


def _iso(when) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z") if when else None


def _info(request, accepted, revision: str) -> HttpResponse:
    snapshot = accepted.snapshot(revision)
    if not isinstance(snapshot, Snapshot):
        return snapshot
    blobs = request.GET.get("blobs") in _TRUE
    siblings = []
    for path, f in snapshot.files.items():
        sibling: dict = {"rfilename": path}
        if blobs:
            sibling.update(size=f.size, blobId=f.git_sha1)
            if f.sha256:
                lfs = f.tree_entry(path)["lfs"]
                sibling["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": lfs["pointerSize"]}
        siblings.append(sibling)
    org = snapshot.repo_id.split("/")[0]
    info = {
        "_id": hashlib.sha1(f"{snapshot.repo_type}/{snapshot.repo_id}".encode()).hexdigest()[:24],
        "id": snapshot.repo_id, "author": org, "sha": snapshot.commit,
        "lastModified": _iso(snapshot.last_modified), "private": False, "gated": False, "disabled": False,
        "downloads": 0, "likes": 0, "tags": [], "siblings": siblings,
        "usedStorage": sum(f.size for f in snapshot.files.values()),
    }
    if snapshot.repo_type == "model":
        info["modelId"] = snapshot.repo_id
    return hub_json(info, headers={"X-Repo-Commit": snapshot.commit})


def _tree(request, accepted, args: list[str]) -> HttpResponse:
    revision, rest = accepted.split_revision(args, min_rest=0)
    snapshot = accepted.snapshot(revision)
    if not isinstance(snapshot, Snapshot):
        return snapshot
    folder = "/".join(rest).strip("/")
    if folder and (check_repo_path(folder) or not snapshot.is_folder(folder)):
        return entry_not_found(snapshot.repo_id, folder, snapshot.commit)
    prefix = f"{folder}/" if folder else ""
    recursive = request.GET.get("recursive") in _TRUE
    expand = request.GET.get("expand") in _TRUE
    page_size = EXPANDED_PAGE_SIZE if expand else TREE_PAGE_SIZE
    entries = [e for e in snapshot.tree() if e["path"].startswith(prefix)
               and (recursive or "/" not in e["path"][len(prefix):])]
    try:
        cursor = request.GET.get("cursor")
        offset = int(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")) if cursor else 0
        if offset < 0:
            raise ValueError(offset)
    except (ValueError, UnicodeError, binascii.Error):
        return hub_error(400, BAD_REQUEST, "Invalid cursor")
    page = entries[offset:offset + page_size]
    if expand:
        page = [_expanded(snapshot, e) for e in page]
    headers = {"X-Repo-Commit": snapshot.commit}
    if offset + page_size < len(entries):
        # On the origin the client called (the Host it sent, already checked against ALLOWED_HOSTS):
        # huggingface_hub sends its Authorization header to whatever the Link names.
        params = [(k, v) for k, v in request.GET.items() if k != "cursor"]
        params.append(("cursor", base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()))
        url = request.build_absolute_uri(f"{escape_uri_path(request.path)}?{urlencode(params)}")
        headers["Link"] = f'<{url}>; rel="next"'
    return hub_json(page, headers=headers)


def _paths_info(request, accepted, revision: str) -> HttpResponse:
    snapshot = accepted.snapshot(revision)
    if not isinstance(snapshot, Snapshot):
        return snapshot
    try:
        body = request.body.decode("utf-8")
        if "json" in (request.content_type or ""):
            payload = json.loads(body or "{}")
            raw = payload.get("paths", [])
            if not isinstance(raw, (str, list)):
                raise ValueError("paths must be a string or a list")
            paths = [raw] if isinstance(raw, str) else [p for p in raw if isinstance(p, str)]
            expand = payload.get("expand") in (True, *_TRUE)
        else:
            pairs = parse_qsl(body, keep_blank_values=True)
            paths = [v for k, v in pairs if k in ("paths", "paths[]")]
            expand = any(k == "expand" and v in _TRUE for k, v in pairs)
    except (ValueError, UnicodeError, AttributeError):
        return hub_error(400, BAD_REQUEST, "Invalid body: expected paths=... (form) or {\"paths\": [...]}")
    by_path = {e["path"]: e for e in snapshot.tree()}
    wanted = dict.fromkeys(p.strip("/") for p in paths)
    found = [by_path[p] for p in wanted if p in by_path]
    if expand:
        found = [_expanded(snapshot, e) for e in found]
    return hub_json(found, headers={"X-Repo-Commit": snapshot.commit})


def _expanded(snapshot: Snapshot, entry: dict) -> dict:
    """An entry with `lastCommit`, which huggingface_hub parses as id, title and date. ModelHub keeps no
    per-file history of the origin: it names the commit served (one that holds this very content) and
    when ModelHub last verified it. `securityFileStatus` is left out: ModelHub runs no such scans, and
    huggingface_hub treats it as optional."""
    title = f"{snapshot.repo_id} at {snapshot.commit[:8]}, as installed on ModelHub"
    return {**entry, "lastCommit": {"id": snapshot.commit, "title": title,
                                    "date": _iso(snapshot.last_modified)}}


def _refs(request, accepted) -> HttpResponse:
    """The branches and tags ModelHub recorded (see serving.refs); 404 RepoNotFound when none is installed,
    and on demand does not apply: listing refs downloads nothing."""
    if not accepted.variants:
        return repo_not_found(accepted.repo_id)
    storage = accepted.setting.effective_storage_dir
    prs = request.GET.get("include_prs") in _TRUE
    return hub_json(refs.listing(accepted.variants, storage, pull_requests=prs))


def whoami(request) -> HttpResponse:
    token = verify(bearer(request))
    if token is None:
        return hub_error(401, None, INVALID_CREDENTIALS)
    user = token.user
    return hub_json({
        "type": "user", "id": hashlib.sha1(f"modelhub-user-{user.pk}".encode()).hexdigest()[:24],
        "name": user.get_username(), "fullname": user.get_full_name() or user.get_username(),
        "email": user.email or None, "emailVerified": bool(user.email), "isPro": False, "canPay": False,
        "orgs": [], "auth": {"type": "access_token",
                             "accessToken": {"displayName": token.name or token.prefix, "role": "read"}},
    })


def agent_harnesses(request) -> HttpResponse:
    """huggingface_hub fetches this registry once a day (AI-agent detection, for its telemetry). Empty: no
    detection, and no 404 in the log for every new client machine."""
    return hub_json({"standardEnvVars": [], "harnesses": {}})
