"""The Settings page's "Test connection": the button beside the endpoint and the view it posts to.

The button tests the endpoint as typed, before it is saved: settings.js sends it and shows the answer
under the field; without JavaScript the button submits the form to the same view (formaction), which
reports with a message and returns to the page. No token is sent (engine.hub.probe).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from settings_app.hub_client import check_connection
from settings_app.models import Setting
from settings_app.services import SettingsError, clean_endpoint


class EndpointInput(forms.URLInput):
    """The endpoint's input, a Test connection button and the place its answer appears."""

    def render(self, name, value, attrs=None, renderer=None):
        field = super().render(name, value, attrs, renderer)
        return format_html(
            '{} <button type="submit" class="mh-tool mh-test-connection" id="mh-test-connection" '
            'formaction="{}" formnovalidate>Test connection</button>'
            '<div id="mh-connection-result" class="mh-connection-result" role="status" aria-live="polite" '
            "hidden></div>", field, reverse("admin:settings_app_setting_test_connection"))


@require_POST
def connection_view(request, model_admin):
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    setting = Setting.load()
    typed = (request.POST.get("hub_endpoint") or "").strip()
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        endpoint = clean_endpoint(typed) if typed else setting.effective_hub_endpoint
    except SettingsError as exc:
        result = {"ok": False, "kind": "invalid", "message": str(exc), "endpoint": typed}
    else:
        result = {**check_connection(endpoint).as_dict(), "endpoint": endpoint}
    if wants_json:
        return JsonResponse(result)
    model_admin.message_user(request, result["message"], messages.SUCCESS if result["ok"] else messages.ERROR)
    return redirect(reverse("admin:settings_app_setting_change", args=[setting.pk]))
