"""The token is redacted in every form an echoing server or a wrapped log line may give it back."""

import base64
import logging
import secrets
import string

import pytest

from engine import redaction
from engine.redaction import REDACTED, RedactTokensFilter, redact, register_secret


@pytest.fixture
def token() -> str:
    # Not hf_-shaped on purpose: the generic "hf_..." pattern must not be what catches it.
    alphabet = string.ascii_letters + string.digits
    value = "tok" + "".join(secrets.choice(alphabet) for _ in range(34))
    register_secret(value)
    return value


def assert_gone(text: str, token: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    for form in (token, token.lower(), token.upper()):
        assert form not in cleaned
    squeezed = cleaned.replace("\r", "").replace("\n", "").replace("\\n", "").replace("\\r", "")
    assert token.lower() not in squeezed.lower()
    for offset in range(3):  # no base64 run long enough to carry the token survives either
        core = base64.b64encode(b"\0" * offset + token.encode())[4:-4].decode()
        assert core not in squeezed


@pytest.mark.parametrize("case", [str.upper, str.lower, str.swapcase, str.title])
def test_it_redacts_the_token_in_any_case(token, case):
    assert_gone(f"401: invalid token {case(token)}", token)


@pytest.mark.parametrize("credential",
                         ["{t}", ":{t}", "user:{t}", "a:{t}", "hf_user:{t}", "{t}:x-oauth-basic"])
def test_it_redacts_the_token_inside_base64_basic_credentials(token, credential):
    encoded = base64.b64encode(credential.format(t=token).encode()).decode()
    # What an echoing proxy sends back in an error body: the header, and the bare value elsewhere.
    assert_gone(f"echo: Authorization: Basic {encoded}", token)
    assert_gone(f'{{"error": "bad credentials", "seen": "{encoded}"}}', token)
    assert_gone(f"seen {base64.urlsafe_b64encode(credential.format(t=token).encode()).decode()}", token)


def test_it_redacts_base64_wrapped_over_lines(token):
    wrapped = base64.encodebytes(("x" * 70 + ":" + token).encode()).decode()  # MIME: 76 chars, then \n
    assert "\n" in wrapped.strip()
    assert_gone(f"body:\n{wrapped}", token)


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\\n", "\\r\\n", "\r\n    ", "\n\t"])
def test_it_redacts_the_token_split_over_two_lines(token, brk):
    for cut in (1, 5, len(token) // 2, len(token) - 1):
        assert_gone(f"line one {token[:cut]}{brk}{token[cut:]} rest", token)


def test_it_redacts_a_token_split_over_several_lines_and_upper_cased(token):
    upper = token.upper()
    assert_gone(f"{upper[:10]}\r\n{upper[10:20]}\r\n{upper[20:]}", token)


def test_ordinary_text_is_left_alone(token):
    text = "GET /api/models/org/x/revision/main 200 in 0.1 s\nauthorization failed for user bob"
    assert redact(text) == text
    assert redact("") == "" and redact(None) is None


def test_authorization_headers_are_redacted_even_for_unknown_credentials():
    assert redact("Authorization: Basic dXNlcjpzb21ldGhpbmc=") == f"Authorization: Basic {REDACTED}"
    assert redact("'authorization': 'Bearer abc.def'") == f"'authorization': 'Bearer {REDACTED}'"


def test_forms_are_compiled_when_registered_not_per_line(token, monkeypatch):
    def no_compile(*args, **kwargs):
        raise AssertionError("redact() compiled a pattern")

    monkeypatch.setattr(redaction.re, "compile", no_compile)
    for text in (f"x {token.upper()}", f"x {token[:4]}\n{token[4:]}", "nothing here", "x\ny"):
        redact(text)


def test_registering_again_keeps_earlier_secrets(token):
    other = "sec" + secrets.token_hex(16)
    register_secret(other)
    register_secret(other)
    assert redact(f"{token} {other.upper()}") == f"{REDACTED} {REDACTED}"


def test_log_filter_redacts_every_form(token):
    encoded = base64.b64encode(f"user:{token}".encode()).decode()
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "server said %s / %s / %s",
                               (token.upper(), encoded, f"{token[:9]}\r\n{token[9:]}"), None)
    RedactTokensFilter().filter(record)
    message = record.getMessage()
    assert message.count(REDACTED) == 3
    assert token.lower() not in message.lower().replace("\r\n", "")
