"""Who may read /metrics: a staff session, an API token (Bearer, as for /hub and the API) whose user has
'Can read /metrics', or a client address in MODELHUB_METRICS_ALLOW. Everyone else gets 401 or 403.

The address is the connection's (REMOTE_ADDR), never X-Forwarded-For, which any client can write. Behind
a reverse proxy every request comes from the proxy: allow the Prometheus host there, or use a token.
"""

import ipaddress

from django.conf import settings
from django.http import HttpResponse

from metrics.models import PERMISSION_NAME, VIEW_PERMISSION
from serving import access, tokens


def refusal(request) -> HttpResponse | None:
    """None when the caller may read the metrics, else the response to send."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return None
    plain = access.bearer(request)
    if plain is not None:  # a token was offered: it decides, whatever the address
        token = tokens.verify(plain)
        if token is None:
            return _refuse(401, "The API token was refused: it is unknown or revoked, or its user is "
                                f"inactive. Ask for a new one ({access.HOW_TO_GET_ONE}).")
        if not token.user.has_perm(VIEW_PERMISSION):
            return _refuse(403, f"User {token.user.get_username()} may not read the metrics: an admin must "
                                f"give them the permission '{PERMISSION_NAME}'.")
        return None
    if allowed_address(request.META.get("REMOTE_ADDR", "")):
        return None
    return _refuse(401, "The metrics need an API token (Authorization: Bearer mh_…) or a client address in "
                        "MODELHUB_METRICS_ALLOW.")


def allowed_address(remote: str) -> bool:
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):  # ::ffff:10.0.0.5 on a dual-stack socket
        address = address.ipv4_mapped
    return any(address in network for network in settings.MODELHUB_METRICS_ALLOW
               if network.version == address.version)


def _refuse(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ModelHub metrics"'
    return response
