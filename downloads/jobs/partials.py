"""What a stopped download left on disk for the next one: read from the storage folder, not assumed.

The job page words its advice with it ("the 1.2 GB already downloaded will be reused" or "nothing was
kept"): a cancel keeps partial files, but Clean up, `hf cache prune` or a person may remove them later.
"""

from downloads.models import DownloadJob, JobKind, JobState
from engine.cache.layout import repo_folder_name
from engine.cache.scan import scan_repo
from settings_app.models import Setting

STOPPED = (JobState.FAILED, JobState.CANCELLED, JobState.PAUSED)


def kept_bytes(job: DownloadJob) -> int | None:
    """Bytes in the variant's repo folder a new download would reuse: partial files, and whole blobs no
    snapshot links yet (fetched by a run that stopped before linking them). None when it does not apply:
    a verify, a job still active or that succeeded, or one a later download of the variant followed
    (what is on disk is that one's business now)."""
    if job.kind == JobKind.VERIFY or job.state not in STOPPED:
        return None
    later = DownloadJob.objects.filter(variant=job.variant_id, pk__gt=job.pk).exclude(kind=JobKind.VERIFY)
    if later.exists():
        return None
    variant = job.variant
    folder = repo_folder_name(variant.repo_id, variant.repo_type)
    repo = scan_repo(Setting.load().effective_storage_dir, folder)
    linked = repo.linked_blobs
    return repo.partial_bytes + sum(b.size for name, b in repo.blobs.items() if name not in linked)
