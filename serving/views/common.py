"""What every /hub view does first: who calls, which repo, which installed snapshot (or which refusal).

Names from the URL are checked with the same rules downloads use (engine.selection) before they reach
a query or the file system; anything else answers in the Hub's error shapes, never with a 500.
"""

from dataclasses import dataclass

from django.http import HttpResponse

from engine.selection import InvalidInput, clean_repo_id
from serving import ondemand, snapshots
from serving.access import Caller, identify
from serving.responses import hub_error, repo_not_found, revision_not_found
from serving.snapshots import Missing, Snapshot
from settings_app.models import Setting

REPO_TYPES = {"models": "model", "datasets": "dataset"}


@dataclass
class Request:
    """One /hub request, after the caller and the repo were accepted."""

    caller: Caller
    setting: Setting
    repo_type: str
    repo_id: str
    variants: list

    def split_revision(self, segments: list[str], min_rest: int = 1) -> tuple[str, list[str]]:
        return snapshots.split_revision(self.variants, segments, min_rest)

    def snapshot(self, revision: str, *, path: str = "") -> Snapshot | HttpResponse:
        """The installed snapshot the revision names, or the answer: queued on demand (503), else 404."""
        found = snapshots.find(self.variants, revision, self.setting.effective_storage_dir)
        if isinstance(found, Snapshot):
            return found
        if ondemand.applies(self.setting, self.caller):
            answer = ondemand.request_download(self.caller, repo_type=self.repo_type, repo_id=self.repo_id,
                                               revision=revision, path=path)
            if answer is not None:
                return answer
        if found == Missing.REPO:
            return repo_not_found(self.repo_id)
        return revision_not_found(self.repo_id, revision)


def method_not_allowed(request, allowed: tuple[str, ...]) -> HttpResponse | None:
    if request.method in allowed:
        return None
    response = hub_error(405, None, f"{request.method} is not supported here")
    response["Allow"] = ", ".join(allowed)
    return response


def accept(request, repo_type: str, repo_segments: list[str]) -> Request | HttpResponse:
    """The caller (or the refusal) first, so nobody without a token learns what is installed; then the
    repo id, checked like every repo id ModelHub takes."""
    setting = Setting.load()
    caller = identify(request, setting)
    if isinstance(caller, HttpResponse):
        return caller
    raw = "/".join(repo_segments)
    try:
        if len(repo_segments) != 2:
            raise InvalidInput("a repo id is 'org/name'")
        repo_id = clean_repo_id(raw)
    except InvalidInput:
        return repo_not_found(raw, f"{raw!r} is not a valid repo id (expected 'org/name').")
    if repo_id != raw:  # clean_repo_id strips and rewrites some forms: serve only the canonical one
        return repo_not_found(raw, f"{raw!r} is not a valid repo id (expected 'org/name').")
    return Request(caller, setting, repo_type, repo_id, snapshots.installed_variants(repo_type, repo_id))
