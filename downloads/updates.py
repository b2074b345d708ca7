"""Update available? Ask the Hub where each installed variant's branch or tag points now.

Variants pinned to a commit are skipped (a commit never moves). Each (repo, revision) is asked once,
however many variants share it. A failure is recorded in that variant's result and never raised, so
one gated or deleted repo does not stop the check of the others.
"""

import logging
from dataclasses import asdict, dataclass

from downloads.jobs import lifecycle
from downloads.models import ModelVariant, VariantStatus
from engine.cache.layout import is_commit
from engine.errors import ErrorCode, HubError
from settings_app.hub_client import client_from_settings

log = logging.getLogger(__name__)


@dataclass
class UpdateCheck:
    variant_id: int
    variant: str
    revision: str
    commit: str
    upstream_commit: str | None = None
    update_available: bool = False
    skipped: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def check_updates(variants=None) -> list[UpdateCheck]:
    """Check `variants` (default: every installed variant); returns one result per variant."""
    if variants is None:
        variants = ModelVariant.objects.filter(status=VariantStatus.INSTALLED)
    results: list[UpdateCheck] = []
    client = None
    answers: dict[tuple[str, str, str], str | Exception] = {}
    for variant in variants:
        result = UpdateCheck(variant.pk, str(variant), variant.revision, variant.commit)
        results.append(result)
        if variant.status != VariantStatus.INSTALLED:
            result.skipped = f"not installed ({variant.status})"
            continue
        if is_commit(variant.revision):
            result.skipped = "pinned to a commit"
            continue
        key = (variant.repo_type, variant.repo_id, variant.revision)
        if key not in answers:
            client = client or client_from_settings()
            answers[key] = _ask(client, *key)
        answer = answers[key]
        if isinstance(answer, Exception):
            result.error_code = getattr(answer, "code", ErrorCode.INTERNAL_ERROR)
            result.error_message = getattr(answer, "message", None) or f"{type(answer).__name__}: {answer}"
            lifecycle.variant_upstream_checked(variant, error=f"{result.error_code}: {result.error_message}")
            continue
        lifecycle.variant_upstream_checked(variant, commit=answer)
        result.upstream_commit = answer
        result.update_available = variant.update_available
    return results


def _ask(client, repo_type: str, repo_id: str, revision: str) -> str | Exception:
    try:
        return client.latest_commit(repo_id, repo_type, revision)
    except HubError as exc:
        log.info("update check of %s@%s failed: %s", repo_id, revision, exc)
        return exc
    except Exception as exc:  # a bug or an unexpected reply must not stop the other variants' checks
        log.exception("update check of %s@%s crashed", repo_id, revision)
        return exc
