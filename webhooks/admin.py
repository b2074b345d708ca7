"""Webhook deliveries, read-only: what was sent where, each attempt and what came back. Two buttons call
the services: "Send again" (an action on selected deliveries) and "Send test event" (on the list)."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from settings_app.models import Setting
from webhooks import config, services
from webhooks.models import Attempt, Delivery

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
    list_display = ("created_at", "event", "variant", "url", "state", "attempts", "response_code",
                    "duration_ms", "error")
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

    @admin.display(description="Payload (the body as sent)")
    def payload(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)

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
