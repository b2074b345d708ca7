"""The Hub's answer shapes: JSON bodies, and errors whose `X-Error-Code` header huggingface_hub turns into
its exceptions (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError, GatedRepoError).

Over plain http a bare 401 or 404 is not mapped to those exceptions, so every refusal carries its code;
the message goes in `X-Error-Message` and in the body's `error`, as the Hub sends it.
"""

import json

from django.http import HttpResponse, JsonResponse

REPO_NOT_FOUND = "RepoNotFound"
REVISION_NOT_FOUND = "RevisionNotFound"
ENTRY_NOT_FOUND = "EntryNotFound"
GATED = "GatedRepo"
BAD_REQUEST = "BadRequest"

# What the Hub's whoami-v2 answers for a missing or unknown token (`hf auth whoami` prints it).
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


def header_text(message: str, limit: int = 1000) -> str:
    """A header-safe copy of a message: one line of printable ASCII (a repo id or path from the request
    may hold anything, and a header with a line break would be refused by the server, i.e. a 500)."""
    flat = " ".join(message.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:limit]


def hub_json(data, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, separators=(",", ":")), status=status,
                            content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def hub_error(status: int, code: str | None, message: str, *, commit: str = "",
              headers: dict | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if code:
        response["X-Error-Code"] = code
    response["X-Error-Message"] = header_text(message)
    if commit:  # the Hub names the commit it looked in; huggingface_hub caches "not there" per commit
        response["X-Repo-Commit"] = commit
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def repo_not_found(repo_id: str, why: str = "") -> JsonResponse:
    return hub_error(404, REPO_NOT_FOUND, why or f"Repository {repo_id} is not installed on this ModelHub. "
                     "Ask an admin to download it (admin: Model variants → Add from Hub).")


def revision_not_found(repo_id: str, revision: str) -> JsonResponse:
    return hub_error(404, REVISION_NOT_FOUND, f"Revision {revision} of {repo_id} is not installed on this "
                     "ModelHub. Installed revisions are served; ask an admin to download this one.")


def entry_not_found(repo_id: str, path: str, commit: str = "", why: str = "") -> JsonResponse:
    return hub_error(404, ENTRY_NOT_FOUND, why or f"{path} is not among the installed files of {repo_id}"
                     + (f" at {commit}" if commit else "") + ".", commit=commit)
