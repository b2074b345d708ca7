"""What is on disk: sizes of variants, partials and blobs under the storage folder."""

from pathlib import Path

from downloads.cache_layout import RepoCache
from downloads.models import ModelVariant


def variant_size_on_disk(variant: ModelVariant, storage_dir: Path) -> int:
    """Bytes of the variant's installed files that are really on disk (shared blobs counted once)."""
    cache = RepoCache(storage_dir, variant.repo_id, variant.repo_type)
    files = (variant.manifest or {}).get("files", {})
    seen, total = set(), 0
    for record in files.values():
        etag = record.get("sha256") or record.get("git_sha1")
        if etag in seen:
            continue
        seen.add(etag)
        try:
            total += cache.blob_path(etag).stat().st_size
        except OSError:
            pass
    return total
