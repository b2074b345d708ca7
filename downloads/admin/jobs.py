"""Download jobs: each attempt, read-only. The queue first (each queued job saying why it waits), then
history; the job page with guidance, verification table and events (extra context from job_page)."""

import threading

from django.contrib import admin
from django.db.models import Case, F, Value, When
from django.urls import path, reverse
from django.utils.html import format_html

from downloads.admin import actions, job_page, views
from downloads.admin.display import (
    clipped,
    exact_time,
    human_duration,
    progress_bar,
    relative_time,
    state_badge,
)
from downloads.admin.live import LiveProgressMixin
from downloads.jobs.queue import QueueSnapshot
from downloads.models import ACTIVE_STATES, DownloadJob, JobState

ACTIVE = [s.value for s in ACTIVE_STATES]
# The queue as this thread's current list request saw it: rows are rendered after changelist_view
# returns (a TemplateResponse), in the same thread, and a column method sees only its row.
_request = threading.local()


@admin.register(DownloadJob)
class DownloadJobAdmin(LiveProgressMixin, admin.ModelAdmin):
    # Five columns, each holding what belongs together (state with its error code, progress with speed
    # and ETA, who with when), so state and progress stay on screen at 1280 px; cards on a phone.
    list_display = ("job_display", "variant_display", "state_display", "progress_display", "when_display")
    # Only the error codes that occurred: the whole vocabulary is a 30-line list nobody reads.
    list_filter = ("state", "kind", ("error_code", admin.AllValuesFieldListFilter))
    list_select_related = ("variant", "requested_by")
    search_fields = ("variant__repo_id", "variant__name")
    actions = ["cancel_selected", "pause_selected", "resume_selected", "retry_selected"]
    # The queue first, in the order it runs (running, then queued oldest first); then history, newest first.
    ordering = (
        Case(When(state__in=ACTIVE, then=Value(0)), default=Value(1)).asc(),
        Case(When(state__in=ACTIVE, then=F("created_at"))).asc(),
        F("created_at").desc(),
        F("id").desc(),
    )

    def get_fieldsets(self, request, obj=None):
        """While the job is active the live panel above shows what moves (bytes, files; the commit is
        resolved as it starts): static copies would contradict it, so they appear once it has stopped."""
        active = obj is not None and obj.is_active
        job = ["variant_display", "kind", "origin", "requested_by", "attempt", "force", "rate_limit_display",
               "only_paths"]
        timing = ["created_at", "dispatched_at", "started_at", "heartbeat_at", "worker", "task_id"]
        if active:
            return [("Job", {"fields": job}), ("Timing", {"fields": timing})]
        return [("Job", {"fields": [*job, "commit"]}),
                ("Timing", {"fields": [*timing[:3], "finished_at", "duration_display", *timing[3:]]}),
                ("Transfer", {"fields": ["size_display", "files_display", "network_display",
                                         "speed_display"]})]

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
            path("<int:pk>/cancel/", view(self.button_view), {"action": "cancel"},
                 name="downloads_downloadjob_cancel"),
            path("<int:pk>/retry/", view(self.button_view), {"action": "retry"},
                 name="downloads_downloadjob_retry"),
            path("<int:pk>/pause/", view(self.button_view), {"action": "pause"},
                 name="downloads_downloadjob_pause"),
            path("<int:pk>/resume/", view(self.button_view), {"action": "resume"},
                 name="downloads_downloadjob_resume"),
        ] + super().get_urls()

    def progress_view(self, request):
        return views.progress(request, self)

    def button_view(self, request, pk, action):
        return views.job_button(request, self, pk, action)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url,
                                   extra_context={**job_page.context(self, request, object_id),
                                                  **(extra_context or {})})

    def changelist_view(self, request, extra_context=None):
        _request.queue = QueueSnapshot.take()
        return super().changelist_view(request, extra_context)

    # --- columns
    @admin.display(description="Job", ordering="id")
    def job_display(self, obj):
        attempt = f", attempt {obj.attempt}" if obj.attempt > 1 else ""
        return format_html('Job {}<span class="mh-sub">{}{}</span>', obj.pk, obj.get_kind_display(), attempt)

    @admin.display(description="Variant", ordering="variant__repo_id")
    def variant_display(self, obj):
        return format_html('<a href="{}" class="mh-clip-link">{}</a>',
                           reverse("admin:downloads_modelvariant_change", args=[obj.variant_id]),
                           clipped(str(obj.variant)))

    @admin.display(description="State", ordering="state")
    def state_display(self, obj):
        # The raw code under the badge, as the guidance box, `download --json` and the docs name it.
        shown = obj.error_code and obj.error_code != obj.state  # "cancelled" twice says nothing more
        code = format_html('<code class="mh-sub">{}</code>', obj.error_code) if shown else ""
        return format_html("{}{}", state_badge(obj), code)

    @admin.display(description="Progress")
    def progress_display(self, obj):
        queue = getattr(_request, "queue", None) if obj.state == JobState.QUEUED else None
        return format_html("{}{}", progress_bar(obj), job_page.queue_line(obj, queue))

    # --- the stopped job's numbers (human sizes), shown once they no longer move
    @admin.display(description="Size")
    def size_display(self, obj):
        return f"{job_page.human_size(obj.bytes_done)} of {job_page.human_size(obj.bytes_total)}"

    @admin.display(description="Files")
    def files_display(self, obj):
        return f"{obj.files_done} of {obj.files_total}"

    @admin.display(description="Network")
    def network_display(self, obj):
        return (f"{job_page.human_size(obj.bytes_transferred)} received, "
                f"{job_page.human_size(obj.bytes_resumed)} resumed from earlier partial files")

    @admin.display(description="Rate limit")
    def rate_limit_display(self, obj):
        if not obj.rate_limit:
            return "none (Settings' cap applies)"
        return f"{job_page.human_size(obj.rate_limit)}/s"

    @admin.display(description="Duration")
    def duration_display(self, obj):
        return human_duration(job_page.duration(obj)) or "—"

    @admin.display(description="Average speed")
    def speed_display(self, obj):
        took = job_page.duration(obj)
        if not took or not obj.bytes_transferred:
            return "—"
        return f"{job_page.human_size(obj.bytes_transferred / took)}/s"

    @admin.display(description="Requested", ordering="created_at")
    def when_display(self, obj):
        who = obj.requested_by.get_username() if obj.requested_by else obj.get_origin_display()
        return format_html('{}<span class="mh-sub" title="{}">{}</span>', who, exact_time(obj.created_at),
                           relative_time(obj.created_at))

    # --- actions
    @admin.action(description="Cancel selected jobs", permissions=["download"])
    def cancel_selected(self, request, queryset):
        actions.cancel_jobs(self, request, queryset).send(self, request)

    @admin.action(description="Pause selected jobs (keep their partial files)", permissions=["download"])
    def pause_selected(self, request, queryset):
        actions.pause_jobs(self, request, queryset).send(self, request)

    @admin.action(description="Resume selected paused jobs", permissions=["download"])
    def resume_selected(self, request, queryset):
        actions.resume_jobs(self, request, queryset).send(self, request)

    @admin.action(description="Retry selected jobs", permissions=["download"])
    def retry_selected(self, request, queryset):
        actions.retry_jobs(self, request, queryset).send(self, request)
