"""What a blank Settings field means right now, and where that value comes from.

A blank field on the Settings page falls back to an environment variable (or `.env`), else to a
built-in default. The page says which, next to the field, so nobody has to read settings.py to learn
that "empty" means "https://huggingface.co, the default" or "10 GB, from MODELHUB_MIN_FREE_SPACE".
"""

import os
from dataclasses import dataclass

from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from engine.verify.completeness import DEFAULT_RULES
from modelhub.sizes import format_size
from settings_app.models import Setting


@dataclass(frozen=True)
class Fallback:
    field: str
    variable: str  # "" when no environment variable can change it
    shown: str  # the value a blank field means, as a person reads it

    @property
    def source(self) -> str:
        if self.variable and self.variable in os.environ:
            return f"from the environment variable {self.variable} (or .env)"
        if self.variable:
            return f"the built-in default; set {self.variable} in the environment to change it"
        return "the built-in default"


def fallbacks() -> dict[str, Fallback]:
    """The value each blank-able field falls back to, read from the running configuration."""
    items = [
        Fallback("hub_endpoint", "MODELHUB_HUB_ENDPOINT", settings.MODELHUB_HUB_ENDPOINT.rstrip("/")),
        Fallback("storage_dir", "MODELHUB_STORAGE_DIR", str(settings.MODELHUB_STORAGE_DIR)),
        Fallback("max_concurrent_downloads", "MODELHUB_MAX_CONCURRENT_DOWNLOADS",
                 str(settings.MODELHUB_MAX_CONCURRENT_DOWNLOADS)),
        Fallback("min_free_space", "MODELHUB_MIN_FREE_SPACE", format_size(settings.MODELHUB_MIN_FREE_SPACE)),
        Fallback("bandwidth_limit", "", "unlimited"),
    ]
    return {f.field: f for f in items}


NOTED = ("hub_endpoint", "storage_dir", "max_concurrent_downloads", "min_free_space", "bandwidth_limit",
         "completeness_rules")


RULES_EXAMPLE = '{"voice": [["*.onnx", "*.onnx.json"]]}'
RULES_HELP = format_html(
    "Which files make a model of a kind usable, for the kinds you want to change. Each kind lists "
    "alternatives; an alternative lists groups; a group is globs joined by |, and every group must match a "
    "selected file. Example: <code>{}</code> (a voice needs an .onnx file and its .onnx.json). Kinds: {}. "
    "Empty (<code>{{}}</code>) keeps the built-in rules.", RULES_EXAMPLE, ", ".join(sorted(DEFAULT_RULES)))


def builtin_rules() -> SafeString:
    """The rules in effect for every kind the field does not list, folded away (they are long)."""
    rows = format_html_join("", "<li><code>{}</code>: {}</li>", (
        (kind, " or ".join("[" + ", ".join(groups) + "]" for groups in alternatives))
        for kind, alternatives in sorted(DEFAULT_RULES.items())))
    return format_html('<details class="mh-effective" data-mh-effective="completeness_rules"><summary>'
                       "In effect for kinds not listed here: the built-in rules</summary>"
                       "<ul>{}</ul></details>", rows)


def note(setting: Setting, name: str) -> SafeString | str:
    """One line under the field: the value in effect while it is blank, or what blank would mean."""
    if name == "completeness_rules":
        return builtin_rules()
    fallback = fallbacks().get(name)
    if fallback is None:
        return ""
    saved = getattr(setting, name, None)
    if saved in (None, ""):
        return format_html('<span class="mh-effective" data-mh-effective="{}">In effect now: <strong>{}'
                           "</strong> ({}).</span>", name, fallback.shown, fallback.source)
    return format_html('<span class="mh-effective" data-mh-effective="{}">Empty would mean {} ({}).</span>',
                       name, fallback.shown, fallback.source)
