"""Add from Hub: will a choice fit? On the storage volume, and (for GGUF) in the RAM of the machine that
will run it. Read-only: what the page shows beside each choice; the download itself re-checks space
(engine.cache.space) with the same rule."""

import os
from dataclasses import dataclass
from pathlib import Path

from downloads.admin.display import human_size
from downloads.storage.overview import volume_usage
from engine import catalog
from engine.cache.layout import RepoCache
from engine.transfer.segments import present_bytes

GIB = 1024**3
# RAM is sold and reported in binary units, which people call "GB": 16 GB of RAM is 16 GiB.
RAM_OVERHEAD_FACTOR = 1.2
RAM_OVERHEAD_FIXED = 1 * GIB
SESSION_KEY = "modelhub_ram_gib"


def machine_ram_gib() -> float:
    """This machine's RAM (the default for the machine that will run the model), or 0 when unknown."""
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1)
    except (ValueError, OSError, AttributeError):
        return 0.0


def ram_needed(size: int) -> int:
    """RAM a GGUF model needs to run, roughly: llama.cpp maps the whole file into memory, plus 20 % for
    the KV cache and compute buffers of a few-thousand-token context, plus 1 GiB for the runtime and
    the system around it. A rule of thumb for the hint, not a promise: long contexts need more."""
    return int(size * RAM_OVERHEAD_FACTOR) + RAM_OVERHEAD_FIXED


def ram_text(need: int, ram_gib: float) -> tuple[bool, str]:
    """(fits, what the page says), e.g. (True, "fits in 16 GB RAM (needs ~5.3 GB)")."""
    if need <= ram_gib * GIB:
        return True, f"fits in {ram_gib:g} GB RAM (needs ~{need / GIB:.1f} GB)"
    return False, f"needs ~{need / GIB:.1f} GB RAM, more than {ram_gib:g} GB"


@dataclass(frozen=True)
class Space:
    free: int | None  # free bytes on the storage volume; None when it cannot be read
    min_free: int  # what Settings keeps free


def still_to_download(overview, storage: Path, paths: tuple[str, ...]) -> tuple[int, int]:
    """(bytes still to fetch, bytes already on disk) for `paths`: a blob already in the cache (shared
    with an installed variant) and bytes already in a partial are not fetched again, and a blob two
    paths share is counted once; the same rule as engine.cache.space.check_space."""
    by_path = {f.path: f for f in overview.files}
    cache = RepoCache(storage, overview.repo_id, overview.repo_type)
    needed = present = 0
    seen = set()
    for path in paths:
        f = by_path.get(path)
        if f is None or f.etag in seen:
            continue
        seen.add(f.etag)
        try:
            if cache.blob_path(f.etag).exists():
                present += f.size
                continue
            partial = present_bytes(cache.partial_path(f.etag))
        except (OSError, ValueError):  # a name the cache refuses: it is fetched (and refused) later
            partial = 0
        present += min(partial, f.size)
        needed += max(0, f.size - partial)
    return needed, present


def space_text(needed: int, present: int, space: Space) -> tuple[bool | None, str]:
    """(fits, what the page says) for a choice against the storage volume."""
    already = f"; {human_size(present)} already on disk" if present else ""
    if space.free is None:
        return None, f"free space unknown (the storage folder cannot be read){already}"
    if needed == 0 and present:
        return True, "already on disk: nothing to download"
    kept = f" with {human_size(space.min_free)} kept free" if space.min_free else ""
    if needed + space.min_free <= space.free:
        return True, f"fits: {human_size(needed)} of {human_size(space.free)} free{already}"
    return False, f"does not fit: needs {human_size(needed)}, {human_size(space.free)} free{kept}{already}"


def annotate(choices: list[catalog.Choice], overview, setting, ram_gib: float) -> dict[str, dict]:
    """Per choice key: space (fits, text), RAM for GGUF (fits, text, need), recommended."""
    storage = Path(setting.effective_storage_dir)
    usage = volume_usage(storage)
    space = Space(usage.free if usage else None, setting.effective_min_free_space)
    best = catalog.recommended(choices)
    rows = {}
    for choice in choices:
        row: dict = {"recommended": best is not None and choice.key == best.key}
        if overview.access_error is None:
            needed, present = still_to_download(overview, storage, choice.files)
            row["fits"], row["space"] = space_text(needed, present, space)
        else:
            row["fits"], row["space"] = None, "unknown until the files can be listed"
        if choice.key.startswith("gguf:") and not choice.name.lower().startswith("mmproj") and choice.size:
            need = ram_needed(choice.size)
            row["ram_need"] = need
            row["ram_fits"], row["ram"] = ram_text(need, ram_gib) if ram_gib else (None, "")
        rows[choice.key] = row
    return rows
