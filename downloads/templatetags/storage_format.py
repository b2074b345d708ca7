"""Template filters of the Storage pages: sizes as the Hub shows them, ages, short commits."""

from django import template

from modelhub.sizes import format_size

register = template.Library()


@register.filter
def human_size(value) -> str:
    return format_size(value)


@register.filter
def age(seconds) -> str:
    """Seconds as the one unit a person reads at a glance: 45 s, 12 min, 5.2 h, 3 d."""
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


@register.filter
def short_commit(commit) -> str:
    return (commit or "")[:12]
