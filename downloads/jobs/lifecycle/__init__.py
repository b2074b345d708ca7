"""Every state transition, in one place: the job's (jobs.py) and the variant's (variants.py).

A job: created queued (services.enqueue) -> running (claim) -> verifying -> succeeded | failed |
cancelled (finish). A queued job, or one whose worker is gone, is cancelled at once (cancel_now);
a running one is asked (request_cancel). Pausing is a cancel that ends as paused (pause_now,
request_pause), and a paused job is queued again as it is (unpause); a new download of the variant
replaces it (supersede_paused). A running job whose worker died fails as worker_lost (mark_lost) and
the services queue its next attempt. Each transition is one conditional UPDATE, so of two processes
racing for a job exactly one wins, and a run that lost its job touches nothing.

A variant: not_downloaded -> queued -> downloading -> installed | failed | corrupt; a cancelled or
paused job returns it to what its files on disk support: installed only if it was installed and
nothing changed, else partial or paused with the bytes kept, else not_downloaded.
"""

from downloads.jobs.lifecycle.jobs import (
    cancel_now,
    claim,
    finish,
    mark_lost,
    pause_now,
    request_cancel,
    request_pause,
    resolved,
    start_verifying,
    supersede_paused,
    unpause,
)
from downloads.jobs.lifecycle.variants import (
    READ_ONLY,
    STORAGE_GONE,
    variant_after_job,
    variant_files_deleted,
    variant_installed,
    variant_pending_import,
    variant_queued,
    variant_started,
    variant_storage_gone,
    variant_storage_read_only,
    variant_storage_writable,
    variant_upstream_checked,
)

__all__ = [
    "READ_ONLY", "STORAGE_GONE", "cancel_now", "claim", "finish", "mark_lost", "pause_now", "request_cancel",
    "request_pause", "resolved", "start_verifying", "supersede_paused", "unpause", "variant_after_job",
    "variant_files_deleted", "variant_installed", "variant_pending_import", "variant_queued",
    "variant_started", "variant_storage_gone", "variant_storage_read_only", "variant_storage_writable",
    "variant_upstream_checked",
]
