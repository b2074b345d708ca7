"""Sane bounds for the numbers on the Settings page and in `manage.py configure`, with messages that say
why a value is refused and what to type instead (not "Ensure this value is greater than or equal to 1").

The model's validators still guard the database's range; these are the limits a person should meet.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.limits import MAX_PARALLEL_FILES, MAX_SEGMENTS_PER_FILE
from modelhub.sizes import format_size

MAX_CONCURRENT_DOWNLOADS = 64
MAX_REVERIFY_HOURS = 24 * 366
MIN_SEGMENT_SIZE = 1000**2
MIN_BANDWIDTH = 100 * 1000


@dataclass(frozen=True)
class Bound:
    low: int | None
    high: int | None
    too_low: str
    too_high: str = ""


BOUNDS: dict[str, Bound] = {
    "max_concurrent_downloads": Bound(
        1, MAX_CONCURRENT_DOWNLOADS,
        "At least 1 download must be able to run; leave the field empty for the default.",
        f"At most {MAX_CONCURRENT_DOWNLOADS} downloads at once: more share the same network and disk and "
        "only slow each other down."),
    "max_parallel_files": Bound(
        1, MAX_PARALLEL_FILES, "At least 1 file at a time.",
        f"At most {MAX_PARALLEL_FILES} files per job at once."),
    "segments_per_file": Bound(
        0, MAX_SEGMENTS_PER_FILE, "0 means automatic, 1 one stream per file; it cannot be negative.",
        f"At most {MAX_SEGMENTS_PER_FILE} connections per file."),
    "reverify_interval_hours": Bound(
        0, MAX_REVERIFY_HOURS, "Hours cannot be negative; 0 turns periodic re-verification off.",
        f"At most {MAX_REVERIFY_HOURS} hours (a year); use 0 to turn periodic re-verification off."),
    "segment_min_size": Bound(
        MIN_SEGMENT_SIZE, None,
        f"Use at least {format_size(MIN_SEGMENT_SIZE)}: smaller segments cost more in requests than they "
        "gain, e.g. 64MB."),
    "bandwidth_limit": Bound(
        MIN_BANDWIDTH, None,
        f"Use at least {format_size(MIN_BANDWIDTH)}/s, e.g. 50MB: slower than that, a download's "
        "connections get so little each that they are dropped as stalled. Leave it empty for unlimited."),
    "min_free_space": Bound(0, None, "Free space to keep cannot be negative; 0 keeps nothing back."),
}


def free_space_problem(min_free: int | None, folder: Path) -> str:
    """Keeping more free than the storage volume holds would refuse every download: say so."""
    if not min_free:
        return ""
    probe = folder
    while not probe.exists() and probe != probe.parent:  # a folder not made yet: the volume it lands on
        probe = probe.parent
    try:
        total = shutil.disk_usage(probe).total
    except OSError:
        return ""
    if min_free >= total:
        return (f"{format_size(min_free)} is more than the whole storage volume ({format_size(total)}): "
                "every download would be refused for lack of space. Use a part of it, e.g. 10GB.")
    return ""


def problem(name: str, value: int | None) -> str:
    """Why `value` is refused for the field `name`, or "" (also for an empty value or an unknown name)."""
    bound = BOUNDS.get(name)
    if bound is None or value is None:
        return ""
    if bound.low is not None and value < bound.low:
        return bound.too_low
    if bound.high is not None and value > bound.high:
        return bound.too_high
    return ""
