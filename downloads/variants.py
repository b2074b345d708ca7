"""Which variant a selection is: validated with the cleaners the admin form and the commands share.
The same repo, revision and files are one variant: the same globs (a database constraint), or other
globs that select the same files of the repo (checked when the caller has its file list). Every
variant has a readable name. Removing a variant (its row, its job history and, when asked, its files)
is here too: the other end of its life.
"""

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from downloads.models import ModelVariant
from downloads.storage.delete import VariantPlan, delete_variant_files
from engine import catalog
from engine.hub import RemoteFile
from engine.selection import (
    HubReference,
    InvalidInput,
    clean_globs,
    clean_repo_id,
    clean_revision,
    require_utf8,
    select_files,
)
from engine.verify import AUTO


def get_or_create_variant(*, repo_id: str, repo_type: str = "model", revision: str | None = "main",
                          include: Iterable[str] | str = (), exclude: Iterable[str] | str = (),
                          name: str = "", kind: str = AUTO,
                          files: list[RemoteFile] | None = None) -> tuple[ModelVariant, bool]:
    """Validate the selection and return its variant: the one with these globs, else (given the repo's
    `files` at that revision) the one whose globs select exactly the same files, else a new one named
    `name` or, without one, a readable name made from the globs."""
    if repo_type not in ("model", "dataset"):
        raise InvalidInput(f"repo type must be 'model' or 'dataset', not {repo_type!r}")
    key = {
        "repo_id": clean_repo_id(repo_id),
        "repo_type": repo_type,
        "revision": clean_revision(revision),
        "include": clean_globs(include, "include"),
        "exclude": clean_globs(exclude, "exclude"),
    }
    name = require_utf8((name or "").strip(), "name")[:100]
    kind = require_utf8((kind or AUTO).strip(), "kind")[:50]
    variant = ModelVariant.objects.filter(**key).first()
    if variant is None and files is not None:
        variant = same_files_as(key, files)
    if variant is not None:
        if name and variant.name != name and (not variant.name or _exact(variant, key)):
            ModelVariant.objects.filter(pk=variant.pk).update(name=name)
            variant.name = name
        return variant, False
    defaults = {"name": name or readable_name(key["include"], key["exclude"]), "kind": kind}
    try:
        with transaction.atomic():
            return ModelVariant.objects.get_or_create(**key, defaults=defaults)
    except IntegrityError:  # created concurrently
        return ModelVariant.objects.get(**key), False


def _exact(variant: ModelVariant, key: dict) -> bool:
    return variant.include == key["include"] and variant.exclude == key["exclude"]


def selected_paths(files: list[RemoteFile], include: list[str], exclude: list[str]) -> frozenset[str]:
    return frozenset(f.path for f in select_files(files, include, exclude))


def same_files_as(key: dict, files: list[RemoteFile]) -> ModelVariant | None:
    """The variant of this repo and revision whose globs select the same files as `key`'s (a command's
    '*Q4_K_M*.gguf' and Add from Hub's exact file name are one variant). A selection of nothing is
    nobody's twin: it is a typo to be reported by its download, not merged into another variant."""
    wanted = selected_paths(files, key["include"], key["exclude"])
    if not wanted:
        return None
    siblings = ModelVariant.objects.filter(repo_id=key["repo_id"], repo_type=key["repo_type"],
                                           revision=key["revision"]).order_by("pk")
    return next((v for v in siblings if selected_paths(files, v.include, v.exclude) == wanted), None)


def readable_name(include: list[str], exclude: list[str]) -> str:
    """A name for a variant nobody named: its GGUF quant, "all files", or its patterns, shortened."""
    if not include and not exclude:
        return "all files"
    quants = {catalog.quant_of(p.replace("*", " ").replace("?", " ")) for p in include}
    if len(quants) == 1 and None not in quants:
        return quants.pop()
    if not include:
        return ("all except " + ", ".join(exclude))[:100]
    first = include[0]
    more = f" (+{len(include) - 1} more)" if len(include) > 1 else ""
    return (first + more)[:100]


# --- pasted references ----------------------------------------------------------------------------
def choice_for_reference(ref: HubReference, choices: list[catalog.Choice],
                         files: list[RemoteFile]) -> catalog.Choice | None:
    """The choice a pasted reference names: its `:QUANT`, or the GGUF quant or sharded checkpoint its
    file belongs to (all parts of a split GGUF), else a choice of just that file. None when it names
    only the repo; InvalidInput when the quant or file is not in the repo."""
    where = f"{ref.repo_id}" + (f"@{ref.revision}" if ref.revision else "")
    if ref.quant:
        quants = [c for c in choices if c.key.startswith("gguf:")]
        found = [c for c in quants if c.name.upper() == ref.quant] or [
            c for c in quants if catalog.quant_of(c.name) == ref.quant]
        if not found:
            offered = ", ".join(c.name for c in quants) or "no GGUF file at all"
            raise InvalidInput(f"{where} has no {ref.quant} GGUF; it offers: {offered}")
        return found[0]
    if not ref.path:
        return None
    sizes = {f.path: f.size for f in files}
    if ref.path not in sizes:
        raise InvalidInput(f"{where} has no file {ref.path!r}")
    for choice in choices:
        if choice.key.startswith(("gguf:", "index:")) and ref.path in choice.files:
            return choice
    return single_file_choice(ref.path, sizes[ref.path])


def repo_files(repo_id: str, repo_type: str, revision: str) -> list[RemoteFile]:
    """The repo's files at a revision, from the Hub (a command has no page that looked them up).
    Raises HubError when the Hub refuses, with the code a download would get."""
    from settings_app.hub_client import client_from_settings
    from settings_app.models import Setting

    overview = client_from_settings(Setting.load()).overview(repo_id, repo_type, revision)
    if overview.access_error is not None:
        raise overview.access_error
    return overview.files


def single_file_choice(path: str, size: int) -> catalog.Choice:
    return catalog.Choice(f"file:{path}", posixpath.basename(path)[:100], f"just {path}",
                          (catalog.literal(path),), (), (path,), size)


# --- removing variants ----------------------------------------------------------------------------
@dataclass
class Removed:
    """What removing one variant did (or why it did not)."""

    label: str
    jobs: int = 0
    refused: str = ""
    files: VariantPlan | None = None  # set when its files were deleted (or refused) too

    @property
    def bytes_freed(self) -> int:
        return self.files.bytes_freed if self.files is not None and not self.files.refused else 0


def removal_refused(variant: ModelVariant) -> str:
    """Why the variant cannot be removed now, or "". A job that is queued or running would lose its row
    under the worker writing to it: it is cancelled first, by a person who sees what it was doing."""
    job = variant.jobs.active().first()
    if job is None:
        return ""
    return f"job {job.pk} is {job.state}; cancel it first (or wait until it ends)"


def remove_variants(variants: Iterable[ModelVariant], *, delete_files: bool, by=None) -> list[Removed]:
    """Remove each variant's row with its job history and, when asked, its files on disk.

    One at a time, files first: a blob shared by two variants being removed is kept while the first
    goes (the second still claims it) and freed with the second, so nothing in use is ever deleted.
    """
    done = []
    for variant in variants:
        outcome = Removed(str(variant))
        if refused := removal_refused(variant):
            outcome.refused = refused
            done.append(outcome)
            continue
        if delete_files and variant.installed_files:
            outcome.files = delete_variant_files(variant, by=by)
        with transaction.atomic():
            if refused := removal_refused(variant):  # a job started while the files went
                outcome.refused = refused
            else:
                outcome.jobs = variant.jobs.count()
                variant.delete()
        done.append(outcome)
    return done
