"""Changing the storage folder on the Settings page: what the current folder holds, the Move / Copy /
Keep choice that must be made before saving, and the live preview of where a typed folder lands.

The moving itself is downloads.storage.relocate's; this module is the page's side of it.
"""

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from downloads import services
from downloads.storage import relocate
from modelhub.sizes import format_size
from settings_app.validators import absolute_storage_path, check_storage_dir

CHOICES = [
    ("move", "Move them to the new folder (on the same disk this takes no extra space)"),
    ("copy", "Copy them to the new folder (the current folder keeps its files)"),
    ("keep", "Keep them where they are (they stay installed and listed on the Storage page)"),
]
NAMES_SHOWN = 5


HELP = ("Only used when the storage folder changes. Moving and copying run in the background; each model is "
        "verified in its new place before it is used there.")


def choice_field() -> forms.ChoiceField:
    return forms.ChoiceField(choices=CHOICES, required=False, widget=forms.RadioSelect,
                             label="Models in the current folder", help_text=HELP)


def prepare(form) -> None:
    """In SettingForm.__init__: the folder in effect before this submit, and what it holds (one walk)."""
    form.storage_before = form.instance.effective_storage_dir
    form.storage_contents = relocate.contents(form.storage_before)
    if "old_storage" in form.fields:
        form.fields["old_storage"].help_text = f"{summary(form.storage_contents)} {HELP}"


def summary(found: relocate.FolderContents) -> str:
    """ "3 installed models (1.2 GB): org/a [Q4_K_M], …" — what a person needs to decide."""
    if found.empty:
        return f"{found.path} holds no models."
    names = ", ".join(str(v) for v in found.variants[:NAMES_SHOWN])
    more = f" and {len(found.variants) - NAMES_SHOWN} more" if len(found.variants) > NAMES_SHOWN else ""
    models = (f"{len(found.variants)} installed model(s): {names}{more}" if found.variants
              else "no installed model")
    return f"{found.path} holds {models}; {format_size(found.bytes)} on disk in {found.repos} repo folder(s)."


def new_folder(value: str) -> Path:
    """The folder a saved value means: blank is MODELHUB_STORAGE_DIR, relative is from the project."""
    return absolute_storage_path(value or str(settings.MODELHUB_STORAGE_DIR))


def check(form, cleaned: dict) -> None:
    """In SettingForm.clean: a change of folder needs a decision about what the current one holds."""
    form.storage_change = None
    if "storage_dir" not in cleaned:  # refused by its own check already
        return
    old, new = form.storage_before, new_folder(cleaned["storage_dir"])
    if relocate.same_folder(old, new):
        return
    found = form.storage_contents
    if found.empty:
        return
    choice = cleaned.get("old_storage")
    if not choice:
        form.add_error("old_storage", f"The storage folder changes to {new}. {summary(found)} "
                                      "Choose whether to move, copy or keep them.")
        return
    form.storage_change = (old, new, choice, found)


def apply(model_admin, request, form) -> None:
    """After saving: remember the old folder (listed until empty) and start the move or copy."""
    change = getattr(form, "storage_change", None)
    if change is None:
        return
    old, new, choice, found = change
    relocate.remember(old)
    what = f"{len(found.variants)} model(s) ({format_size(found.bytes)})"
    if choice == "keep":
        model_admin.log_change(request, form.instance, f"Storage folder changed from {old} to {new}; "
                                                       f"kept {what} in the old folder.")
        model_admin.message_user(request, f"New downloads go to {new}. The {what} in {old} stay installed "
                                          "there; the Storage page lists that folder until it is empty.",
                                 messages.INFO)
        return
    try:
        services.enqueue_relocation(str(old), str(new), choice, by=request.user)
    except Exception as exc:  # whatever the broker raises: say so; nothing moved, nothing is lost
        model_admin.message_user(request, f"The task queue is unavailable ({type(exc).__name__}): the {what} "
                                          f"stay in {old}, still installed. Listed on the Storage page.",
                                 messages.ERROR)
        return
    model_admin.log_change(request, form.instance, f"Storage folder changed from {old} to {new}; "
                                                   f"{choice} of {what} started.")
    verb = "Moving" if choice == "move" else "Copying"
    model_admin.message_user(request, f"{verb} {what} from {old} to {new} in the background: each gets a "
                                      "verify job in the job list. Until then they are used where they are; "
                                      "the Storage page lists the old folder until it is empty.",
                             messages.SUCCESS)


@require_GET
def preview(request, model_admin):
    """Where a typed folder lands (absolute), or why it is refused; nothing is created."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    value = request.GET.get("path", "").strip()
    try:
        path = check_storage_dir(value) if value else new_folder("")
    except ValueError as exc:
        return JsonResponse({"ok": False, "problem": str(exc)})
    return JsonResponse({"ok": True, "absolute": str(path), "exists": path.is_dir(),
                         "default": not value})

