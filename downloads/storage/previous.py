"""Folders that were the storage folder before Settings pointed elsewhere, and what a folder holds.

They stay on the Storage page, and Delete files works in them, until nothing is left: the files there
are ModelHub's own, unlike another tool's cache found by a scan (Clean up stays in the storage folder).
"""

import os
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from downloads.models import ModelVariant, PreviousStorage
from downloads.storage.overview import variant_home
from engine.cache.scan import scan_cache


@dataclass
class FolderContents:
    """What a storage folder holds, as the Settings page shows it before the folder changes."""

    path: Path
    variants: list[ModelVariant]  # installed there
    repos: int
    snapshots: int
    bytes: int  # blobs and partials

    @property
    def empty(self) -> bool:
        # Empty folders, locks and tree listings left by a delete hold nothing anyone could use.
        return not (self.variants or self.snapshots or self.bytes)


def same_folder(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def installed_in(folder: Path) -> list[ModelVariant]:
    """Variants whose installed files live in `folder` (their local path is a snapshot there)."""
    return [v for v in ModelVariant.objects.exclude(local_path="").order_by("repo_id", "name", "pk")
            if v.installed_files and same_folder(variant_home(v, folder), folder)]


def contents(folder: Path) -> FolderContents:
    scan = scan_cache(folder)
    return FolderContents(Path(folder), installed_in(folder), len(scan.repos),
                          sum(len(r.snapshots) for r in scan.repos),
                          sum(r.blob_bytes + r.partial_bytes for r in scan.repos))


def remember(old: Path) -> None:
    """The old folder stays on the Storage page until it is empty (see `previous_folders`)."""
    PreviousStorage.objects.update_or_create(path=str(old), defaults={"left_at": timezone.now()})


def previous_folders(storage: Path) -> list[Path]:
    """Earlier storage folders that still hold something; the empty (or vanished) ones are forgotten,
    and so is the current folder when Settings point back at it."""
    kept = []
    for row in PreviousStorage.objects.all():
        path = Path(row.path)
        if same_folder(path, storage) or contents(path).empty:
            row.delete()
        else:
            kept.append(path)
    return kept
