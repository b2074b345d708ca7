"""Which HF token is in effect, and where it came from.

Order: the token saved in Settings, HF_TOKEN in the environment, the Hugging Face CLI token file
($HF_HOME/token), none. The token itself never leaves this module except towards the Hub client; what
the admin shows is `ResolvedToken.describe()` (source and last 4 characters).

A token saved in Settings is bound to the endpoint origin it was saved for. When the endpoint in
effect is another one, the result is "settings-unconfirmed" with no value: nothing is sent until
someone allowed to confirms the new endpoint or enters the token again. It deliberately does not fall
back to HF_TOKEN or the token file then: the operator chose the saved token, and silently using
another one would hide the problem. Tokens from the environment or the token file follow the
endpoint, as before: whoever sets them controls the endpoint's environment too.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from engine.redaction import register_secret
from settings_app.endpoints import endpoint_origin
from settings_app.token_crypto import TokenDecryptError


@dataclass(frozen=True)
class ResolvedToken:
    value: str | None
    # "settings", "env:HF_TOKEN", "file:<path>", "none", "settings-unreadable", "settings-unconfirmed"
    source: str
    problem: str = ""

    def __repr__(self) -> str:  # never print the secret by accident
        return f"ResolvedToken(source={self.source!r}, last4={self.last4!r})"

    __str__ = __repr__

    @property
    def last4(self) -> str:
        return self.value[-4:] if self.value else ""

    def describe(self) -> str:
        if self.problem:
            return self.problem
        if not self.value:
            return "No token: public repos only."
        where = {
            "settings": "saved in Settings",
            "env:HF_TOKEN": "HF_TOKEN environment variable",
        }.get(self.source, self.source.replace("file:", "token file "))
        return f"Token ending in …{self.last4} ({where})"


def hf_token_file() -> Path:
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(os.environ.get("HF_TOKEN_PATH") or os.path.join(hf_home, "token"))


def resolve_token(setting=None) -> ResolvedToken:
    from settings_app.models import Setting

    setting = setting or Setting.load()
    try:
        saved = setting.saved_hf_token()
    except TokenDecryptError as exc:
        return ResolvedToken(None, "settings-unreadable", str(exc))
    if saved:
        register_secret(saved)
        if not setting.token_endpoint_confirmed:
            return ResolvedToken(None, "settings-unconfirmed", unconfirmed_problem(setting))
        return ResolvedToken(saved, "settings")
    env_token = os.environ.get("HF_TOKEN", "").strip()
    if env_token:
        register_secret(env_token)
        return ResolvedToken(env_token, "env:HF_TOKEN")
    token_file = hf_token_file()
    try:
        file_token = token_file.read_text().strip()
    except OSError:
        file_token = ""
    if file_token:
        register_secret(file_token)
        return ResolvedToken(file_token, f"file:{token_file}")
    return ResolvedToken(None, "none")


def unconfirmed_problem(setting) -> str:
    """Why the saved token is not sent, and the two ways to change that. Origins only: never the token."""
    bound = setting.hf_token_endpoint or "an endpoint that was not recorded"
    return (f"The HF token saved in Settings (ending in …{setting.hf_token_last4}) was saved for {bound}, "
            f"but the Hub endpoint is now {endpoint_origin(setting.effective_hub_endpoint)}. It is not sent "
            f"there until the new endpoint is confirmed (Settings: tick “Use the saved token with the new "
            f"endpoint”; or `manage.py configure --confirm-token-endpoint`) or the token is entered again.")
