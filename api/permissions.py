"""The admin's permissions, asked of API callers: a token carries its user's permissions, no more."""

from rest_framework import exceptions, permissions

VIEW_VARIANTS = "downloads.view_modelvariant"
VIEW_JOBS = "downloads.view_downloadjob"
ADD_VARIANTS = "downloads.add_modelvariant"
DOWNLOAD = "downloads.download_modelvariant"
DELETE_FILES = "downloads.delete_files_modelvariant"
VIEW_SETTINGS = "settings_app.view_setting"
CHANGE_SETTINGS = "settings_app.change_setting"
CONFIRM_TOKEN_ENDPOINT = "settings_app.confirm_token_endpoint"

WHAT = {  # the permission as the admin's user page names it, for the 403 message
    VIEW_VARIANTS: "Can view model variant",
    VIEW_JOBS: "Can view download job",
    ADD_VARIANTS: "Can add model variant",
    DOWNLOAD: "Can start, cancel and retry downloads",
    DELETE_FILES: "Can delete downloaded files from disk",
    VIEW_SETTINGS: "Can view Settings",
    CHANGE_SETTINGS: "Can change Settings",
    CONFIRM_TOKEN_ENDPOINT: "Can send the saved HF token to a new Hub endpoint",
}


def require(user, *perms: str) -> None:
    """Refuse (403, naming what is missing) unless the user has every permission."""
    missing = [p for p in perms if not user.has_perm(p)]
    if missing:
        names = ", ".join(f"'{WHAT.get(p, p)}' ({p})" for p in missing)
        raise exceptions.PermissionDenied(f"User {user.get_username()} lacks the permission {names}.")


def needs(*perms: str) -> type[permissions.BasePermission]:
    """A DRF permission class: authenticated (else 401), then `perms` (else 403)."""

    class Needs(permissions.IsAuthenticated):
        def has_permission(self, request, view) -> bool:
            if not super().has_permission(request, view):
                return False
            require(request.user, *perms)
            return True

    Needs.__name__ = "Needs_" + "_".join(p.split(".")[-1] for p in perms)
    return Needs
