"""API tokens for /hub: create (the plain token is returned once), verify, revoke.

Tokens are 256 random bits, so a plain sha256 is enough to store them: a slow password hash protects
guessable secrets, and would cost every file request a few hundred milliseconds for nothing here.
The prefix (`mh_` and a few characters) is kept in clear so people can tell their tokens apart.
"""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from serving.models import ApiToken

TOKEN_PREFIX = "mh_"
SHOWN_PREFIX = 10  # "mh_" and 7 characters: enough to tell tokens apart, far too few to guess the rest
# last_used_at is written at most this often per token: a pull of a thousand small files would
# otherwise write the token row a thousand times.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


def create(user, *, name: str = "", by=None) -> tuple[ApiToken, str]:
    """A new token for `user`. Returns (row, plain token); the plain token is not stored anywhere."""
    row = ApiToken(user=user, name=(name or "").strip()[:100])
    return row, issue(row, by=by)


def issue(row: ApiToken, *, by=None) -> str:
    """Give an unsaved row its secret and save it (the admin's add form builds the row). Returns the plain
    token, which is shown once and kept nowhere."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row.prefix = plain[:SHOWN_PREFIX]
    row.token_hash = _digest(plain)
    row.created_by = by if getattr(by, "is_authenticated", False) else None
    row.save()
    return plain


def verify(plain: str | None) -> ApiToken | None:
    """The active token row for this plain token (its user active), or None."""
    plain = (plain or "").strip()
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    # Compared by digest in the database: the lookup does not reveal how much of a guess was right.
    row = (ApiToken.objects.active().select_related("user").filter(token_hash=_digest(plain)).first())
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def revoke(row: ApiToken, *, by=None) -> bool:
    """Revoke a token (kept for the audit trail). False when it was already revoked."""
    user = by if getattr(by, "is_authenticated", False) else None
    done = ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=user)
    row.refresh_from_db()
    return bool(done)
