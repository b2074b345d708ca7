"""The Hub client with the endpoint and token in effect (the Settings row, then the environment), and the
Settings page's two questions to the Hub: is the endpoint reachable, and does it accept a token."""

from engine.hub import HubClient
from engine.hub.probe import Probe, probe
from engine.retrying import Backoff
from settings_app.models import Setting
from settings_app.tokens import resolve_token

# A person waits for these answers: one try, no backoff (a download's client retries for minutes).
ONE_TRY = Backoff(retries=0, base=0.1, cap=0.1)


def client_from_settings(setting: Setting | None = None, **options) -> HubClient:
    setting = setting or Setting.load()
    token = resolve_token(setting)
    return HubClient(setting.effective_hub_endpoint, token.value, token_source=token.source,
                     token_problem=token.problem, **options)


def client_for_new_token(endpoint: str, token: str) -> HubClient:
    """A client for a token typed on the Settings page, before it is saved (bound to `endpoint`)."""
    return HubClient(endpoint, token, token_source="the new token", backoff=ONE_TRY)


def check_connection(endpoint: str) -> Probe:
    """Reachable or why not (DNS, TLS, refused, timeout, HTTP status). Never sends a token."""
    return probe(endpoint)
