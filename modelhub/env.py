"""Typed readers for ModelHub's environment variables: a bad value stops Django at start-up with a
message naming the variable and what it accepts, not a traceback at the first download or command.

Used by modelhub/settings.py only; django-environ still reads the URL-shaped values (DATABASE_URL).
"""

import math
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from modelhub.sizes import parse_size

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def _bad(name: str, value: str, accepts: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name}={value!r} is not valid: {accepts}")


def integer(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    bounds = f"a whole number{f' from {minimum}' if minimum is not None else ''}" \
             f"{f' up to {maximum}' if maximum is not None else ''}"
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, raw, bounds) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _bad(name, raw, bounds)
    return value


def number(name: str, default: float, *, minimum: float = 0.0, above: bool = False) -> float:
    """A finite number >= minimum (> minimum with `above`)."""
    raw = _raw(name)
    if raw is None:
        return default
    accepts = f"a number {'above' if above else 'from'} {minimum:g}"
    try:
        value = float(raw)
    except ValueError:
        raise _bad(name, raw, accepts) from None
    if not math.isfinite(value) or value < minimum or (above and value == minimum):
        raise _bad(name, raw, accepts)
    return value


def boolean(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _bad(name, raw, "true or false (also 1/0, yes/no, on/off)")


def size(name: str, default: str) -> int:
    raw = _raw(name)
    try:
        return parse_size(default if raw is None else raw)
    except ValueError as exc:
        raise _bad(name, raw or "", str(exc)) from None


def http_url(name: str, default: str) -> str:
    raw = _raw(name)
    value = default if raw is None else raw
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(name, value, "an http(s) URL such as https://huggingface.co")
    return value.rstrip("/")


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _raw(name)
    if raw is None:
        return default
    if raw.upper() not in choices:
        raise _bad(name, raw, f"one of {', '.join(choices)}")
    return raw.upper()


def networks(name: str) -> tuple:
    """Comma-separated addresses or CIDR networks (IPv4 or IPv6), e.g. "127.0.0.1,10.0.0.0/8"; unset or
    empty: none. A host address with bits set beyond the mask (10.0.0.1/8) is refused as a likely typo."""
    import ipaddress

    raw = _raw(name) or ""
    result = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            result.append(ipaddress.ip_network(item))
        except ValueError:
            raise _bad(name, item, "comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8") \
                from None
    return tuple(result)
