"""Old dotted paths of two tasks, for tasks queued (or schedules saved) before they moved to
downloads.tasks. Migration 0010 points the schedule at the new path; this answers the queue."""

from downloads.tasks import check_updates, import_snapshots

__all__ = ["check_updates", "import_snapshots"]
