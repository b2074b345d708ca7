"""Add from Hub: look a repo up, show what it offers, turn the ticked choices into variants.

GET with a repo id shows the overview (safe to reload or bookmark); POST creates. The POST looks the
repo up again and recomputes the choices, so only choices the server computed can be created.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from downloads import services
from downloads.admin import actions
from downloads.admin.display import human_size, linkify
from downloads.admin.forms import CreateChoicesForm, RepoLookupForm
from downloads.guidance import guidance_for, repo_url
from engine import catalog
from engine.errors import ErrorCode, HubError
from engine.selection import InvalidInput
from settings_app.hub_client import client_from_settings
from settings_app.models import Setting
from settings_app.tokens import resolve_token

FILE_LIST_LIMIT = 5000  # the raw list is collapsed; beyond this it is cut (the choices still see every file)
TEMPLATE = "admin/downloads/modelvariant/add_from_hub.html"


def add_from_hub(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    can_download = request.user.has_perm(actions.PERMISSION)
    data = request.POST if request.method == "POST" else (request.GET if "repo_id" in request.GET else None)
    lookup = RepoLookupForm(data)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Add from Hub",
        "lookup": lookup,
        "can_download": can_download,
    }
    if data is None or not lookup.is_valid():
        return TemplateResponse(request, TEMPLATE, context)

    repo_id, repo_type, revision = (lookup.cleaned_data[k] for k in ("repo_id", "repo_type", "revision"))
    setting = Setting.load()
    try:
        overview = client_from_settings(setting).overview(repo_id, repo_type, revision)
    except HubError as exc:
        field = {ErrorCode.REPO_NOT_FOUND: "repo_id", ErrorCode.REVISION_NOT_FOUND: "revision"}.get(exc.code)
        lookup.add_error(field, f"{exc.code}: {exc.message}")
        context["lookup_guidance"] = _guidance(request, exc)
        return TemplateResponse(request, TEMPLATE, context)

    if overview.access_error is None:
        choices = catalog.build_choices(overview.files)
    else:  # the tree is hidden: only "everything" can be described, to download once access is granted
        choices = [catalog.Choice("all", "all files", "the whole repository (its file list is not visible "
                                  "with the current token)", (), (), (), 0)]
    create = CreateChoicesForm(request.POST if request.method == "POST" else None,
                               choice_keys=[c.key for c in choices], can_download=can_download)
    if request.method == "POST" and create.is_valid():
        picked = [catalog.by_key(choices)[key] for key in create.cleaned_data["choices"]]
        try:
            return _create(model_admin, request, overview, picked, create.cleaned_data)
        except InvalidInput as exc:
            create.add_error(None, str(exc))

    files = sorted(overview.files, key=lambda f: f.path)
    context.update({
        "overview": overview,
        "repo_page": repo_url(setting.effective_hub_endpoint, overview.repo_id, overview.repo_type),
        "token": resolve_token(setting).describe(),
        "access_guidance": _guidance(request, overview.access_error) if overview.access_error else "",
        "choices": [{"choice": c, "size": human_size(c.size),
                     "checked": c.key in (create.data.getlist("choices") if create.is_bound else [])}
                    for c in choices],
        "create": create,
        "total_size": human_size(sum(f.size for f in files)),
        "files": [(f.path, human_size(f.size)) for f in files[:FILE_LIST_LIMIT]],
        "files_cut": max(0, len(files) - FILE_LIST_LIMIT),
    })
    return TemplateResponse(request, TEMPLATE, context)


def _guidance(request, exc: HubError):
    # An absolute Settings URL, so the linkified guidance makes it a link like the Hub's.
    settings_url = request.build_absolute_uri(reverse("admin:settings_app_setting_changelist"))
    return linkify(guidance_for(exc.code, **{**exc.context, "settings_url": settings_url}))


def _create(model_admin, request, overview, picked: list[catalog.Choice], data: dict):
    created, existing = [], []
    for choice in picked:
        variant, is_new = services.get_or_create_variant(
            repo_id=overview.repo_id, repo_type=overview.repo_type, revision=overview.revision,
            include=list(choice.include), exclude=list(choice.exclude), name=choice.name, kind=data["kind"])
        if is_new:
            model_admin.log_addition(request, variant, f"Added from Hub: {choice.description}")
            created.append(variant)
        else:
            existing.append(variant)
    if created:
        model_admin.message_user(request,
                                 format_html("Created {} variant(s): {}.", len(created), _links(created)),
                                 messages.SUCCESS)
    if existing:
        model_admin.message_user(request,
                                 format_html("{} already existed: {}.", len(existing), _links(existing)),
                                 messages.INFO)
    if data.get("download_now"):
        actions.download(model_admin, request, created + existing).send(model_admin, request)
    url = reverse("admin:downloads_modelvariant_changelist") + "?" + urlencode({"q": overview.repo_id})
    return redirect(url)


def _links(variants):
    return format_html_join(", ", '<a href="{}">{}</a>', (
        (reverse("admin:downloads_modelvariant_change", args=[v.pk]), str(v)) for v in variants))
