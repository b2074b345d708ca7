"""Keep secrets out of logs and error text.

Every token ModelHub resolves is registered here; `redact()` replaces it (and anything shaped like a
Hugging Face token, and any Authorization header value) before text is logged or stored on a job row.

A server that echoes a request back (a proxy's error page, a misbehaving mirror) does not always echo
the token as sent: it may upper-case it, show the Basic credentials base64-encoded ("user:token",
":token" or "token"), or wrap a long line in the middle of it. So each secret is registered with all
those forms, compiled once into one pattern: `redact()` runs on every log line and must stay cheap.
"""

import base64
import logging
import re
import threading
from dataclasses import dataclass

_HF_TOKEN_SHAPE = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\",}]+")
# Where a wrapped line may break a secret: a real line break (CRLF, LF or CR), or one escaped in a JSON or
# repr() text, then maybe the indentation of the continuation line (a folded header, a wrapped traceback).
_BREAK = r"(?:(?:\r\n|\r|\n|\\r\\n|\\n)[ \t]*)?"
# Shorter base64 runs would match ordinary text too often to be worth it (tokens give ~45 characters).
_MIN_BASE64 = 12
_URLSAFE = str.maketrans("+/", "-_")

REDACTED = "[redacted]"


@dataclass(frozen=True)
class _Secrets:
    """Every form of every known secret, precomputed. Replaced whole on registration, so `redact()`
    reads it without the lock."""

    pattern: re.Pattern  # all forms, line breaks allowed anywhere inside
    lowered: tuple[str, ...]  # the secrets in lower case, and
    encoded: tuple[str, ...]  # their base64 runs, for a quick "is any here?" on one-line text
    always: bool  # a non-ASCII secret: str.lower() and the pattern's IGNORECASE may disagree on it

    def maybe_in(self, text: str, lowered: str) -> bool:
        if self.always or "\n" in text or "\r" in text or "\\n" in text:
            return True  # a break may split a secret: only the pattern can tell
        return any(s in lowered for s in self.lowered) or any(e in text for e in self.encoded)


_known: set[str] = set()
_secrets: _Secrets | None = None
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    global _secrets
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _known:
            return
        _known.add(value)
        secrets = sorted(_known, key=len, reverse=True)  # longest first: no partial leftovers
        encoded = sorted({e for s in secrets for e in _base64_forms(s)}, key=len, reverse=True)
        # Any case: an upper-cased echo is still the token. Base64 is case-sensitive.
        forms = [f"(?i:{_spread(s)})" for s in secrets] + [_spread(e) for e in encoded]
        _secrets = _Secrets(re.compile("|".join(forms)), tuple(s.lower() for s in secrets), tuple(encoded),
                            not all(s.isascii() for s in secrets))


def _spread(literal: str) -> str:
    """The literal, allowing a line break between any two of its characters."""
    return _BREAK.join(re.escape(char) for char in literal)


def _base64_forms(secret: str) -> set[str]:
    """The base64 text that encodes `secret` wherever it sits in the encoded bytes.

    Base64 maps each 3 bytes to 4 characters, so what the secret looks like depends on its offset
    modulo 3 in the whole credential ("user:token" has the token at 5, ":token" at 1, "token" at 0).
    For each of the three offsets, keep the characters made of the secret's bits only: the ones shared
    with a user name before it or padding after it vary, the run between them does not.
    """
    raw = secret.encode()
    forms = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0\0").decode()
        first = -(-8 * offset // 6)  # first character whose 6 bits all lie in the secret
        end = (8 * offset + 8 * len(raw)) // 6  # one past the last such character
        core = encoded[first:end]
        if len(core) >= _MIN_BASE64:
            forms |= {core, core.translate(_URLSAFE)}
    return forms


def redact(text: str) -> str:
    if not text:
        return text
    # Cheap substring tests first: most log lines hold no secret, no header and no "hf_".
    lowered = text.lower()
    secrets = _secrets
    if secrets is not None and secrets.maybe_in(text, lowered):
        text = secrets.pattern.sub(REDACTED, text)
    if "authorization" in lowered:
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    if "hf_" in text:
        text = _HF_TOKEN_SHAPE.sub(REDACTED, text)
    return text


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text is formatted later by the handler; pre-render it redacted.
            import traceback

            cleaned += "\n" + redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
            record.exc_text = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True
