"""Settings as the tests change them: a token saved in (or cleared from) Settings, the Settings page's
form, and `configure` with its exit status."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from settings_app.models import Setting


def set_token(token: str | None) -> None:
    setting = Setting.load()
    if token:
        setting.set_hf_token(token)
    else:
        setting.clear_hf_token()
    setting.save()


def change_url() -> str:
    return reverse("admin:settings_app_setting_change", args=[Setting.load().pk])


def form_data(**overrides) -> dict:
    """What the Settings page posts when only `overrides` are changed."""
    setting = Setting.load()
    data = {
        "hub_endpoint": setting.hub_endpoint, "storage_dir": setting.storage_dir,
        "max_concurrent_downloads": "", "max_parallel_files": 4, "segments_per_file": 1,
        "segment_min_size": "256MB", "min_free_space": "0", "bandwidth_limit": "",
        "reverify_interval_hours": 24, "completeness_rules": "{}", "hf_token": "", "_save": "Save",
    }
    data.update(overrides)
    return data


def run_configure(*args: str) -> tuple[int, str]:
    """`configure` with these arguments: its exit status, and its output (with the error, if any)."""
    out = io.StringIO()
    try:
        call_command("configure", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()
