"""Every API error is JSON: {"code", "message", "guidance"} (+ "errors" per field for bad input).

`code` is machine-readable: the job vocabulary (engine.errors.ErrorCode: repo_not_found, gated_no_token…)
where the failure is one a download would have too, else a few API codes (ApiCode). `guidance` is the
same fix text jobs carry (downloads.guidance), or a short sentence for the API's own codes. Messages go
through engine.redaction: no token ever leaves in an error.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from downloads.guidance import guidance_for
from engine.errors import ErrorCode, JobError
from engine.redaction import redact
from engine.selection import InvalidInput
from settings_app.models import Setting
from settings_app.services import SettingsError


class ApiCode(StrEnum):
    INVALID_INPUT = "invalid_input"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"


API_GUIDANCE = {
    ApiCode.INVALID_INPUT: "Fix the request and send it again; `errors` names the fields, the docs at "
                           "/api/v1/docs/ describe each.",
    ApiCode.NOT_AUTHENTICATED: "Send `Authorization: Bearer <API token>`; an admin creates tokens in the "
                               "admin (API tokens) or with `python manage.py api_token create USER`.",
    ApiCode.AUTHENTICATION_FAILED: "Ask an admin for a new API token (admin → API tokens).",
    ApiCode.PERMISSION_DENIED: "Ask an admin to give your user the permission named in the message.",
    ApiCode.NOT_FOUND: "Check the id or the URL; the list endpoints show what exists.",
    ApiCode.METHOD_NOT_ALLOWED: "See /api/v1/docs/ for the methods each endpoint takes.",
    ApiCode.UNSUPPORTED_MEDIA_TYPE: "Send the body as JSON with `Content-Type: application/json`.",
    ApiCode.CONFLICT: "Wait until the running job ends, or cancel it, then try again.",
    ApiCode.THROTTLED: "Wait a moment and try again.",
    ApiCode.UPSTREAM_UNAVAILABLE: "The Hub did not answer properly; try again in a moment.",
}

# Hub failures met while answering a request (looking a repo up): the status that says whose problem it is.
_HUB_STATUS = {
    ErrorCode.REPO_NOT_FOUND: 404, ErrorCode.REVISION_NOT_FOUND: 404, ErrorCode.FILE_NOT_FOUND: 404,
    ErrorCode.GATED_NO_TOKEN: 403, ErrorCode.GATED_NO_ACCESS: 403, ErrorCode.TOKEN_INVALID: 403,
    ErrorCode.TOKEN_UNCONFIRMED: 403,
    ErrorCode.NETWORK: 502, ErrorCode.SERVER_ERROR: 502, ErrorCode.RATE_LIMITED: 502,
    ErrorCode.PROTOCOL_ERROR: 502, ErrorCode.REDIRECT_LOOP: 502,
}


class ApiError(exceptions.APIException):
    """An error with an explicit code, raised by the views: ApiError(409, ApiCode.CONFLICT, "…")."""

    def __init__(self, status_code: int, code: str, message: str, guidance: str = ""):
        self.status_code = status_code
        self.code = str(code)
        self.guidance = guidance
        super().__init__(message, self.code)


def conflict(message: str) -> ApiError:
    return ApiError(status.HTTP_409_CONFLICT, ApiCode.CONFLICT, message)


def body(code: str, message: str, guidance: str = "", **extra) -> dict:
    guidance = guidance or API_GUIDANCE.get(code) or job_guidance(code, {})
    # The message may quote what a server said; the guidance is our own text.
    return {"code": str(code), "message": redact(str(message)), "guidance": guidance, **extra}


def job_guidance(code: str, context: dict) -> str:
    """The fix a job failing with `code` would carry, for the endpoint in effect."""
    endpoint = Setting.load().effective_hub_endpoint
    return guidance_for(code, **{"endpoint": endpoint, **_safe_context(context)})


def _first_message(detail) -> str:
    """The first human sentence of a DRF error detail (a string, or nested lists and dicts of them)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            if text:
                return text if key == "non_field_errors" else f"{key}: {text}"
        return ""
    if isinstance(detail, list):
        return next((t for t in (_first_message(v) for v in detail) if t), "")
    return str(detail)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: the JSON shape above for every error a view can raise."""
    headers = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ApiError):
        data = body(exc.code, exc.detail, exc.guidance)
        return Response(data, status=exc.status_code)
    if isinstance(exc, JobError):  # engine.hub's HubError from a lookup, or any job failure code
        code = exc.code
        data = body(code, exc.message, job_guidance(code, exc.context))
        return Response(data, status=_HUB_STATUS.get(code, 400))
    if isinstance(exc, (InvalidInput, SettingsError)):
        return Response(body(ApiCode.INVALID_INPUT, str(exc)), status=400)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling (and logging) takes over
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = _code_of(exc)
    extra = {"errors": exc.detail} if isinstance(exc, exceptions.ValidationError) else {}
    message = _first_message(exc.detail) or "Invalid input."
    return Response(body(code, message, **extra), status=exc.status_code, headers=headers)


def _code_of(exc: exceptions.APIException) -> str:
    match exc:
        case exceptions.ValidationError() | exceptions.ParseError():
            return ApiCode.INVALID_INPUT
        case exceptions.NotAuthenticated():
            return ApiCode.NOT_AUTHENTICATED
        case exceptions.AuthenticationFailed():
            return ApiCode.AUTHENTICATION_FAILED
        case exceptions.PermissionDenied():
            return ApiCode.PERMISSION_DENIED
        case exceptions.NotFound():
            return ApiCode.NOT_FOUND
        case exceptions.MethodNotAllowed():
            return ApiCode.METHOD_NOT_ALLOWED
        case exceptions.UnsupportedMediaType() | exceptions.NotAcceptable():
            return ApiCode.UNSUPPORTED_MEDIA_TYPE
        case exceptions.Throttled():
            return ApiCode.THROTTLED
    return ApiCode.INVALID_INPUT if exc.status_code == 400 else str(exc.default_code)


def _safe_context(context: dict) -> dict:
    """The facts guidance needs, without anything that is not plain text or a list of it."""
    return {k: v for k, v in (context or {}).items() if isinstance(v, (str, int, list, tuple))}


def not_found(request, *args, **kwargs):
    """Any other URL under /api/v1/: JSON, not the admin's HTML 404 page."""
    return JsonResponse(body(ApiCode.NOT_FOUND, f"No API endpoint at {request.path[:200]}."), status=404)
