"""Can this machine talk to a Hub endpoint: the one request behind the Settings page's "Test connection".

It asks `/api/whoami-v2` without a token: a Hub answers 401 (who are you?), a mirror without whoami
answers 404, and either proves that the name resolved, TLS was accepted and an HTTP server answered.
No token is sent, so an endpoint typed but not yet trusted learns nothing. The failure is classified
by what went wrong (name, TLS, refused, timeout, HTTP status), in the words a person acts on.
"""

import socket
import ssl
import time
from dataclasses import dataclass

from engine.hub.lazy import hf
from engine.redaction import redact

PROBE_TIMEOUT = 10.0  # seconds; a person is waiting for the answer


@dataclass(frozen=True)
class Probe:
    ok: bool
    kind: str  # reachable | not_a_hub | http_error | dns | tls | refused | timeout | network
    message: str
    status: int | None = None
    elapsed_ms: int | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "kind": self.kind, "message": self.message, "status": self.status,
                "elapsed_ms": self.elapsed_ms}


def probe(endpoint: str, *, timeout: float = PROBE_TIMEOUT) -> Probe:
    endpoint = endpoint.rstrip("/")
    headers = hf.utils.build_hf_headers(token=False, library_name="modelhub")
    started = time.monotonic()
    try:
        response = hf.utils.get_session().get(f"{endpoint}/api/whoami-v2", headers=headers, timeout=timeout,
                                              follow_redirects=False)
    except hf.transport_errors as exc:
        return _failure(endpoint, exc)
    elapsed = int((time.monotonic() - started) * 1000)
    is_json = "json" in response.headers.get("Content-Type", "")
    return _answer(endpoint, response.status_code, is_json, elapsed)


def _answer(endpoint: str, status: int, is_json: bool, elapsed: int) -> Probe:
    host = _host(endpoint)
    if status in (200, 401, 403) and is_json:
        return Probe(True, "reachable", f"{endpoint} is reachable: it answered like a Hugging Face Hub "
                                        f"in {elapsed} ms.", status, elapsed)
    if status in (200, 401, 403):  # a web page, a login form or a proxy: something answers, not a Hub
        return Probe(False, "not_a_hub", f"{host} answered (HTTP {status}), but with a web page, not the "
                                         "Hub's API: check the address (the Hub's root, e.g. "
                                         "https://huggingface.co) or a proxy in between.", status, elapsed)
    if status == 404:
        return Probe(True, "reachable", f"{endpoint} is reachable (answered in {elapsed} ms). It has no "
                                        "whoami (HTTP 404), as some mirrors don't: downloads work, but "
                                        "tokens cannot be checked there.", status, elapsed)
    if 300 <= status < 400:
        return Probe(False, "http_error", f"{host} answered with a redirect (HTTP {status}). Use the "
                                          "address it redirects to, e.g. https:// instead of http://.",
                     status, elapsed)
    if status >= 500:
        return Probe(False, "http_error", f"{host} is reachable but failing: HTTP {status} (a server error). "
                                          "Try again later, or check the mirror's own logs.", status, elapsed)
    return Probe(False, "http_error", f"{host} is reachable but answered HTTP {status}: check that the "
                                      "address is the Hub's root (e.g. https://huggingface.co), not a page "
                                      "on it.", status, elapsed)


def _failure(endpoint: str, exc: BaseException) -> Probe:
    host = _host(endpoint)
    causes = _chain(exc)
    if any(isinstance(c, socket.gaierror) for c in causes) or _says(causes, "name or service not known",
                                                                    "name resolution", "getaddrinfo"):
        return Probe(False, "dns", f"The name {host} could not be found (DNS). Check the spelling, or this "
                                   "server's DNS and network.")
    if any(isinstance(c, ssl.SSLError) for c in causes) or _says(causes, "ssl", "certificate"):
        detail = redact(str(next((c for c in causes if isinstance(c, ssl.SSLError)), exc)))[:200]
        return Probe(False, "tls", f"{host} answered, but the secure connection (TLS) failed: {detail}. "
                                   "A self-signed or expired certificate, or https:// to a server that "
                                   "speaks plain http://.")
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return Probe(False, "refused", f"{host} refused the connection: nothing listens on that port. "
                                       "Check the port and that the Hub or mirror is running.")
    if any(isinstance(c, TimeoutError | socket.timeout) for c in causes) or "Timeout" in type(exc).__name__:
        return Probe(False, "timeout", f"{host} did not answer within {PROBE_TIMEOUT:g} s: a firewall, a "
                                       "proxy, or the server is down.")
    return Probe(False, "network", f"Could not connect to {host}: {redact(str(exc))[:200]}")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _says(causes: list[BaseException], *words: str) -> bool:
    text = " ".join(str(c) for c in causes).lower()
    return any(w in text for w in words)


def _host(endpoint: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(endpoint).netloc or endpoint
