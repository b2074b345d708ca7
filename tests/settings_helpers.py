"""Shared by the job error and settings tests: a token saved in (or cleared from) Settings, as the
admin page does it."""

from settings_app.models import Setting


def set_token(token: str | None) -> None:
    setting = Setting.load()
    if token:
        setting.set_hf_token(token)
    else:
        setting.clear_hf_token()
    setting.save()
