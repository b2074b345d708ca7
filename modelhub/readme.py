"""The README as a page of the admin ("Docs" in the header): what the admin's "View site" link opens.

ModelHub has no public site; what a staff user looks for when they leave the admin is how things work.
The README is rendered by a small Markdown subset renderer (headings with anchors, paragraphs, lists,
fenced code, tables, `code`, **bold**, links and the screenshots in docs/) rather than a dependency:
the README is ours, and it uses only these. Everything is escaped; links are http(s), #anchors or
docs/ images only.
"""

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify

DOCS_DIR = Path(settings.BASE_DIR) / "docs"
_BULLET = re.compile(r"^(\s*)([-*]|\d{1,2}\.)\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_INLINE = re.compile(r"!\[([^\]]*)\]\(docs/([\w.-]+\.png)\)|\[([^\]]+)\]\(((?:https?://|#)[^)\s]+)\)"
                     r"|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")
_IMAGE_NAME = re.compile(r"^[\w-]+\.png$")


def inline(text: str, image_url) -> str:
    """One line of Markdown text as HTML: `code` first (nothing inside it is markup), then the rest."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{escape(part[1:-1])}</code>")
            continue
        at, pieces = 0, []
        for m in _INLINE.finditer(part):
            pieces.append(escape(part[at:m.start()]))
            if m.group(2):
                pieces.append(f'<img src="{escape(image_url(m.group(2)))}" alt="{escape(m.group(1))}" '
                              'loading="lazy">')
            elif m.group(3):
                pieces.append(f'<a href="{escape(m.group(4))}">{escape(m.group(3))}</a>')
            elif m.group(5):
                pieces.append(f"<strong>{escape(m.group(5))}</strong>")
            else:
                pieces.append(f"<em>{escape(m.group(6))}</em>")
            at = m.end()
        pieces.append(escape(part[at:]))
        out.append("".join(pieces))
    return "".join(out)


def render_markdown(text: str, image_url=lambda name: name) -> str:
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
            out.append(f"<pre><code>{escape(chr(10).join(lines[i + 1:end]))}</code></pre>")
            i = end + 1
        elif m := _HEADING.match(line):
            level, title = len(m.group(1)), m.group(2).strip()
            out.append(f'<h{level} id="{slugify(title)}">{inline(title, image_url)}</h{level}>')
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip().strip("|"))])
                i += 1
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            head = "".join(f"<th>{inline(c, image_url)}</th>" for c in rows[0])
            cells = "".join("<tr>" + "".join(f"<td>{inline(c.replace(chr(92) + '|', '|'), image_url)}</td>"
                                             for c in r) + "</tr>" for r in body)
            out.append(f'<div class="mh-doc-table"><table><thead><tr>{head}</tr></thead>'
                       f"<tbody>{cells}</tbody></table></div>")
        elif m := _BULLET.match(line):
            tag = "ol" if m.group(2)[0].isdigit() else "ul"
            items: list[str] = []
            while i < len(lines):
                current = lines[i]
                if bullet := _BULLET.match(current):
                    items.append(bullet.group(3))
                elif current.strip() and current.startswith(" ") and items:
                    items[-1] += " " + current.strip()
                else:
                    break
                i += 1
            out.append(f"<{tag}>" + "".join(f"<li>{inline(t, image_url)}</li>" for t in items) + f"</{tag}>")
        elif not line.strip():
            i += 1
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not (
                    lines[i].startswith(("```", "|", "#")) or _BULLET.match(lines[i])):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{inline(' '.join(para), image_url)}</p>")
    return "\n".join(out)


def readme_view(request):
    text = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    html = render_markdown(text, lambda name: reverse("modelhub-docs-image", args=[name]))
    from django.contrib import admin

    return render(request, "admin/readme.html", {**admin.site.each_context(request), "title": "ModelHub docs",
                                                 "readme": mark_safe(html)})


def image_view(request, name: str):
    """A screenshot from docs/: PNG files by plain name only, never a path."""
    path = DOCS_DIR / name
    if not _IMAGE_NAME.match(name) or not path.is_file():
        raise Http404("no such image")
    return FileResponse(path.open("rb"), content_type="image/png")
