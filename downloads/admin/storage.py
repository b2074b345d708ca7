"""The admin's Storage page and its confirmations: thin views over the storage services.

Mounted under /admin/storage/ (see downloads.admin.storage_urls) and wrapped with `admin.site.admin_view`,
so anonymous and non-staff users go to the admin login; each view then checks its own permission and
answers 403 without it. Deleting needs `delete_files_modelvariant`, importing `add_modelvariant`
(moving also deletes, so it needs both).
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from downloads import services
from downloads.models import ModelVariant
from downloads.storage import delete, discovery, health
from downloads.storage.cleanup import DEFAULT_OLDER_THAN_HOURS, clean_older_than, cleanup_storage
from downloads.storage.imports import MODES
from downloads.storage.overview import storage_dir, storage_overview
from downloads.storage.previous import previous_folders
from engine.selection import is_db_id
from modelhub.sizes import format_size

VIEW_PERM = "downloads.view_modelvariant"
ADD_PERM = "downloads.add_modelvariant"
DELETE_FILES_PERM = "downloads.delete_files_modelvariant"


def _require(request, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, "opts": ModelVariant._meta, **extra}


def _extra_paths(data) -> list[str]:
    """Folders typed into the scan form: one per line, or repeated `path` fields."""
    lines = [line.strip() for line in data.get("paths", "").splitlines()]
    return list(dict.fromkeys(p for p in lines + data.getlist("path") if p and p.strip()))


@require_http_methods(["GET"])
def storage_index(request):
    _require(request, VIEW_PERM)
    can_import = request.user.has_perm(ADD_PERM)
    # Typed folders are read from the server's disk: only for those who may import from them.
    paths = _extra_paths(request.GET) if can_import else []
    # A typed folder that is missing or no Hugging Face cache is said so by name, and not scanned.
    typed_problems = [problem for p in paths if (problem := discovery.typed_folder_problem(p))]
    scanned = [p for p in paths if not discovery.typed_folder_problem(p)]
    # Earlier storage folders stay listed until they are empty: their models are still installed.
    earlier = previous_folders(storage_dir())
    overview = storage_overview(earlier + discovery.default_cache_dirs() + scanned)
    found = discovery.snapshots_in(overview.scans)
    # Elsewhere, a blob a snapshot links to is already counted in that snapshot's row: list only orphans.
    unclaimed_blobs = [b for b in overview.unclaimed_blobs
                       if b.location == overview.storage_dir or not b.linked]
    return render(request, "admin/storage/index.html", _context(
        request, "Storage", overview=overview, found=found, extra_paths=paths, typed_problems=typed_problems,
        unclaimed_blobs=unclaimed_blobs,
        importable=[f for f in found if f.registered is None and not f.problems],
        previous={str(p) for p in earlier},
        health=health.rows(health.check(storage=overview.storage_dir)),
        older_than=DEFAULT_OLDER_THAN_HOURS, modes=MODES,
        can_import=can_import, can_delete=request.user.has_perm(DELETE_FILES_PERM)))


@require_POST
def storage_import(request):
    mode = request.POST.get("mode", "register")
    _require(request, ADD_PERM, *([DELETE_FILES_PERM] if mode == "move" else []))
    keys = request.POST.getlist("snapshot")
    if mode not in MODES or not keys:
        messages.error(request, "Select at least one snapshot and a valid import mode.")
        return HttpResponseRedirect(reverse("modelhub-storage"))
    try:
        services.enqueue_import(keys, mode, by=request.user, locations=_extra_paths(request.POST))
    except Exception as exc:
        # whatever the broker raises (Redis down, database error): say so, import nothing
        messages.error(request, f"The task queue is unavailable ({type(exc).__name__}), so nothing was "
                                "imported; try again, or run: python manage.py scan_cache --import")
        return HttpResponseRedirect(reverse("modelhub-storage"))
    messages.success(request, f"Importing {len(keys)} snapshot(s) ({mode}) in the background: each gets a "
                              "verify job, listed with the other jobs, and its variant is marked installed "
                              "or corrupt.")
    return HttpResponseRedirect(reverse("modelhub-storage"))


@require_http_methods(["GET", "POST"])
def delete_files(request):
    """GET ?ids=1,2: what would be deleted and freed. POST (same ids): delete."""
    _require(request, DELETE_FILES_PERM)
    raw = request.POST.get("ids") if request.method == "POST" else request.GET.get("ids")
    ids = [i.strip() for i in (raw or "").split(",") if i.strip()]
    # The variant list builds this link; anything else (garbage, or an id no row can have, which the
    # database would answer with an overflow) is a bad request, not a server error.
    if not all(i.isascii() and i.isdigit() and is_db_id(int(i)) for i in ids):
        return HttpResponseBadRequest("ids must be comma-separated variant ids")
    variants = list(ModelVariant.objects.filter(pk__in=[int(i) for i in ids]))
    if not variants:
        messages.error(request, "No variant selected: choose variants in the list, then "
                                "'Delete files from disk'.")
        return HttpResponseRedirect(_variant_list_url())
    back = _next_url(request)
    if request.method == "POST":
        done = [delete.delete_variant_files(v, by=request.user) for v in variants]
        freed = sum(p.bytes_freed for p in done if not p.refused)
        deleted = [p for p in done if not p.refused]
        for plan in deleted:  # shows in the variant's admin History
            LogEntry.objects.log_actions(request.user.pk, [plan.variant], CHANGE, single_object=True,
                                         change_message="Deleted files from disk "
                                                        f"({format_size(plan.bytes_freed)} freed)")
        if deleted:
            messages.success(request, f"Deleted the files of {len(deleted)} variant(s); "
                                      f"{format_size(freed)} freed.")
        for plan in done:
            if plan.refused:
                messages.error(request, f"{plan.variant}: not deleted, {plan.refused}")
            for error in plan.errors:
                messages.warning(request, f"{plan.variant}: {error}")
        return HttpResponseRedirect(back or _variant_list_url())
    plan = delete.plan_delete(variants)
    return render(request, "admin/storage/delete_confirm.html", _context(
        request, "Delete files from disk", plan=plan, ids=",".join(str(v.pk) for v in variants),
        next=back, back_url=back or reverse("modelhub-storage")))


def _next_url(request) -> str:
    """The page that sent the person here (the variant page's "Delete files…"), if it is this site's."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


@require_POST
def cleanup(request):
    """First POST: a dry run to confirm. Second POST (`confirm`): remove exactly what was shown, if still
    stale."""
    _require(request, DELETE_FILES_PERM)
    try:
        hours = clean_older_than(request.POST.get("older_than") or DEFAULT_OLDER_THAN_HOURS)
    except ValueError:
        messages.error(request, "'Older than' must be a number of hours, 0 or more.")
        return HttpResponseRedirect(reverse("modelhub-storage"))
    confirm = "confirm" in request.POST
    only = set(request.POST.getlist("item")) if confirm else None
    report = cleanup_storage(older_than_hours=hours, dry_run=not confirm, only=only)
    # Empty lock files are many and free nothing: listed behind a toggle, removed all the same.
    locks = [i for i in report.removed if i.kind == "stale_lock" and not i.size]
    return render(request, "admin/storage/cleanup.html", _context(
        request, "Clean up storage", report=report, done=confirm, locks=locks,
        files=[i for i in report.removed if i not in locks]))


def _variant_list_url() -> str:
    try:
        return reverse("admin:downloads_modelvariant_changelist")
    except NoReverseMatch:  # the variant admin is not registered: come back to the Storage page
        return reverse("modelhub-storage")
