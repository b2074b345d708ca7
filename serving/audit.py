"""The pull log: one row per file request /hub answered with bytes, a refusal or an on-demand queueing,
and the totals (per variant, per user) the admin shows. Never the token, only which token row."""

from django.db.models import Count, Sum

from serving.access import Caller
from serving.models import PullLog


def _storable(text: str, limit: int) -> str:
    """Text from the request fit for any database column: no NUL (PostgreSQL refuses it), valid UTF-8."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def record(request, caller: Caller | None, *, repo_type: str, repo_id: str, status: int, revision: str = "",
           commit: str = "", path: str = "", variant_id: int | None = None, range_start: int | None = None,
           bytes_served: int = 0) -> PullLog:
    return PullLog.objects.create(
        user=caller.user if caller else None, token=caller.token if caller else None, variant_id=variant_id,
        repo_type=repo_type, repo_id=_storable(repo_id, 200), revision=_storable(revision, 255),
        commit=commit, path=_storable(path, 1024), status=status, range_start=range_start,
        bytes_served=bytes_served, client=_storable(request.META.get("REMOTE_ADDR", ""), 100),
    )


def totals(queryset, by: str) -> list[dict]:
    """Bytes served and pulls, grouped by `variant` or `user`, largest first."""
    key = {"variant": ["variant_id", "repo_id", "variant__name", "variant__revision"],
           "user": ["user_id", "user__username"]}[by]
    return list(queryset.filter(bytes_served__gt=0).values(*key)
                .annotate(bytes=Sum("bytes_served"), pulls=Count("id")).order_by("-bytes")[:50])
