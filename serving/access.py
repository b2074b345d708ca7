"""Who is calling /hub: the ModelHub API token in `Authorization: Bearer`, or nobody when anonymous pulls
are allowed. Refusals take the Hub's gated-repo shape, which huggingface_hub reports as GatedRepoError
with our message: that is what tells a user their token, not the repo, is the problem."""

from dataclasses import dataclass

from django.http import HttpResponse

from serving import tokens
from serving.models import PULL_PERMISSION, ApiToken
from serving.responses import GATED, hub_error
from settings_app.models import Setting

DOWNLOAD_PERMISSION = "downloads.download_modelvariant"
HOW_TO_GET_ONE = ("an admin creates one in the admin (API tokens) or with "
                  "`python manage.py api_token create USER`")


@dataclass(frozen=True)
class Caller:
    user: object | None  # None: anonymous
    token: ApiToken | None

    @property
    def may_start_downloads(self) -> bool:
        return self.user is not None and self.user.has_perm(DOWNLOAD_PERMISSION)


def bearer(request) -> str | None:
    """The Bearer value of the Authorization header; None without one; "" for another scheme."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def identify(request, setting: Setting) -> Caller | HttpResponse:
    """The caller allowed to pull, or the refusal to send."""
    plain = bearer(request)
    if plain is None:
        if setting.hub_allow_anonymous:
            return Caller(None, None)
        return hub_error(401, GATED, "This ModelHub needs an API token: set HF_TOKEN to a ModelHub API token "
                                     f"({HOW_TO_GET_ONE}).")
    token = tokens.verify(plain)
    if token is None:
        hint = (" HF_TOKEN holds a Hugging Face token: this server wants a ModelHub API token instead."
                if plain.startswith("hf_") else "")
        return hub_error(401, GATED, "The API token was refused: it is unknown or revoked, or its user is "
                                     f"inactive.{hint} Ask for a new one ({HOW_TO_GET_ONE}).")
    if not token.user.has_perm(PULL_PERMISSION):
        return hub_error(403, GATED, f"User {token.user.get_username()} may not pull models from this "
                                     "ModelHub: an admin must give them the permission 'Can pull models "
                                     "through the Hub endpoint'.")
    return Caller(token.user, token)
