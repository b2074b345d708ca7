"""What a job's event log records (`JobEvent.kind`): one vocabulary for the engine, which reports what
happened to a file, and the app, which records what happened to the job."""

from enum import StrEnum


class EventKind(StrEnum):
    # the job, as the app sees it
    QUEUED = "queued"
    STARTED = "started"
    RESOLVED = "resolved"        # the revision's commit and file list are known
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FINISHED = "finished"
    FAILED = "failed"
    CANCEL = "cancel"            # a cancel was requested
    CANCELLED = "cancelled"
    PAUSE = "pause"              # a pause was requested
    PAUSED = "paused"
    UNPAUSED = "unpaused"        # a paused job was queued again (RESUMED is a file's partial resumed)
    LOST = "lost"                # its worker died; re-queued or failed
    BROKER = "broker"            # the task broker could not be reached
    REDISPATCH = "redispatch"    # handed to the broker again
    IMPORT = "import"
    # a file, as the engine sees it
    RESUMED = "resumed"
    RETRY = "retry"
    RESTART = "restart"          # the server ignored Range: the file starts over
    REPAIR = "repair"            # a blob on disk did not match: downloaded again
    RATE_LIMIT = "rate_limit"    # the Hub's rate limit holds the job's requests (once per stretch)
