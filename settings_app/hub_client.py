"""The Hub client with the endpoint and token in effect (the Settings row, then the environment)."""

from engine.hub import HubClient
from settings_app.models import Setting
from settings_app.tokens import resolve_token


def client_from_settings(setting: Setting | None = None, **options) -> HubClient:
    setting = setting or Setting.load()
    token = resolve_token(setting)
    return HubClient(setting.effective_hub_endpoint, token.value, token_source=token.source,
                     token_problem=token.problem, **options)
