"""A token typed on the Settings page is checked with the Hub's whoami before it is saved.

A token the Hub rejects is refused with what to do; a Hub that cannot say (a mirror without whoami,
which answers 404, or a Hub that cannot be reached right now) does not block saving: the token is
saved with a warning that it was not checked. The token itself never appears in a message.
"""

from dataclasses import dataclass

from engine.errors import ErrorCode, HubError
from engine.redaction import register_secret
from settings_app.hub_client import client_for_new_token

TOKENS_PAGE = "https://huggingface.co/settings/tokens"


@dataclass(frozen=True)
class TokenCheck:
    level: str  # "ok" | "warning" | "refused"
    message: str


def check_new_token(endpoint: str, token: str) -> TokenCheck:
    register_secret(token)  # whatever the Hub's answer echoes, the token is redacted from it
    last4 = token[-4:]
    try:
        who = client_for_new_token(endpoint, token).whoami()
    except HubError as exc:
        if exc.code == ErrorCode.TOKEN_INVALID:
            return TokenCheck("refused", (
                f"{endpoint} rejected this token (…{last4}): it was not saved. Copy the whole token again "
                f"(it starts with hf_), or create a new one with at least the 'read' role at {TOKENS_PAGE}. "
                "A fine-grained token also needs read access to the gated or private repos you want."))
        if exc.context.get("status") == 404:
            return TokenCheck("warning", (
                f"The token (…{last4}) was saved but not checked: {endpoint} has no whoami (HTTP 404). Some "
                "mirrors don't implement it; downloads will show whether the token is accepted."))
        return TokenCheck("warning", (
            f"The token (…{last4}) was saved but not checked: {exc.message}. Press 'Test token' once the "
            "Hub can be reached."))
    return TokenCheck("ok", f"The Hub accepted the new token (…{last4}): user {who['name']}, "
                            f"role {who['role']}.")
