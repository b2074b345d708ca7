"""GET /settings/ and PATCH /settings/: the Settings page's values, validated by the Settings page's own
form (settings_app.forms.SettingForm), so the API refuses exactly what the page refuses."""

from django.contrib.admin.models import CHANGE, LogEntry
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api import permissions
from api.serializers.common import errors
from api.serializers.settings import SettingChangedSerializer, SettingChangeSerializer, SettingSerializer
from downloads import services
from downloads.storage import previous
from engine.selection import InvalidInput
from settings_app.forms import SettingForm
from settings_app.models import Setting
from settings_app.services import endpoint_change_message, storage_dir_problem
from settings_app.tokens import resolve_token
from webhooks import config as webhook_config

TOKEN_FIELDS = ("hf_token", "clear_token", "confirm_token_endpoint")


def setting_data(setting: Setting) -> dict:
    token = resolve_token(setting)
    values = {name: getattr(setting, name) for name in SettingForm.Meta.fields}
    return {
        **values,
        "effective_hub_endpoint": setting.effective_hub_endpoint,
        "effective_storage_dir": str(setting.effective_storage_dir),
        "storage_dir_problem": storage_dir_problem(setting),
        "effective_max_concurrent_downloads": setting.effective_max_concurrent_downloads,
        "effective_min_free_space": setting.effective_min_free_space,
        "hf_token": {"set": bool(token.value), "description": token.describe(), "source": token.source,
                     "saved": bool(setting.hf_token_encrypted)},
        "webhook_urls": webhook_config.urls(setting),
        "webhook_secret": webhook_config.describe_secret(setting),
        "updated_at": setting.updated_at,
    }


class Settings(APIView):
    def get_permissions(self):
        needed = permissions.VIEW_SETTINGS if self.request.method == "GET" else permissions.CHANGE_SETTINGS
        return [permissions.needs(needed)()]

    @extend_schema(responses={200: SettingSerializer, **errors(401, 403)}, summary="Read the settings")
    def get(self, request):
        return Response(SettingSerializer(setting_data(Setting.load())).data)

    @extend_schema(request=SettingChangeSerializer, responses={200: SettingChangedSerializer,
                                                               **errors(400, 401, 403)},
                   summary="Change settings (only the fields sent)")
    def patch(self, request):
        typed = SettingChangeSerializer(data=request.data)
        typed.is_valid(raise_exception=True)
        changes = dict(typed.validated_data)
        if "webhook_urls" in changes:  # the form takes them as its textarea does: one per line
            changes["webhook_urls"] = "\n".join(changes["webhook_urls"])
        setting = Setting.load()
        if changes.get("confirm_token_endpoint"):
            permissions.require(request.user, permissions.CONFIRM_TOKEN_ENDPOINT)
            if not setting.hf_token_encrypted:
                raise InvalidInput("confirm_token_endpoint: no token is saved in Settings to confirm")
        may_confirm = request.user.has_perm(permissions.CONFIRM_TOKEN_ENDPOINT)
        form_class = type("ApiSettingForm", (SettingForm,), {
            "may_confirm_token_endpoint": bool(setting.hf_token_encrypted and may_confirm)})
        current = {name: getattr(setting, name) for name in SettingForm.Meta.fields}
        form = form_class(data={**current, **changes}, instance=setting)
        if not form.is_valid():
            raise serializers.ValidationError(
                {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()})
        setting = form.save()
        return Response(SettingChangedSerializer({
            "settings": setting_data(setting), "messages": _after_save(request, form, setting, changes),
        }).data)


def _after_save(request, form, setting: Setting, changes: dict) -> list[str]:
    """What the Settings page does after saving: start moving the models when the folder changed, say
    what happens to the saved token after an endpoint change, and record who changed what."""
    messages = [form.storage_dir_note] if form.storage_dir_note else []
    change = getattr(form, "storage_change", None)
    if change is not None:
        old, new, choice, found = change
        previous.remember(old)
        if choice == "keep":
            messages.append(f"New downloads go to {new}; the models in {old} stay installed there.")
        else:
            try:
                services.enqueue_relocation(str(old), str(new), choice, by=request.user)
                messages.append(f"{choice.title()} of {len(found.variants)} model(s) from {old} to {new} "
                                "started in the background; each gets a verify job.")
            except Exception as exc:  # whatever the broker raises: nothing moved, nothing lost
                messages.append(f"The task queue is unavailable ({type(exc).__name__}): the models stay in "
                                f"{old}, still installed.")
    if form.endpoint_before != setting.effective_hub_endpoint:
        messages.append(endpoint_change_message(form.endpoint_before, setting))
    if form.token_check:  # a new token was asked about (whoami); a refused one was not saved
        messages.append(form.token_check.message)
    named = [k for k in changes if k not in TOKEN_FIELDS]
    if changes.get("hf_token"):
        named.append("HF token (set)")  # never the token itself
    elif changes.get("clear_token"):
        named.append("HF token (cleared)")
    elif changes.get("confirm_token_endpoint"):
        named.append(f"HF token confirmed for {setting.effective_hub_endpoint}")
    LogEntry.objects.log_actions(request.user.pk, [setting], CHANGE, single_object=True,
                                 change_message=f"Changed through the API: {', '.join(named) or 'nothing'}. "
                                                + " ".join(messages))
    return messages
