"""Add from Hub: search the Hub, look a repo up, show what it offers and what fits, turn the ticked
choices into variants.

GET with a repo id shows the overview (safe to reload or bookmark); GET with `q` searches; POST creates.
The POST looks the repo up again and recomputes the choices, so only choices the server computed can be
created. Beside each choice: whether it fits in the storage's free space and, for GGUF, in the RAM of
the machine that will run it (downloads.admin.hub_fit); above them the card's first lines, license,
tags and the kind inferred, which the kind field starts on.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from downloads import services, variants
from downloads.admin import actions, hub_fit
from downloads.admin.display import human_size, linkify
from downloads.admin.forms import CreateChoicesForm, RamForm, RepoLookupForm, SearchForm
from downloads.guidance import guidance_for, repo_url
from downloads.models import ModelVariant, VariantStatus
from engine import catalog
from engine.errors import ErrorCode, HubError
from engine.selection import InvalidInput
from engine.verify.kinds import infer_kind
from settings_app.hub_client import client_from_settings
from settings_app.models import Setting
from settings_app.tokens import resolve_token

FILE_LIST_LIMIT = 5000  # the raw list is collapsed; beyond this it is cut (the choices still see every file)
TEMPLATE = "admin/downloads/modelvariant/add_from_hub.html"
SEARCH_LIMIT = 20
TAG_LIMIT = 30  # tags shown; the Hub adds dozens (region, endpoints, arxiv ids...)


def add_from_hub(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    can_download = request.user.has_perm(actions.PERMISSION)
    data = request.POST if request.method == "POST" else (request.GET if "repo_id" in request.GET else None)
    setting = Setting.load()
    lookup = RepoLookupForm(data, endpoints=(setting.effective_hub_endpoint,))
    ram_form, ram_gib = _ram(request)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Add from Hub",
        "lookup": lookup,
        "can_download": can_download,
        "ram_form": ram_form,
        **_search(request, setting),
    }
    if data is None or not lookup.is_valid():
        return TemplateResponse(request, TEMPLATE, context)

    repo_id, repo_type, revision = (lookup.cleaned_data[k] for k in ("repo_id", "repo_type", "revision"))
    client = client_from_settings(setting)
    try:
        overview = client.overview(repo_id, repo_type, revision)
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
    preselected = _preselect(lookup, request, choices, overview)
    if preselected is not None and preselected.key not in catalog.by_key(choices):
        choices.append(preselected)  # one file that no grouped choice holds: a choice of its own
    listed = [f.path for f in overview.files]
    facts = overview.facts
    inferred = infer_kind(list(preselected.files) if preselected else listed, listed, facts,
                          overview.repo_type)
    if overview.access_error and not (facts.pipeline_tag or facts.library_name or facts.tags):
        inferred = None  # neither files nor metadata to go by: auto decides once the files can be read
    blocked = (f"the current token cannot read this repository's files ({overview.access_error.code})"
               if overview.access_error else "")
    create = CreateChoicesForm(request.POST if request.method == "POST" else None,
                               choice_keys=[c.key for c in choices], can_download=can_download,
                               download_blocked=blocked, inferred_kind=inferred.kind if inferred else "")
    if request.method == "POST" and create.is_valid():
        picked = [catalog.by_key(choices)[key] for key in create.cleaned_data["choices"]]
        try:
            return _create(model_admin, request, overview, picked, create.cleaned_data)
        except InvalidInput as exc:
            create.add_error(None, str(exc))

    files = sorted(overview.files, key=lambda f: f.path)
    known = _known(overview, choices)
    fit = hub_fit.annotate(choices, overview, setting, ram_gib)
    tags = [t for t in overview.facts.tags if not t.startswith("license:")]  # the license has its own row
    context.update({
        "overview": overview,
        "repo_page": repo_url(setting.effective_hub_endpoint, overview.repo_id, overview.repo_type),
        "token": resolve_token(setting).describe(),
        "access_guidance": _guidance(request, overview.access_error) if overview.access_error else "",
        "inferred": inferred,
        "card": client.card(overview.repo_id, overview.repo_type, overview.commit),
        "tags": tags[:TAG_LIMIT],
        "tags_cut": max(0, len(tags) - TAG_LIMIT),
        "ram_hints": any("ram_need" in row for row in fit.values()),
        "download_blocked": blocked,
        "choices": [{"choice": c, "size": human_size(c.size), **known.get(c.key, {}), **fit[c.key],
                     "checked": c.key in (create.data.getlist("choices") if create.is_bound
                                          else [preselected.key] if preselected else [])}
                    for c in choices],
        "preselected": preselected,
        "ref_file": preselected.files[0] if preselected and preselected.key.startswith("file:") else "",
        "create": create,
        "total_size": human_size(sum(f.size for f in files)),
        "files": [(f.path, human_size(f.size)) for f in files[:FILE_LIST_LIMIT]],
        "files_cut": max(0, len(files) - FILE_LIST_LIMIT),
    })
    return TemplateResponse(request, TEMPLATE, context)


def _ram(request) -> tuple[RamForm, float]:
    """The RAM (GB) the GGUF hints are measured against: typed on the page (and then remembered in the
    session), else remembered, else this machine's."""
    remembered = request.session.get(hub_fit.SESSION_KEY)
    current = remembered if isinstance(remembered, int | float) else hub_fit.machine_ram_gib()
    form = RamForm(request.GET if "ram_gb" in request.GET else None, initial={"ram_gb": current})
    if form.is_bound and form.is_valid():
        current = request.session[hub_fit.SESSION_KEY] = form.cleaned_data["ram_gb"]
    return form, current


def _search(request, setting) -> dict:
    """The search box, and (with `q`) the endpoint's model search: hits, or why it cannot search."""
    form = SearchForm(request.GET if "q" in request.GET else None)
    if not form.is_bound or not form.is_valid() or not form.cleaned_data["q"].strip():
        return {"search_form": form}
    try:
        result = client_from_settings(setting).search_models(form.cleaned_data["q"], SEARCH_LIMIT)
    except HubError as exc:
        return {"search_form": form, "search_error": exc, "search_guidance": _guidance(request, exc)}
    return {"search_form": form, "search": result}


def _preselect(lookup, request, choices, overview) -> catalog.Choice | None:
    """The choice a pasted file link or `:QUANT` names (checked for the person), or None. The create form
    posts a single file back as `ref_file`, so its choice exists again when the POST recomputes them."""
    ref = lookup.reference
    posted = request.POST.get("ref_file") if request.method == "POST" else None
    if posted:
        sizes = {f.path: f.size for f in overview.files}
        return variants.single_file_choice(posted, sizes[posted]) if posted in sizes else None
    if ref is None or overview.access_error is not None:
        return None
    try:
        return variants.choice_for_reference(ref, choices, overview.files)
    except InvalidInput as exc:
        lookup.add_error("repo_id", str(exc))
        return None


def _known(overview, choices) -> dict[str, dict]:
    """Per choice: the variant it already is (same files at this revision, whatever its globs), or the
    installed variants that already hold all of its files, so nothing is offered as new twice."""
    siblings = [(v, variants.selected_paths(overview.files, v.include, v.exclude))
                for v in ModelVariant.objects.filter(repo_id=overview.repo_id, repo_type=overview.repo_type,
                                                     revision=overview.revision)]
    installed = [(v, paths) for v, paths in siblings if v.status == VariantStatus.INSTALLED]
    found = {}
    for choice in choices:
        wanted = frozenset(choice.files)
        same = next((v for v, paths in siblings if paths and paths == wanted), None)
        if same is not None:
            found[choice.key] = {"existing": same}
            continue
        holders = [v for v, paths in installed if paths & wanted]
        if wanted and holders and wanted <= frozenset().union(*(paths for _, paths in installed)):
            found[choice.key] = {"covered_by": holders}
    return found


def _guidance(request, exc: HubError):
    # An absolute Settings URL, so the linkified guidance makes it a link like the Hub's.
    settings_url = request.build_absolute_uri(reverse("admin:settings_app_setting_changelist"))
    return linkify(guidance_for(exc.code, **{**exc.context, "settings_url": settings_url}))


def _create(model_admin, request, overview, picked: list[catalog.Choice], data: dict):
    created, existing = [], []
    for choice in picked:
        variant, is_new = services.get_or_create_variant(
            repo_id=overview.repo_id, repo_type=overview.repo_type, revision=overview.revision,
            include=list(choice.include), exclude=list(choice.exclude), name=choice.name, kind=data["kind"],
            files=overview.files)
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
