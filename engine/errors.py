"""The one error type a job can fail with: a stable code, a message, and the facts guidance needs.

Hub, transfer, storage and verification code raise JobError (or a subclass); the runner stores
`code`, the redacted `message` and the guidance built from `context` on the job row. The codes are
one vocabulary, `ErrorCode`, shared by the engine, the job rows (`DownloadJob.error_code`), the
guidance texts, `--json` output and the README's troubleshooting table.
"""

from enum import StrEnum

from engine.redaction import redact


class ErrorCode(StrEnum):
    GATED_NO_TOKEN = "gated_no_token"
    GATED_NO_ACCESS = "gated_no_access"
    TOKEN_INVALID = "token_invalid"
    REPO_NOT_FOUND = "repo_not_found"
    REVISION_NOT_FOUND = "revision_not_found"
    FILE_NOT_FOUND = "file_not_found"
    RATE_LIMITED = "rate_limited"
    NETWORK = "network"
    SERVER_ERROR = "server_error"
    INSUFFICIENT_SPACE = "insufficient_space"
    DISK_FULL = "disk_full"
    VERIFICATION_FAILED = "verification_failed"
    UNSAFE_PATH = "unsafe_path"
    PROTOCOL_ERROR = "protocol_error"
    NAME_TOO_LONG = "name_too_long"
    PATH_CONFLICT = "path_conflict"
    REDIRECT_LOOP = "redirect_loop"
    INCOMPLETE = "incomplete"
    FORMAT_INVALID = "format_invalid"
    TOKEN_UNCONFIRMED = "token_unconfirmed"
    CANCELLED = "cancelled"
    WORKER_LOST = "worker_lost"
    STORAGE_ERROR = "storage_error"
    INVALID_INPUT = "invalid_input"
    INTERNAL_ERROR = "internal_error"


class JobError(Exception):
    def __init__(self, code: ErrorCode | str, message: str, **context):
        self.code = ErrorCode(code)  # an unknown code is a bug: it would have no guidance
        self.message = redact(message)
        self.context = context
        super().__init__(f"{self.code}: {self.message}")


class HubError(JobError):
    """Raised by engine.hub: the Hub refused or could not answer."""


class JobCancelled(JobError):
    def __init__(self, message: str = "Cancelled on request; partial files were kept for resuming."):
        super().__init__(ErrorCode.CANCELLED, message)
