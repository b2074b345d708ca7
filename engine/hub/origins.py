"""Which requests may carry the HF token: only those to the origin the token is configured for.

Two HTTP stacks talk to servers: huggingface_hub's httpx client (metadata) and requests (bytes). The
bytes path builds its headers per hop (`HubClient.headers_for`). For the metadata path, every
request huggingface_hub sends, pagination and redirects included, passes `strip_foreign_token`, a
request hook on its shared client: a token ModelHub bound to an origin is removed from a request
to any other origin, whatever the library's own rules are. That is the single guarantee the README
promises ("the token goes to the configured endpoint alone"), held below the library.
"""

import threading
from urllib.parse import urlsplit

Origin = tuple[str, str, int | None]

_bound: dict[str, set[Origin]] = {}
_lock = threading.Lock()
_installed = False


def origin(url: str) -> Origin:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a malformed port: an origin nothing is bound to
        return parts.scheme, "", -1
    port = port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def bind(token: str | None, endpoint: str) -> None:
    """Allow `token` to be sent to `endpoint`'s origin (the configured Hub endpoint)."""
    if token:
        with _lock:
            _bound.setdefault(token, set()).add(origin(endpoint))
        install()


def may_carry(token: str | None, url: str) -> bool:
    with _lock:
        return bool(token) and origin(url) in _bound.get(token, ())


def strip_foreign_token(request) -> None:
    """httpx request hook: drop an Authorization header that carries a bound token to another origin.

    Headers with a token ModelHub never bound (a caller's own) are left alone; ModelHub always hands
    huggingface_hub either its bound token or `token=False`.
    """
    value = request.headers.get("Authorization")
    if not value or not value.lower().startswith("bearer "):
        return
    token = value[7:].strip()
    with _lock:
        allowed = _bound.get(token)
    if allowed is not None and origin(str(request.url)) not in allowed:
        del request.headers["Authorization"]


def install() -> None:
    """Put the hooks on huggingface_hub's shared httpx client (once per process; HubClient calls it
    with or without a token, for the rate-limit pacing)."""
    global _installed
    if _installed:
        return
    import httpx2
    from huggingface_hub.utils import _http, set_client_factory

    from engine.hub import quota

    def factory() -> httpx2.Client:
        # huggingface_hub's own default client, plus the hook after its own (which only logs), and the
        # rate-limit pacing of metadata calls (quota.py)
        client = _http.default_client_factory()
        client.event_hooks["request"] = [*client.event_hooks["request"], strip_foreign_token,
                                         quota.httpx_request_hook]
        client.event_hooks["response"] = [*client.event_hooks["response"], quota.httpx_response_hook]
        return client

    with _lock:
        if not _installed:
            set_client_factory(factory)
            _installed = True
