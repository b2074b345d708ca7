"""django-q2 entry points for storage work: a few lines each; the work is in the services."""

from django.contrib.auth import get_user_model

from downloads import updates
from downloads.storage import discovery, imports


def check_updates() -> dict:
    """Scheduled: record where installed variants' branches point upstream (update available?)."""
    results = updates.check_updates()
    return {"checked": sum(1 for r in results if not r.skipped and not r.error_code),
            "updates": [r.variant_id for r in results if r.update_available],
            "errors": {r.variant_id: r.error_code for r in results if r.error_code}}


def import_snapshots(keys: list[str], mode: str, user_id: int | None = None,
                     locations: list[str] | tuple = ()) -> list[dict]:
    """From the Storage page: copying and hashing whole models is too slow for a web request."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    found = discovery.find_by_keys(keys, extra_locations=locations)
    return [r.as_dict() for r in imports.import_snapshots(found, mode=mode, by=user)]
