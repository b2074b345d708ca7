"""Webhook deliveries, read-only: what was sent where, each attempt and what came back. Two buttons call
the services: "Send again" (an action on selected deliveries) and "Send test event" (on the list)."""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from downloads.admin.display import clipped, exact_time, relative_time
from settings_app.models import Setting
from webhooks import config, services
from webhooks.models import Attempt, Delivery, DeliveryState

SEND_PERMISSION = "webhooks.send_delivery"


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ("number", "at", "response_code", "error", "duration_ms", "excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # Four columns, each holding what belongs together, so the outcome stays on screen; cards on a phone.
    list_display = ("delivery_display", "outcome_display", "url_display", "error_display")
    list_filter = ("state", "event", ("response_code", admin.AllValuesFieldListFilter))
    search_fields = ("url", "delivery_id", "variant__repo_id")
    list_select_related = True
    date_hierarchy = "created_at"
    actions = ["send_again"]
    inlines = [AttemptInline]
    fields = ("delivery_id", "event", "url", "state", "attempts", "next_attempt_at", "created_at",
              "finished_at", "response_code", "error", "duration_ms", "job", "variant", "resent_from",
              "payload")
    readonly_fields = fields

    @admin.display(description="Delivery", ordering="created_at")
    def delivery_display(self, obj):
        about = str(obj.variant) if obj.variant_id else ""
        return format_html('{}<span class="mh-sub" title="{}">{}{}</span>', clipped(obj.get_event_display(),
                           "mh-name"), exact_time(obj.created_at), f"{about} · " if about else "",
                           relative_time(obj.created_at))

    @admin.display(description="Outcome", ordering="state")
    def outcome_display(self, obj):
        return format_html('<span class="mh-badge mh-delivery-{}">{}</span><span class="mh-sub">{}</span>',
                           obj.state, obj.get_state_display(), outcome_line(obj))

    @admin.display(description="URL", ordering="url")
    def url_display(self, obj):
        return clipped(obj.url)

    @admin.display(description="Error", empty_value="")
    def error_display(self, obj):
        return clipped(obj.error) if obj.error else ""

    @admin.display(description="Payload (the body as sent)")
    def payload(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)

    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["downloads/admin.css", "webhooks/deliveries.css"]})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_send_permission(self, request):
        return request.user.has_perm(SEND_PERMISSION)

    @admin.action(description="Send again", permissions=["send"])
    def send_again(self, request, queryset):
        rows = services.send_again(list(queryset))
        self.message_user(request, f"Sending {len(rows)} deliver{'y' if len(rows) == 1 else 'ies'} again "
                                   "(new delivery ids; the originals keep their record).", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra = {"can_send_test": self.has_send_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def get_urls(self):
        return [path("send-test/", self.admin_site.admin_view(self.send_test_view),
                     name="webhooks_delivery_send_test")] + super().get_urls()

    def send_test_view(self, request):
        return _send_test(request, self)


def outcome_line(delivery: Delivery) -> str:
    """"HTTP 500 · attempt 2 of 6 · 31 ms · next in 2 min": the last answer and what happens next."""
    parts = [f"HTTP {delivery.response_code}"] if delivery.response_code else []
    parts.append(f"attempt {delivery.attempts} of {settings.MODELHUB_WEBHOOK_ATTEMPTS}")
    if delivery.duration_ms is not None:
        parts.append(f"{delivery.duration_ms} ms")
    if delivery.state == DeliveryState.RETRYING and delivery.next_attempt_at:
        wait = max(0, int((delivery.next_attempt_at - timezone.now()).total_seconds()))
        parts.append(f"next in {wait // 60} min" if wait >= 60 else f"next in {wait} s")
    return " · ".join(parts)


@require_POST
def _send_test(request, model_admin: DeliveryAdmin):
    if not model_admin.has_send_permission(request):
        raise PermissionDenied
    setting = Setting.load()
    if not config.urls(setting):
        model_admin.message_user(request, "No webhook URL in Settings: add one (and a secret) first.",
                                 messages.WARNING)
    else:
        rows = services.send_test(by=request.user)
        model_admin.message_user(request, f"Test event queued for {len(rows)} URL(s); the rows below show "
                                          "what each receiver answers.", messages.SUCCESS)
    return redirect(reverse("admin:webhooks_delivery_changelist"))
