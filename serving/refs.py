"""`GET /api/{models,datasets}/{repo}/refs`: the names a client may pass as a revision, each with the commit
/hub serves for it.

The names are the ones ModelHub recorded: the `refs/<name>` files its downloads wrote in the cache folder
(as huggingface_hub writes them) and the revisions of the installed variants. Each is listed with the
commit `snapshots.resolve_revision` gives it, and only when that commit is installed, so every listed ref
can be downloaded. The cache does not say whether a name was a branch or a tag upstream (huggingface_hub
writes both to refs/<name>): names are listed as branches, except `refs/convert/*` (converts) and
`refs/pr/*` (pull requests), which say what they are.
"""

import os
from pathlib import Path

from downloads.models import ModelVariant
from downloads.storage.overview import variant_home
from engine.cache.layout import check_repo_path, is_commit, repo_folder_name, within
from serving.snapshots import resolve_revision

MAX_REF_FILES = 1000  # a refs folder holds a handful; a folder of thousands is not worth walking at a request
_CONVERT, _PR = "refs/convert/", "refs/pr/"


def recorded_names(variants: list[ModelVariant], storage: Path) -> set[str]:
    names = {v.revision for v in variants if v.revision and not is_commit(v.revision)}
    for home in dict.fromkeys(variant_home(v, storage) for v in variants):
        folder = home / repo_folder_name(variants[0].repo_id, variants[0].repo_type) / "refs"
        if not folder.is_dir() or not within(folder, home):
            continue
        seen = 0
        for dirpath, dirnames, filenames in os.walk(folder):  # symlinked folders are not followed
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                seen += 1
                if not name.startswith("."):  # RepoCache.write_ref's temp files start with a dot
                    names.add((Path(dirpath) / name).relative_to(folder).as_posix())
            if seen > MAX_REF_FILES:
                break
    return {n for n in names if check_repo_path(n) is None}


def listing(variants: list[ModelVariant], storage: Path, *, pull_requests: bool) -> dict:
    """The Hub's refs answer: {"branches", "converts", "tags"[, "pullRequests"]} of
    {"name", "ref", "targetCommit"}."""
    found = {n: c for n in sorted(recorded_names(variants, storage))
             if (c := resolve_revision(variants, n, storage))}
    out: dict[str, list] = {"branches": [], "converts": [], "tags": []}
    prs = []
    for name, commit in found.items():
        if name.startswith(_CONVERT):
            out["converts"].append({"name": name[len(_CONVERT):], "ref": name, "targetCommit": commit})
        elif name.startswith(_PR):
            prs.append({"name": name, "ref": name, "targetCommit": commit})
        elif not name.startswith("refs/"):
            out["branches"].append({"name": name, "ref": f"refs/heads/{name}", "targetCommit": commit})
    if pull_requests:
        out["pullRequests"] = prs
    return out
