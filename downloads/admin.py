"""The admin as the control room: variants (what to have) and jobs (each attempt), with live progress.

Actions are thin: they call downloads.admin_actions, which calls the services, logs and reports.
Custom views (progress JSON, buttons, Add from Hub) live in admin_views / admin_hub.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, F, Prefetch, Value, When
from django.forms.widgets import Script
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from downloads import admin_actions, admin_hub, admin_views, updates
from downloads.admin_display import (
    human_size,
    live_eta,
    live_speed,
    progress_bar,
    state_badge,
    status_badge,
)
from downloads.forms import ModelVariantForm
from downloads.models import ACTIVE_STATES, DownloadJob, ModelVariant

ACTIVE = [s.value for s in ACTIVE_STATES]
RECENT_JOBS = 20


class LiveProgressMixin:
    """Shared by both admins: who may start downloads, and the progress script + styles."""

    def has_download_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(admin_actions.PERMISSION)

    @property
    def media(self):
        # defer: the script reads the page after parsing; the URL travels on the script tag.
        live = forms.Media(
            css={"all": ["downloads/admin.css"]},
            js=[Script("downloads/progress.js", defer=True,
                       **{"data-progress-url": reverse("admin:downloads_downloadjob_progress")})],
        )
        return super().media + live


@admin.register(ModelVariant)
class ModelVariantAdmin(LiveProgressMixin, admin.ModelAdmin):
    form = ModelVariantForm
    list_display = ("repo_id", "name", "revision", "kind", "status_display", "size_display", "progress_display",
                    "last_verified_at", "update_available_display")
    list_display_links = ("repo_id", "name")
    list_filter = ("status", "repo_type", "kind")
    search_fields = ("repo_id", "name")
    actions = ["download_selected", "cancel_selected", "retry_selected", "verify_selected", "verify_full_selected",
               "repair_selected", "check_updates_selected", "delete_files_selected"]
    readonly_fields = ("status_display", "commit", "upstream_display", "size_display", "local_path",
                       "last_verified_at", "problem", "manifest_display", "jobs_display")

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            ("What to download", {"fields": ["repo_id", "repo_type", "revision", "name", "kind"]}),
            ("Which files", {"fields": ["include", "exclude"],
                             "description": "Glob patterns on full repo paths, one per line. A GGUF quant is "
                                            "usually one exact file name; Add from Hub computes these for you."}),
        ]
        if obj is not None:
            fieldsets += [
                ("On disk", {"fields": ["status_display", "commit", "upstream_display", "size_display", "local_path",
                                        "last_verified_at", "problem", "manifest_display"]}),
                ("Jobs", {"fields": ["jobs_display"]}),
            ]
        return fieldsets

    def get_queryset(self, request):
        # One query for all rows' active jobs, so the progress column costs the same for 5 or 500 rows.
        active = DownloadJob.objects.filter(state__in=ACTIVE).order_by("created_at")
        return super().get_queryset(request).prefetch_related(Prefetch("jobs", queryset=active, to_attr="active_jobs"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("add-from-hub/", view(self.add_from_hub_view), name="downloads_modelvariant_add_from_hub"),
            path("<int:pk>/download/", view(self.button_view), {"action": "download"},
                 name="downloads_modelvariant_download"),
            path("<int:pk>/verify/", view(self.button_view), {"action": "verify"},
                 name="downloads_modelvariant_verify"),
            path("<int:pk>/cancel/", view(self.button_view), {"action": "cancel"},
                 name="downloads_modelvariant_cancel"),
        ] + super().get_urls()

    def add_from_hub_view(self, request):
        return admin_hub.add_from_hub(self, request)

    def button_view(self, request, pk, action):
        return admin_views.variant_button(request, self, pk, action)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_download": self.has_download_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    # --- columns
    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj)

    @admin.display(description="Size", ordering="size_bytes")
    def size_display(self, obj):
        return human_size(obj.size_bytes)

    @admin.display(description="Progress")
    def progress_display(self, obj):
        jobs = getattr(obj, "active_jobs", None)
        return progress_bar(jobs[0] if jobs else None, variant_id=obj.pk)

    @admin.display(description="Update", boolean=True)
    def update_available_display(self, obj):
        return obj.update_available

    @admin.display(description="Upstream")
    def upstream_display(self, obj):
        error = format_html(" — last check failed: {}", obj.upstream_error) if obj.upstream_error else ""
        if not obj.upstream_commit:
            return format_html("not checked yet{}", error)
        state = "update available" if obj.update_available else "up to date"
        return format_html("{} ({}, checked {}){}", state, obj.upstream_commit[:12], obj.upstream_checked_at, error)

    @admin.display(description="Installed files")
    def manifest_display(self, obj):
        files = (obj.manifest or {}).get("files") or {}
        if not files:
            return "nothing installed"
        rows = format_html_join("", "<li><code>{}</code> ({})</li>",
                                ((p, human_size(r.get("size"))) for p, r in sorted(files.items())[:50]))
        more = format_html("<li>… and {} more</li>", len(files) - 50) if len(files) > 50 else ""
        return format_html("{} file(s), {} at commit <code>{}</code><ul class=\"mh-files\">{}{}</ul>",
                           len(files), human_size(sum(r.get("size", 0) for r in files.values())),
                           (obj.manifest.get("commit") or "")[:12], rows, more)

    @admin.display(description="Recent jobs")
    def jobs_display(self, obj):
        jobs = list(obj.jobs.select_related("requested_by").order_by("-created_at", "-id")[:RECENT_JOBS])
        if not jobs:
            return "no job yet"
        rows = format_html_join("", "<tr><td><a href=\"{}\">Job {}</a></td><td>{}</td><td>{}</td><td>{}</td>"
                                    "<td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((reverse("admin:downloads_downloadjob_change", args=[j.pk]), j.pk, j.get_kind_display(),
                                  state_badge(j), progress_bar(j, sizes=False, rate=False), j.error_code or "",
                                  j.requested_by or j.origin, localtime(j.created_at).strftime("%Y-%m-%d %H:%M:%S"))
                                 for j in jobs))
        all_url = reverse("admin:downloads_downloadjob_changelist") + f"?variant__id__exact={obj.pk}"
        return format_html('<table class="mh-jobs"><thead><tr><th>Job</th><th>Kind</th><th>State</th><th>Progress</th>'
                           "<th>Error</th><th>By</th><th>Created</th></tr></thead><tbody>{}</tbody></table>"
                           '<p><a href="{}">All jobs of this variant</a></p>', rows, all_url)

    # --- actions (permission "download" hides them; admin_actions also refuses them server-side)
    @admin.action(description="Download selected", permissions=["download"])
    def download_selected(self, request, queryset):
        admin_actions.download(self, request, queryset).send(self, request)

    @admin.action(description="Cancel active job of selected", permissions=["download"])
    def cancel_selected(self, request, queryset):
        admin_actions.cancel_variants(self, request, queryset).send(self, request)

    @admin.action(description="Retry selected (last finished job)", permissions=["download"])
    def retry_selected(self, request, queryset):
        admin_actions.retry_variants(self, request, queryset).send(self, request)

    @admin.action(description="Verify selected (fast)", permissions=["download"])
    def verify_selected(self, request, queryset):
        admin_actions.verify(self, request, queryset).send(self, request)

    @admin.action(description="Verify selected (full re-hash)", permissions=["download"])
    def verify_full_selected(self, request, queryset):
        admin_actions.verify(self, request, queryset, full=True).send(self, request)

    @admin.action(description="Repair selected (re-download bad files)", permissions=["download"])
    def repair_selected(self, request, queryset):
        admin_actions.repair(self, request, queryset).send(self, request)

    @admin.action(description="Check selected for upstream updates", permissions=["download"])
    def check_updates_selected(self, request, queryset):
        for result in updates.check_updates(list(queryset)):
            if result.error_code:
                self.message_user(request, f"{result.variant}: {result.error_code}: {result.error_message}",
                                  messages.WARNING)
            elif result.skipped:
                self.message_user(request, f"{result.variant}: skipped ({result.skipped})", messages.INFO)
            else:
                word = "update available" if result.update_available else "up to date"
                self.message_user(request, f"{result.variant}: {word}", messages.SUCCESS)

    @admin.action(description="Delete files from disk…", permissions=["delete_files"])
    def delete_files_selected(self, request, queryset):
        # The storage page shows what will be freed and asks for confirmation before deleting.
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('modelhub-storage-delete')}?ids={ids}")

    def has_delete_files_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("downloads.delete_files_modelvariant")


@admin.register(DownloadJob)
class DownloadJobAdmin(LiveProgressMixin, admin.ModelAdmin):
    list_display = ("job_display", "variant_display", "kind", "state_display", "progress_display", "speed_display",
                    "eta_display", "error_code_display", "attempt", "requested_by", "created_at")
    list_filter = ("state", "kind", "error_code")
    list_select_related = ("variant", "requested_by")
    search_fields = ("variant__repo_id", "variant__name")
    actions = ["cancel_selected", "retry_selected"]
    # The queue first, in the order it runs (running, then queued oldest first); then history, newest first.
    ordering = (
        Case(When(state__in=ACTIVE, then=Value(0)), default=Value(1)).asc(),
        Case(When(state__in=ACTIVE, then=F("created_at"))).asc(),
        F("created_at").desc(),
        F("id").desc(),
    )
    fieldsets = [
        ("Job", {"fields": ["variant_display", "kind", "origin", "requested_by", "attempt", "commit", "force",
                            "rate_limit", "only_paths"]}),
        ("Timing", {"fields": ["created_at", "dispatched_at", "started_at", "finished_at", "heartbeat_at", "worker",
                               "task_id"]}),
        ("Transfer", {"fields": ["files_done", "files_total", "bytes_done", "bytes_total", "bytes_transferred",
                                 "bytes_resumed"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # jobs change only through actions and buttons, which call the services

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("progress/", view(self.progress_view), name="downloads_downloadjob_progress"),
            path("<int:pk>/cancel/", view(self.button_view), {"action": "cancel"}, name="downloads_downloadjob_cancel"),
            path("<int:pk>/retry/", view(self.button_view), {"action": "retry"}, name="downloads_downloadjob_retry"),
        ] + super().get_urls()

    def progress_view(self, request):
        return admin_views.progress(request, self)

    def button_view(self, request, pk, action):
        return admin_views.job_button(request, self, pk, action)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url,
                                   extra_context={**admin_views.job_page_context(self, request, object_id),
                                                  **(extra_context or {})})

    # --- columns
    @admin.display(description="Job", ordering="id")
    def job_display(self, obj):
        return f"Job {obj.pk}"

    @admin.display(description="Variant", ordering="variant__repo_id")
    def variant_display(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:downloads_modelvariant_change", args=[obj.variant_id]),
                           obj.variant)

    @admin.display(description="State", ordering="state")
    def state_display(self, obj):
        return state_badge(obj)

    @admin.display(description="Progress")
    def progress_display(self, obj):
        return progress_bar(obj, rate=False)

    @admin.display(description="Speed", ordering="speed_bps")
    def speed_display(self, obj):
        return live_speed(obj)

    @admin.display(description="ETA")
    def eta_display(self, obj):
        return live_eta(obj)

    @admin.display(description="Error code", ordering="error_code")
    def error_code_display(self, obj):
        # The raw code, as the guidance box, `download --json` and the docs name it.
        return format_html("<code>{}</code>", obj.error_code) if obj.error_code else ""

    # --- actions
    @admin.action(description="Cancel selected jobs", permissions=["download"])
    def cancel_selected(self, request, queryset):
        admin_actions.cancel_jobs(self, request, queryset).send(self, request)

    @admin.action(description="Retry selected jobs", permissions=["download"])
    def retry_selected(self, request, queryset):
        admin_actions.retry_jobs(self, request, queryset).send(self, request)
