"""The origin of a Hub endpoint: what a saved HF token is bound to.

A token saved in Settings is only sent to the origin (scheme, host, port) it was saved for. Whoever
may edit Settings could otherwise point the endpoint at their own server, press "Test token" and
read the "write-only" token from the Authorization header. The origin, not the whole URL, is the
unit of trust: every path on one origin is the same server, as browsers and requests see it.
"""

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint_origin(url: str) -> str:
    """`https://Hub.example.com:443/mirror/` -> `https://hub.example.com`; "" for what is not a URL.

    User info is dropped, so an origin is safe to show and to log."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:  # a port that is not a number
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    if ":" in host:  # IPv6 literal: urlsplit strips the brackets
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def same_origin(a: str, b: str) -> bool:
    """Both are URLs of one origin. Never true for an empty or malformed value."""
    origin_a = endpoint_origin(a)
    return bool(origin_a) and origin_a == endpoint_origin(b)
