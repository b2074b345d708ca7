"""The one error type a job can fail with: a stable code, a message, and the facts guidance needs.

Hub, transfer, storage and verification code raise JobError (or a subclass); the runner stores
`code`, the redacted `message` and the guidance built from `context` on the job row.
"""

from engine.redaction import redact


class JobError(Exception):
    def __init__(self, code: str, message: str, **context):
        self.code = code
        self.message = redact(message)
        self.context = context
        super().__init__(f"{code}: {self.message}")


class HubError(JobError):
    """Raised by downloads.hub: the Hub refused or could not answer."""


class TransferError(JobError):
    """Raised by downloads.transfer: bytes could not be fetched or written."""


class JobCancelled(JobError):
    def __init__(self, message: str = "Cancelled on request; partial files were kept for resuming."):
        super().__init__("cancelled", message)
