"""Model variants: what to have. List with live progress, the variant page, actions and buttons."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from downloads import updates
from downloads.admin import actions, add_from_hub, removal, views
from downloads.admin.display import (
    human_size,
    progress_bar,
    state_badge,
    status_badge,
    variant_cell,
    variant_status_cell,
)
from downloads.admin.forms import ModelVariantForm
from downloads.admin.list_cells import ago, kind_line, list_totals, size_cell
from downloads.admin.live import LiveProgressMixin
from downloads.models import ACTIVE_STATES, DownloadJob, ModelVariant

ACTIVE = [s.value for s in ACTIVE_STATES]
RECENT_JOBS = 20


@admin.register(ModelVariant)
class ModelVariantAdmin(LiveProgressMixin, admin.ModelAdmin):
    form = ModelVariantForm
    # Four columns: the variant (name over repo, revision, type and kind), then what people watch. At
    # 1280 px beside the sidebar and the filters status and progress stay on screen; on a phone the
    # stylesheet turns each row into a card.
    list_display = ("variant_display", "status_cell_display", "progress_display", "size_display")
    list_display_links = ("variant_display",)
    list_filter = ("status", "repo_type", "kind")
    search_fields = ("repo_id", "name")
    actions = ["download_selected", "cancel_selected", "retry_selected", "verify_selected",
               "verify_full_selected", "repair_selected", "check_updates_selected", "delete_files_selected",
               "remove_selected"]
    readonly_fields = ("status_display", "commit", "upstream_display", "size_display", "local_path",
                       "verified_display", "problem", "manifest_display", "jobs_display")

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            ("What to download", {"fields": ["repo_id", "repo_type", "revision", "name", "kind"]}),
            ("Which files", {"fields": ["include", "exclude"],
                             "description": "Glob patterns on full repo paths, one per line. A GGUF quant is "
                                            "usually one exact file name; Add from Hub computes these "
                                            "for you."}),
        ]
        if obj is not None:
            fieldsets += [
                ("On disk", {"fields": ["status_display", "commit", "upstream_display", "size_display",
                                        "local_path", "verified_display", "problem", "manifest_display"]}),
                ("Jobs", {"fields": ["jobs_display"]}),
            ]
        return fieldsets

    def get_queryset(self, request):
        # One query for all rows' active jobs, so the progress column costs the same for 5 or 500 rows.
        active = DownloadJob.objects.active().order_by("created_at")
        return super().get_queryset(request).prefetch_related(Prefetch("jobs", queryset=active,
                                                                       to_attr="active_jobs"))

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
            path("<int:pk>/pause/", view(self.button_view), {"action": "pause"},
                 name="downloads_modelvariant_pause"),
            path("<int:pk>/resume/", view(self.button_view), {"action": "resume"},
                 name="downloads_modelvariant_resume"),
            path("remove/", view(self.remove_view), name="downloads_modelvariant_remove"),
        ] + super().get_urls()

    def remove_view(self, request):
        return removal.remove_view(self, request)

    def delete_view(self, request, object_id, extra_context=None):
        # Django's page would refuse (jobs are read-only) and would not offer the files: ours does both.
        return HttpResponseRedirect(removal.remove_url([object_id]))

    def get_actions(self, request):
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # replaced by remove_selected, which knows jobs and files
        return found

    def add_from_hub_view(self, request):
        return add_from_hub.add_from_hub(self, request)

    def button_view(self, request, pk, action):
        return views.variant_button(request, self, pk, action)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_download": self.has_download_permission(request),
                 "can_delete_files": self.has_delete_files_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Which job the Resume and Pause buttons would act on (none: no button).
        if obj is not None and context.get("can_download"):
            context.update(resume_job=actions.paused_job(obj), pause_job=actions.pausable_job(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- columns
    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["downloads/lists.css"]})

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")  # absent when the view redirected
        if cl is not None:
            from settings_app.models import Setting

            response.context_data["mh_list_totals"] = list_totals(cl.queryset,
                                                                  Setting.load().effective_storage_dir)
        return response

    @admin.display(description="Variant", ordering="repo_id")
    def variant_display(self, obj):
        return format_html("{}{}", variant_cell(obj), kind_line(obj))

    @admin.display(description="Status", ordering="status")
    def status_cell_display(self, obj):
        return variant_status_cell(obj)

    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):  # the variant page: upstream and verification have rows of their own
        return status_badge(obj)

    @admin.display(description="Size", ordering="size_bytes")
    def size_display(self, obj):
        jobs = getattr(obj, "active_jobs", None)  # prefetched on the list; the variant page asks
        if jobs is None:
            jobs = list(obj.jobs.active().order_by("created_at")[:1])
        return size_cell(obj, jobs[0] if jobs else None)

    @admin.display(description="Progress")
    def progress_display(self, obj):
        jobs = getattr(obj, "active_jobs", None)
        return progress_bar(jobs[0] if jobs else None, variant_id=obj.pk)

    @admin.display(description="Last verified")
    def verified_display(self, obj):
        return ago(obj.last_verified_at) if obj.last_verified_at else "not yet"

    @admin.display(description="Upstream")
    def upstream_display(self, obj):
        error = format_html(" — last check failed: {}", obj.upstream_error) if obj.upstream_error else ""
        if not obj.upstream_commit:
            return format_html("not checked yet{}", error)
        state = "update available" if obj.update_available else "up to date"
        return format_html("{} ({}, checked {}){}", state, obj.upstream_commit[:12],
                           ago(obj.upstream_checked_at), error)

    @admin.display(description="Installed files")
    def manifest_display(self, obj):
        files = obj.installed_files
        if not files:
            return "nothing installed"
        rows = format_html_join("", "<li><code>{}</code> ({})</li>",
                                ((p, human_size(r.get("size"))) for p, r in sorted(files.items())[:50]))
        more = format_html("<li>… and {} more</li>", len(files) - 50) if len(files) > 50 else ""
        return format_html("{} file(s), {} at commit <code>{}</code><ul class=\"mh-files\">{}{}</ul>",
                           len(files), human_size(sum(r.get("size", 0) for r in files.values())),
                           obj.manifest_commit[:12], rows, more)

    @admin.display(description="Recent jobs")
    def jobs_display(self, obj):
        jobs = list(obj.jobs.select_related("requested_by").order_by("-created_at", "-id")[:RECENT_JOBS])
        if not jobs:
            return "no job yet"
        rows = format_html_join("", "<tr><td><a href=\"{}\">Job {}</a></td><td>{}</td><td>{}</td><td>{}</td>"
                                    "<td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((reverse("admin:downloads_downloadjob_change", args=[j.pk]), j.pk,
                                  j.get_kind_display(), state_badge(j),
                                  progress_bar(j, sizes=False, rate=False), j.error_code or "",
                                  j.requested_by or j.origin, ago(j.created_at))
                                 for j in jobs))
        all_url = reverse("admin:downloads_downloadjob_changelist") + f"?variant__id__exact={obj.pk}"
        return format_html('<table class="mh-jobs"><thead><tr><th>Job</th><th>Kind</th><th>State</th>'
                           "<th>Progress</th><th>Error</th><th>By</th><th>Created</th></tr></thead>"
                           "<tbody>{}</tbody></table>"
                           '<p><a href="{}">All jobs of this variant</a></p>', rows, all_url)

    # --- actions (permission "download" hides them; admin_actions also refuses them server-side)
    @admin.action(description="Download selected", permissions=["download"])
    def download_selected(self, request, queryset):
        actions.download(self, request, queryset).send(self, request)

    @admin.action(description="Cancel active job of selected", permissions=["download"])
    def cancel_selected(self, request, queryset):
        actions.cancel_variants(self, request, queryset).send(self, request)

    @admin.action(description="Retry selected (last finished job)", permissions=["download"])
    def retry_selected(self, request, queryset):
        actions.retry_variants(self, request, queryset).send(self, request)

    @admin.action(description="Verify selected (fast)", permissions=["download"])
    def verify_selected(self, request, queryset):
        actions.verify(self, request, queryset).send(self, request)

    @admin.action(description="Verify selected (full re-hash)", permissions=["download"])
    def verify_full_selected(self, request, queryset):
        actions.verify(self, request, queryset, full=True).send(self, request)

    @admin.action(description="Repair selected (re-download bad files)", permissions=["download"])
    def repair_selected(self, request, queryset):
        actions.repair(self, request, queryset).send(self, request)

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

    @admin.action(description="Remove selected variants…", permissions=["delete"])
    def remove_selected(self, request, queryset):
        # A confirmation page first: it shows the job history that goes and the files it can free.
        return HttpResponseRedirect(removal.remove_url(sorted(queryset.values_list("pk", flat=True))))

    def has_delete_files_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("downloads.delete_files_modelvariant")
