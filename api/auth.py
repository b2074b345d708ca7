"""Who calls the API: a ModelHub API token (`Authorization: Bearer mh_…`, the same tokens as the /hub
endpoint, see serving.tokens) for programs, or the admin's session (with its CSRF check) for browsers.

Only the user comes from the token: what they may do is their Django permissions, as in the admin."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from serving import access, tokens


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <API token>`. Another scheme (or none) is left to the session."""

    keyword = "Bearer"

    def authenticate(self, request):
        plain = access.bearer(request)
        if not plain:  # no header, or another scheme (Basic...): not ours to judge
            return None
        token = tokens.verify(plain)
        if token is None:
            # Never the token itself, nor how much of it looked right.
            hint = (" This is a Hugging Face token: the API wants a ModelHub API token (mh_…)."
                    if plain.startswith("hf_") else "")
            raise exceptions.AuthenticationFailed(
                f"The API token was refused: it is unknown or revoked, or its user is inactive.{hint} "
                f"Ask for a new one ({access.HOW_TO_GET_ONE}).")
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="modelhub"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "mh_…",
                "description": "A ModelHub API token (admin → API tokens, or "
                               "`python manage.py api_token create USER`)."}
