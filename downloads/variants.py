"""Which variant a selection is: validated with the cleaners the admin form and the commands share,
and unique on repo, type, revision and globs (the same selection is one variant)."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from downloads.models import ModelVariant
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
