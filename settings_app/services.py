"""Changing Settings: one place for validation, shared by the admin form and `manage.py configure`."""

import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from modelhub.sizes import format_size
from settings_app.models import Setting
from settings_app.tokens import resolve_token
from settings_app.validators import check_storage_dir
from webhooks import config as webhook_config


class SettingsError(ValueError):
    pass


def clean_endpoint(value: str) -> str:
    value = (value or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise SettingsError(f"{value!r} is not an http(s) URL, e.g. https://huggingface.co") from None
    if "@" in value.split("//", 1)[1].split("/", 1)[0]:
        raise SettingsError("Put the token in the HF token field, not in the endpoint URL")
    return value


def clean_storage_dir(value: str) -> str:
    """The absolute folder to save (see settings_app.validators for what is refused), made and writable."""
    try:
        path = check_storage_dir(value)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".modelhub-write-test-"):
            pass
    except OSError as exc:
        raise SettingsError(f"storage folder {path} is not writable: {exc.strerror or exc}") from None
    return str(path)


def relative_storage_note(value: str, cleaned: str) -> str:
    """Says where a relative folder went (the project folder, not the current one); "" otherwise."""
    if Path(value.strip()).expanduser().is_absolute():
        return ""
    return (f"The storage folder {value.strip()!r} is relative to the project folder: models land in "
            f"{cleaned}.")


def storage_dir_problem(setting: Setting) -> str:
    """Why a saved folder would be refused today (saved before the check existed), or ""."""
    if not setting.storage_dir:
        return ""
    try:
        check_storage_dir(setting.storage_dir)
    except ValueError as exc:
        return f"{exc} Change it (downloads go there until you do)."
    return ""


def clean_completeness_rules(value) -> dict:
    """{kind: [[group, ...], ...]}: each kind lists alternatives, each alternative lists groups of
    'glob|glob' of which every group must match a selected file. Checked here so a typo can't turn
    every later verification into a crash."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value or "{}")
        except ValueError as exc:
            raise SettingsError(f"completeness rules are not valid JSON: {exc}") from None
    example = 'e.g. {"voice": [["*.onnx", "*.onnx.json"]]}'
    if not isinstance(value, dict):
        raise SettingsError(f"completeness rules must be an object of kind -> alternatives, {example}")
    from engine.verify.completeness import DEFAULT_RULES

    for kind, alternatives in value.items():
        if not isinstance(kind, str) or not kind.strip():
            raise SettingsError(f"a completeness rule needs a kind name, {example}")
        if kind.strip().lower() not in DEFAULT_RULES:  # a typo would silently never apply
            raise SettingsError(f"{kind!r} is not a kind; the kinds are {', '.join(sorted(DEFAULT_RULES))} "
                                f"(* is every other kind), {example}")
        if (not isinstance(alternatives, list) or not alternatives
                or not all(isinstance(a, list) and a and all(isinstance(g, str) and g.strip() for g in a)
                           for a in alternatives)):
            raise SettingsError(f"the rule for {kind!r} must be a non-empty list of non-empty lists of glob "
                                f"strings, {example}")
    return {kind.strip().lower(): alternatives for kind, alternatives in value.items()}


def endpoint_change_message(old_endpoint: str, setting: Setting) -> str:
    """One plain sentence for the admin log, the Settings page and `configure`: the endpoints and
    what happens to the saved token. Never the token itself."""
    new_endpoint = setting.effective_hub_endpoint
    message = f"Hub endpoint changed from {old_endpoint} to {new_endpoint}."
    if not setting.hf_token_encrypted:
        return message
    if setting.token_endpoint_confirmed:
        return f"{message} The saved HF token is used with it."
    return (f"{message} The saved HF token is not sent to {new_endpoint} until the new endpoint is "
            f"confirmed or the token is entered again.")


def describe(setting: Setting | None = None) -> dict:
    setting = setting or Setting.load()
    token = resolve_token(setting)
    out = {
        "hub_endpoint": setting.effective_hub_endpoint,
        "storage_dir": str(setting.effective_storage_dir),
        "max_concurrent_downloads": setting.effective_max_concurrent_downloads,
        "min_free_space": setting.effective_min_free_space,
        "min_free_space_human": format_size(setting.effective_min_free_space),
        "max_parallel_files": setting.max_parallel_files,
        "bandwidth_limit": setting.bandwidth_limit,
        "reverify_interval_hours": setting.reverify_interval_hours,
        "completeness_rules": setting.completeness_rules,
        "hub_allow_anonymous": setting.hub_allow_anonymous,
        "hub_on_demand": setting.hub_on_demand,
        "token": token.describe(),
        "token_source": token.source,
        "webhook_urls": webhook_config.urls(setting),
        "webhook_secret": webhook_config.describe_secret(setting),
    }
    if problem := storage_dir_problem(setting):
        out["storage_dir_problem"] = problem
    return out


def check_token(setting: Setting | None = None) -> dict:
    """Ask the Hub's whoami with the token in effect: {ok, user, role, source, message}."""
    from engine.errors import HubError
    from settings_app.hub_client import ONE_TRY, client_from_settings

    setting = setting or Setting.load()
    token = resolve_token(setting)
    if token.problem:  # unreadable, or saved for another endpoint: nothing is sent
        return {"ok": False, "source": token.source, "message": token.problem}
    if not token.value:
        return {"ok": False, "source": "none", "message": "No token is configured (public repos only)."}
    try:
        who = client_from_settings(setting, backoff=ONE_TRY).whoami()
    except HubError as exc:
        if exc.context.get("status") == 404:  # a mirror without whoami: it cannot say, which is no refusal
            return {"ok": False, "warning": True, "source": token.source, "code": "no_whoami",
                    "message": f"{setting.effective_hub_endpoint} has no whoami (HTTP 404), as some mirrors "
                               "don't, so the token cannot be checked there; downloads will show whether it "
                               "is accepted."}
        return {"ok": False, "source": token.source, "code": exc.code, "message": exc.message}
    return {"ok": True, "source": token.source, "user": who["name"], "role": who["role"],
            "message": f"Token ending …{token.last4} belongs to {who['name']} (role: {who['role']})."}
