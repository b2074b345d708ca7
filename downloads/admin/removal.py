"""Remove variants: one confirmation page for the list action, the variant page's Delete link and
Django's own delete URL. It shows what goes (the rows, their job history) and, for those allowed to
delete files, what deleting the files frees, with the files other variants share kept.

Jobs are read-only in their admin, so Django's stock delete page refused even a superuser ("no
permission to delete download job"): a job is the variant's history and goes with it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from downloads import variants as variant_rows
from downloads.admin.storage import DELETE_FILES_PERM
from downloads.models import ModelVariant
from downloads.storage.delete import plan_delete
from engine.selection import is_db_id
from modelhub.sizes import format_size

TEMPLATE = "admin/downloads/modelvariant/remove_confirm.html"


def remove_url(ids) -> str:
    return reverse("admin:downloads_modelvariant_remove") + "?" + urlencode({"ids": ",".join(map(str, ids))})


def _ids(raw: str | None) -> list[int] | None:
    parts = [p.strip() for p in (raw or "").split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and is_db_id(int(p)) for p in parts):
        return None
    return [int(p) for p in parts]


def remove_view(model_admin, request):
    if not model_admin.has_delete_permission(request):
        raise PermissionDenied
    ids = _ids(request.POST.get("ids") if request.method == "POST" else request.GET.get("ids"))
    if ids is None:
        return HttpResponseBadRequest("ids must be comma-separated variant ids")
    chosen = list(ModelVariant.objects.filter(pk__in=ids).order_by("repo_id", "revision", "name"))
    changelist = reverse("admin:downloads_modelvariant_changelist")
    if not chosen:
        messages.error(request, "No variant selected: tick variants in the list, then 'Remove selected'.")
        return HttpResponseRedirect(changelist)
    may_delete_files = request.user.has_perm(DELETE_FILES_PERM)
    if request.method == "POST":
        delete_files = request.POST.get("delete_files") == "on"
        if delete_files and not may_delete_files:
            raise PermissionDenied("You may remove variants but not delete files from disk.")
        return _remove(model_admin, request, chosen, delete_files, changelist)

    plan = plan_delete(chosen)
    rows = [{"variant": v, "jobs": v.jobs.count(), "refused": variant_rows.removal_refused(v),
             "files": p} for v, p in zip(chosen, plan.variants, strict=True)]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": ModelVariant._meta,
        "title": f"Remove {len(chosen)} variant(s)" if len(chosen) > 1 else f"Remove {chosen[0]}",
        "rows": rows,
        "removable": [r for r in rows if not r["refused"]],
        "ids": ",".join(str(v.pk) for v in chosen),
        "plan": plan,
        "has_files": any(v.installed_files for v in chosen),
        "may_delete_files": may_delete_files,
        "back_url": _back_url(request, changelist),
    }
    return TemplateResponse(request, TEMPLATE, context)


def _back_url(request, default: str) -> str:
    """Where "No, take me back" goes: the page the person came from, when it is one of this site's."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        return referer
    return default


def _remove(model_admin, request, chosen, delete_files: bool, changelist: str):
    # Logged first: the log entry must name the row while it still exists.
    removable = [v for v in chosen if not variant_rows.removal_refused(v)]
    if removable:
        model_admin.log_deletions(request, ModelVariant.objects.filter(pk__in=[v.pk for v in removable]))
    done = variant_rows.remove_variants(chosen, delete_files=delete_files, by=request.user)
    removed = [r for r in done if not r.refused]
    if removed:
        text = (f"Removed {len(removed)} variant(s) and {sum(r.jobs for r in removed)} job(s) of history: "
                f"{', '.join(r.label for r in removed)}.")
        if delete_files:
            text += f" Deleted their files: {format_size(sum(r.bytes_freed for r in removed))} freed."
        else:
            text += " Their files stay on disk (Storage lists them as unclaimed)."
        messages.success(request, text)
    for outcome in done:
        if outcome.refused:
            messages.error(request, f"{outcome.label}: not removed, {outcome.refused}.")
        files = outcome.files
        if files is not None and files.refused:
            messages.warning(request, f"{outcome.label}: files kept, {files.refused}.")
        for error in files.errors if files is not None else []:
            messages.warning(request, f"{outcome.label}: {error}")
    return HttpResponseRedirect(changelist)
