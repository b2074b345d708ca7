"""One POST to a receiver with a deadline on the whole exchange, not on each read.

requests (like urllib3) bounds each socket read: a receiver that trickles its status line or headers a
byte at a time, each within the timeout, would hold a worker for hours. Here a watchdog shuts the
socket when the deadline passes, whatever the receiver is doing. http.client, not requests, because
the watchdog needs the socket while the response is being read. It also keeps out what a webhook has
no use for: ~/.netrc credentials, proxies from the environment, redirects (never followed).
"""

import http.client
import socket
import ssl
import threading
from urllib.parse import urlsplit


class NoAnswer(Exception):
    """The deadline passed before the receiver's answer was read."""


def post(url: str, body: bytes, headers: dict, *, deadline: float, excerpt_bytes: int) -> tuple[int, bytes]:
    """(status, the first bytes of the body). NoAnswer after `deadline` seconds; OSError (connection
    refused, TLS...) or http.client.HTTPException (not HTTP) for other failures."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=deadline,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=deadline)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(deadline, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        if expired.is_set():  # cut in the middle of the headers: http.client takes the end of input as theirs
            raise NoAnswer
        try:
            data = response.read(excerpt_bytes)
        except (OSError, http.client.HTTPException):
            data = b""  # the answer counts; its body was only for the excerpt
        return response.status, data
    except TimeoutError as exc:
        raise NoAnswer from exc
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise NoAnswer from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()
