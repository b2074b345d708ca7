"""Which variant a selection is: validated with the cleaners the admin form and the commands share,
and unique on repo, type, revision and globs (the same selection is one variant). Removing a variant
(its row, its job history and, when asked, its files) is here too: the other end of its life.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from downloads.models import ModelVariant
from downloads.storage.delete import VariantPlan, delete_variant_files
from engine.selection import InvalidInput, clean_globs, clean_repo_id, clean_revision, require_utf8
from engine.verify import AUTO


def get_or_create_variant(*, repo_id: str, repo_type: str = "model", revision: str | None = "main",
                          include: Iterable[str] | str = (), exclude: Iterable[str] | str = (),
                          name: str = "", kind: str = AUTO) -> tuple[ModelVariant, bool]:
    """Validate the selection and return its variant (unique on repo, type, revision, globs)."""
    if repo_type not in ("model", "dataset"):
        raise InvalidInput(f"repo type must be 'model' or 'dataset', not {repo_type!r}")
    key = {
        "repo_id": clean_repo_id(repo_id),
        "repo_type": repo_type,
        "revision": clean_revision(revision),
        "include": clean_globs(include, "include"),
        "exclude": clean_globs(exclude, "exclude"),
    }
    name = require_utf8((name or "").strip(), "name")
    defaults = {"name": name[:100], "kind": require_utf8((kind or AUTO).strip(), "kind")[:50]}
    try:
        with transaction.atomic():
            variant, created = ModelVariant.objects.get_or_create(**key, defaults=defaults)
    except IntegrityError:  # created concurrently
        variant, created = ModelVariant.objects.get(**key), False
    if not created and name and variant.name != name[:100]:
        ModelVariant.objects.filter(pk=variant.pk).update(name=name[:100])
        variant.name = name[:100]
    return variant, created


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
