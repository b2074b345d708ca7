"""The variant list's own cells and its header line: size (the expected size while a download runs),
the repo type and kind with when the variant was added, and the total on disk of what the list shows.

Relative times ("3 min ago") carry the exact time in their title, shown on hover.
"""

import shutil
from pathlib import Path

from django.db.models import Count, Sum
from django.utils.html import format_html
from django.utils.safestring import SafeString

from downloads.admin.display import exact_time, human_size, relative_time
from downloads.models import DownloadJob, ModelVariant, VariantStatus


def ago(moment, prefix: str = "") -> SafeString:
    """ "added 3 min ago", the exact time on hover."""
    if moment is None:
        return format_html("")
    return format_html('<span class="mh-ago" title="{}">{}{}</span>', exact_time(moment), prefix,
                       relative_time(moment))


def kind_line(variant: ModelVariant) -> SafeString:
    """Repo type (always: a dataset and a model of one name are different things), kind, and age."""
    kind = format_html(" · {}", variant.kind) if variant.kind and variant.kind != "auto" else ""
    return format_html('<span class="mh-sub mh-kind-line"><span class="mh-repo-type" data-mh-repo-type="{}">'
                       "{}</span>{} · {}</span>", variant.repo_type, variant.get_repo_type_display().lower(),
                       kind, ago(variant.created_at, "added "))


def size_cell(variant: ModelVariant, job: DownloadJob | None) -> SafeString:
    """Installed: its size. Downloading: the size the running job expects (not "—" until it ends).
    Not (yet) installed with a known size: that size, marked expected."""
    if variant.status == VariantStatus.INSTALLED and variant.size_bytes is not None:
        return format_html("{}", human_size(variant.size_bytes))
    expected = job.bytes_total if job is not None and job.bytes_total else variant.size_bytes
    if not expected:
        return format_html("{}", human_size(None))
    return format_html('<span class="mh-expected" title="the size of the files this variant selects">{}'
                       '<span class="mh-sub">expected</span></span>', human_size(expected))


def list_totals(queryset, storage_dir: Path) -> SafeString:
    """One line above the list: installed variants in it and their size on disk, and the free space."""
    installed = queryset.order_by().filter(status=VariantStatus.INSTALLED).aggregate(
        n=Count("pk"), size=Sum("size_bytes"))
    free = _free_space(storage_dir)
    free_text = format_html(" · {} free on the storage volume", human_size(free)) if free is not None else ""
    return format_html('<p id="mh-list-total" class="mh-list-total"><strong>{}</strong> on disk in {} '
                       "installed variant{}{}</p>", human_size(installed["size"] or 0), installed["n"],
                       "" if installed["n"] == 1 else "s", free_text)


def _free_space(path: Path) -> int | None:
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:  # a storage folder not made yet: its volume
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None
