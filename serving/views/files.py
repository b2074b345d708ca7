"""`HEAD`/`GET /{repo}/resolve/{revision}/{path}` (and `/datasets/...`): a verified file, whole or a Range.

The path from the URL is only ever a key into the installed manifest; the file opened is the blob the
manifest names (serving.blobs checks it is still the verified one). The headers are the ones
huggingface_hub reads: X-Repo-Commit names the snapshot folder, X-Linked-Etag the blob, X-Linked-Size the
size it checks the download against.
"""

import logging

from django.http import FileResponse, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from downloads import services
from downloads.models import JobOrigin, ModelVariant
from engine.cache.layout import check_repo_path
from engine.selection import InvalidInput
from serving import audit, ondemand
from serving.blobs import UNSATISFIABLE, BlobWindow, Refusal, open_verified, parse_range
from serving.responses import entry_not_found, hub_error, repo_not_found
from serving.snapshots import ServedFile, Snapshot
from serving.views.common import Request, accept, method_not_allowed

log = logging.getLogger(__name__)
RECHECK_RETRY_AFTER = 60  # a fast verification of a changed file is a re-hash of that file


class BlobResponse(FileResponse):
    # Used only where sendfile is not (runserver, TLS in gunicorn): bigger reads than Django's 4 KiB.
    block_size = 512 * 1024


@csrf_exempt  # token-authenticated, no cookies: a wrong method gets the Hub's 405, not a CSRF page
def resolve(request, rest: str) -> HttpResponse:
    if refused := method_not_allowed(request, ("GET", "HEAD")):
        return refused
    segments = rest.split("/")
    repo_type = "model"
    if segments[0] in ("datasets", "spaces"):
        if segments[0] == "spaces":
            return repo_not_found("/".join(segments[1:3]))
        repo_type, segments = "dataset", segments[1:]
    if len(segments) < 4 or segments[2] != "resolve":
        return hub_error(404, None, "Not found: ModelHub serves /{repo}/resolve/{revision}/{path} and /api/")
    accepted = accept(request, repo_type, segments[:2])
    if isinstance(accepted, HttpResponse):
        if accepted.status_code in (401, 403):
            audit.record(request, None, repo_type=repo_type, repo_id="/".join(segments[:2]),
                         status=accepted.status_code, path="/".join(segments[4:]))
        return accepted
    revision, path_segments = accepted.split_revision(segments[3:])
    path = "/".join(path_segments)
    if why := check_repo_path(path):
        return entry_not_found(accepted.repo_id, path, why=f"Refusing the path {path!r}: {why}.")
    snapshot = accepted.snapshot(revision, path=path)
    if not isinstance(snapshot, Snapshot):
        if snapshot.status_code == 503:
            _record(request, accepted, revision, path, status=503)
        return snapshot
    served = snapshot.file(path)
    if served is None:
        return _not_installed(request, accepted, snapshot, revision, path)
    opened = open_verified(served)
    if isinstance(opened, Refusal):
        return _refused(accepted, snapshot, served, opened)
    return _send(request, accepted, snapshot, served, opened, revision)


def _not_installed(request, accepted: Request, snapshot: Snapshot, revision: str, path: str) -> HttpResponse:
    """Not among the installed files at that commit. On demand, another GGUF quant of an installed commit
    is fetched pinned to that commit, so the branch the client asked for does not move under it."""
    if ondemand.quant_glob(path) and ondemand.applies(accepted.setting, accepted.caller):
        answer = ondemand.request_download(accepted.caller, repo_type=accepted.repo_type,
                                           repo_id=accepted.repo_id, revision=snapshot.commit, path=path)
        if answer is not None:
            if answer.status_code == 503:
                _record(request, accepted, revision, path, status=503, commit=snapshot.commit)
            return answer
    return entry_not_found(accepted.repo_id, path, snapshot.commit)


def _refused(accepted: Request, snapshot: Snapshot, served: ServedFile, refusal: Refusal) -> HttpResponse:
    if refusal.reason == "outside":
        log.warning("hub: not serving %s/%s: %s", accepted.repo_id, served.path, refusal.detail)
        return entry_not_found(accepted.repo_id, served.path, snapshot.commit,
                               why=f"{served.path} is not served: {refusal.detail}.")
    # Missing or changed since hashed: a verification decides (a touch passes, damage makes it corrupt).
    variant = ModelVariant.objects.filter(pk=served.variant_id).first()
    job = None
    if variant is not None:
        try:
            job, _ = services.verify(variant, origin=JobOrigin.SCHEDULE)
        except InvalidInput:
            pass
    log.warning("hub: not serving %s/%s: %s (verify job %s)", accepted.repo_id, served.path, refusal.detail,
                job.pk if job else "-")
    return hub_error(503, None, f"ModelHub's copy of {served.path} is being checked again "
                                f"({refusal.detail}); try again in a minute.", commit=snapshot.commit,
                     headers={"Retry-After": str(RECHECK_RETRY_AFTER)})


def _send(request, accepted: Request, snapshot: Snapshot, served: ServedFile, fh, revision: str):
    size = served.size
    headers = {
        "X-Repo-Commit": snapshot.commit,
        "ETag": f'"{served.etag}"',
        # The Hub sends these two for LFS files only. Sent for every file, they say the same as ETag and
        # Content-Length, and survive a proxy that drops Content-Length from a HEAD answer.
        "X-Linked-Etag": f'"{served.etag}"',
        "X-Linked-Size": str(size),
        "Accept-Ranges": "bytes",
        # no-transform: a proxy that compressed the body would break the size and hash clients check.
        "Cache-Control": "private, no-transform",
    }
    wanted = parse_range(request.META.get("HTTP_RANGE"), size)
    if wanted == UNSATISFIABLE:
        fh.close()
        return hub_error(416, None, f"Range not satisfiable: {served.path} has {size} bytes",
                         headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted or (0, size - 1)
    length = end - start + 1 if size else 0
    status = 206 if wanted else 200
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        fh.close()
        response = HttpResponse(status=status, content_type="application/octet-stream")
        response["Content-Length"] = str(length)
    else:
        response = BlobResponse(BlobWindow(fh, start, length), status=status,
                                content_type="application/octet-stream")
        _record(request, accepted, revision, served.path, status=status, commit=snapshot.commit,
                variant_id=served.variant_id, range_start=start if wanted else None, bytes_served=length)
    for name, value in headers.items():
        response[name] = value
    return response


def _record(request, accepted: Request, revision: str, path: str, **fields) -> None:
    audit.record(request, accepted.caller, repo_type=accepted.repo_type, repo_id=accepted.repo_id,
                 revision=revision, path=path, **fields)
