"""The first lines of a repo's model card (its README.md), as plain text for Add from Hub.

The card is whatever the repo's authors (or a mirror) wrote: markdown with YAML front matter, HTML,
images, sometimes megabytes. Only the start is read (`MAX_BYTES`), the front matter (machine metadata
the Hub already sends as cardData) is dropped, HTML tags and markdown images are removed so the words
read well, and the result is capped. It is text: the page escapes it like any other value.
"""

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from engine.hub.lazy import hf

MAX_BYTES = 64 * 1024  # a card's first lines are in its first kilobytes; never read a huge README whole
MAX_LINES = 12
MAX_LINE = 300
MAX_CHARS = 1500
MAX_REDIRECTS = 3
TIMEOUT = 15.0  # seconds: the card is a nicety, the page must not wait a minute for it

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n.*?^(?:---|\.\.\.)[ \t]*$\r?\n?", re.S | re.M)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_CODE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)  # their text is not prose
_TAG = re.compile(r"<[^>]{0,2000}>")
_IMAGE = re.compile(r"!\[[^\]]{0,500}\]\([^)]{0,2000}\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class CardText:
    text: str  # plain text, "" when there is none
    problem: str = ""  # why there is no text, said plainly


def read_card(client, repo_id: str, repo_type: str, commit: str) -> CardText:
    """The card's first lines at `commit`; never raises for what the server does (a card is optional)."""
    url = client.file_url(repo_id, repo_type, commit, "README.md")
    try:
        status, body = _fetch(client, url)
    except (*hf.transport_errors, *hf.redirect_errors) as exc:
        return CardText("", f"the model card could not be read ({type(exc).__name__})")
    if status == 0:
        return CardText("", "the model card could not be read (the server kept redirecting)")
    if status == 404:
        return CardText("", "this repository has no model card (README.md)")
    if status in (401, 403):
        return CardText("", "the model card is not readable with the current token")
    if status != 200:
        return CardText("", f"the model card could not be read (HTTP {status})")
    text = first_lines(body.decode("utf-8", errors="replace"))
    return CardText(text, "" if text else "the model card has no text beside its metadata")


def first_lines(markdown: str) -> str:
    """The card's opening text: no front matter, comments, tags or images; at most MAX_LINES lines."""
    text = _FRONT_MATTER.sub("", markdown, count=1)
    text = _IMAGE.sub("", _TAG.sub("", _CODE.sub("", _COMMENT.sub("", text))))
    lines = []
    for raw in text.splitlines():
        line = _CONTROL.sub("", raw).strip()
        if not line or set(line) <= set("-=*_|: "):  # blank lines, rules and table borders say nothing
            continue
        lines.append(line if len(line) <= MAX_LINE else line[:MAX_LINE - 1] + "…")
        if len(lines) == MAX_LINES:
            break
    joined = "\n".join(lines)
    return joined if len(joined) <= MAX_CHARS else joined[:MAX_CHARS - 1] + "…"


def _fetch(client, url: str) -> tuple[int, bytes]:
    """(status, the first MAX_BYTES of the body). Redirects are followed here, a few at most, so the
    token goes only where `client.headers_for` allows (never to a CDN)."""
    session = hf.utils.get_session()
    for _ in range(MAX_REDIRECTS + 1):
        with session.stream("GET", url, headers=client.headers_for(url), timeout=TIMEOUT,
                            follow_redirects=False) as response:
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_BYTES:
                    break
            return response.status_code, bytes(body[:MAX_BYTES])
    return 0, b""  # redirected without end
