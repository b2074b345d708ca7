"""The single Settings page: no list, no add/delete; the token is write-only; a Test token button."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.widgets import Media, Script
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from settings_app import connection, storage_change
from settings_app.forms import SettingForm
from settings_app.models import Setting
from settings_app.services import check_token, endpoint_change_message, storage_dir_problem
from settings_app.tokens import resolve_token
from webhooks import config as webhook_config

TOKEN_FIELDS = ["hf_token", "clear_token"]
CONFIRM_PERMISSION = "settings_app.confirm_token_endpoint"


@admin.register(Setting)
class SettingAdmin(admin.ModelAdmin):
    form = SettingForm
    readonly_fields = ("token_in_effect", "webhook_secret_in_effect", "updated_at")

    def get_fieldsets(self, request, obj=None):
        token = ["token_in_effect"]
        webhook_fields = ["webhook_urls", "webhook_secret_in_effect"]
        if self.has_change_permission(request, obj):
            webhook_fields += ["webhook_secret", "clear_webhook_secret"]
        if self.has_change_permission(request, obj):
            token += TOKEN_FIELDS
            if _may_confirm(request, obj):
                token.append("confirm_token_endpoint")
        return [
            ("Hub", {"fields": ["hub_endpoint"],
                     "description": "Where models are downloaded from: the Hugging Face Hub or a compatible "
                                    "mirror. A token saved below is not sent to a new endpoint until it is "
                                    "confirmed for it or entered again."}),
            ("HF token", {"fields": token,
                          "description": "Needed for gated and private repositories. "
                                         "The token is write-only: it is never shown again, only where it "
                                         "comes from and its last 4 characters. It is only sent to the Hub "
                                         "endpoint it was entered for. A new token is checked with the Hub "
                                         "when you save; 'Test token' asks again about the one in effect."}),
            ("Storage", {"fields": ["storage_dir", "old_storage", "min_free_space"],
                         "description": "Models land here in the standard Hugging Face cache layout, so "
                                        "transformers, llama.cpp and huggingface-cli find them."}),
            ("Downloads", {"fields": ["max_concurrent_downloads", "max_parallel_files", "segments_per_file",
                                      "segment_min_size", "bandwidth_limit"],
                           "description": "How much runs at once, and how fast."}),
            ("Serve your team (/hub)", {"fields": ["hub_allow_anonymous", "hub_on_demand"],
                                        "description": "Other machines pull installed models with "
                                                       "HF_ENDPOINT=<this server>/hub and HF_TOKEN=<an API "
                                                       "token>. Only users with 'Can pull models through "
                                                       "the Hub endpoint' may pull."}),
            ("Webhooks", {"fields": webhook_fields, "description": webhook_config.settings_help()}),
            ("Verification", {"fields": ["reverify_interval_hours", "completeness_rules", "updated_at"],
                              "description": "Installed models are re-checked periodically; completeness "
                                             "rules decide which files make a model usable, per kind."}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.may_confirm_token_endpoint = _may_confirm(request, obj)  # a fresh class per request
        return form

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        storage_change.apply(self, request, form)
        if form.token_check:  # a new token was checked with whoami (a refused one is never saved)
            self.message_user(request, form.token_check.message,
                              messages.SUCCESS if form.token_check.level == "ok" else messages.WARNING)
        if form.storage_dir_note:
            self.message_user(request, form.storage_dir_note, messages.INFO)
        # Who pointed the token's endpoint where is an audit question: record it by name (the admin's
        # own entry only says "Changed Hub endpoint"), with endpoints only, never the token.
        confirmed = bool(form.cleaned_data.get("confirm_token_endpoint") and obj.hf_token_encrypted
                         and not form.cleaned_data.get("hf_token"))
        if form.endpoint_before != obj.effective_hub_endpoint:
            message = endpoint_change_message(form.endpoint_before, obj)
            self.log_change(request, obj, message + (" Confirmed by this change." if confirmed else ""))
            unsent = bool(obj.hf_token_encrypted) and not obj.token_endpoint_confirmed
            self.message_user(request, message, messages.WARNING if unsent else messages.INFO)
        elif confirmed:
            self.log_change(request, obj, f"Confirmed the saved HF token for {obj.effective_hub_endpoint}.")

    @admin.display(description="Token in effect")
    def token_in_effect(self, obj):
        return resolve_token(obj).describe()

    @admin.display(description="Webhook secret")
    def webhook_secret_in_effect(self, obj):
        return webhook_config.describe_secret(obj)

    @property
    def media(self):
        # settings.js previews where a typed storage folder lands and asks about the current one's models.
        preview = reverse("admin:settings_app_setting_storage_preview")
        # connection.js runs Test connection beside the endpoint; settings.css styles it and the notes.
        return super().media + Media(css={"all": ["downloads/admin.css", "settings_app/settings.css"]}, js=[
            Script("downloads/settings.js", defer=True, **{"data-preview-url": preview}),
            Script("settings_app/connection.js", defer=True)])

    # --- one row: no list, no add, no delete
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect(reverse("admin:settings_app_setting_change", args=[Setting.load().pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        setting = Setting.load()  # the row exists even on a fresh install
        if request.method == "GET" and (problem := storage_dir_problem(setting)):
            self.message_user(request, problem, messages.WARNING)
        extra = {"can_test_token": self.has_change_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        return [
            path("test-token/", self.admin_site.admin_view(self.test_token_view),
                 name="settings_app_setting_test_token"),
            path("storage-preview/", self.admin_site.admin_view(self.storage_preview_view),
                 name="settings_app_setting_storage_preview"),
            path("test-connection/", self.admin_site.admin_view(self.connection_view),
                 name="settings_app_setting_test_connection"),
        ] + super().get_urls()

    def storage_preview_view(self, request):
        return storage_change.preview(request, self)

    def connection_view(self, request):
        return connection.connection_view(request, self)

    def test_token_view(self, request):
        return _test_token(request, self)


def _may_confirm(request, obj) -> bool:
    """Only with a saved token to confirm, and the permission to send it somewhere new."""
    return bool(obj is not None and obj.hf_token_encrypted and request.user.has_perm(CONFIRM_PERMISSION))


@require_POST
def _test_token(request, model_admin: SettingAdmin):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    setting = Setting.load()
    result = check_token(setting)
    if result["ok"]:
        model_admin.message_user(request, f"The Hub accepted the token: user {result['user']}, "
                                          f"role {result['role']} ({resolve_token(setting).describe()}).",
                                 messages.SUCCESS)
    elif result.get("warning"):
        model_admin.message_user(request, f"Token not checked: {result['message']}", messages.WARNING)
    else:
        code = f" [{result['code']}]" if result.get("code") else ""
        model_admin.message_user(request, f"Token check failed{code}: {result['message']}", messages.ERROR)
    outcome = (f"ok, user {result['user']}" if result["ok"]
               else f"failed: {result.get('code') or result['message']}")
    model_admin.log_change(request, setting, f"Tested the HF token: {outcome}")
    return redirect(reverse("admin:settings_app_setting_change", args=[setting.pk]))
