"""Which error code a refusal from the Hub means, for metadata calls (huggingface_hub's exceptions)
and file downloads (status and headers), so every refusal is classified in one place."""

from engine.errors import ErrorCode, HubError
from engine.hub.lazy import hf
from engine.redaction import redact
from engine.retrying import parse_retry_after


class Refusals:
    """Mixed into HubClient: reads `endpoint`, `token`, `token_source`, `token_problem` and asks
    `token_is_valid()` (a gated or missing repo looks the same as a bad token until whoami says)."""

    def error_for_response(self, status: int, headers, *, repo_id: str, repo_type: str, revision: str,
                           path: str) -> HubError:
        """Classify a failed file GET (no exception object: transfer uses requests, not httpx)."""
        code_hdr = headers.get("X-Error-Code", "")
        message = headers.get("X-Error-Message", "") or f"HTTP {status}"
        ctx = {"repo_id": repo_id, "repo_type": repo_type, "revision": revision}
        if code_hdr == "GatedRepo" or (status in (401, 403) and "gated" in message.lower()):
            return self._gated_error(message, ctx)
        if code_hdr == "RepoNotFound":
            return self._not_found_error(message, ctx)
        if code_hdr == "RevisionNotFound":
            return HubError(ErrorCode.REVISION_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if code_hdr == "EntryNotFound" or status == 404:
            return HubError(ErrorCode.FILE_NOT_FOUND, f"{path}: {message}", endpoint=self.endpoint,
                            files=[path], **ctx)
        if status < 500 and status not in (401, 403, 429):
            message = f"Unexpected HTTP {status} for {path}: {message}"
        return self._by_status(status, message, headers.get("Retry-After"), ctx)

    # --- internals

    def _map(self, exc: Exception, ctx: dict) -> HubError:
        message = redact(_message(exc))
        if isinstance(exc, hf.errors.GatedRepoError):
            return self._gated_error(message, ctx)
        if isinstance(exc, hf.errors.RevisionNotFoundError):
            return HubError(ErrorCode.REVISION_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.RemoteEntryNotFoundError | hf.errors.EntryNotFoundError):
            return HubError(ErrorCode.FILE_NOT_FOUND, message, endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.DisabledRepoError):
            return HubError(ErrorCode.REPO_NOT_FOUND, f"{message} (the repository is disabled)",
                            endpoint=self.endpoint, **ctx)
        if isinstance(exc, hf.errors.RepositoryNotFoundError):
            return self._not_found_error(message, ctx)
        return self._by_status(status_of(exc), message, header_of(exc, "Retry-After"), ctx)

    def _by_status(self, status: int | None, message: str, retry_after: str | None, ctx: dict) -> HubError:
        """What a refusal without a more specific Hub error code means."""
        if status == 401:
            return self._unauthorized_error(message, ctx)
        if status == 403:
            return self._gated_error(message, ctx)
        if status == 429:
            return HubError(ErrorCode.RATE_LIMITED, message, endpoint=self.endpoint,
                            retry_after=parse_retry_after(retry_after), **ctx)
        return HubError(ErrorCode.SERVER_ERROR, message, endpoint=self.endpoint, status=status, **ctx)

    def _held_back_error(self, message: str, ctx: dict) -> HubError:
        return HubError(ErrorCode.TOKEN_UNCONFIRMED, f"{self.token_problem} ({message})",
                        endpoint=self.endpoint, **ctx)

    def _gated_error(self, message: str, ctx: dict) -> HubError:
        if not self.token and self.token_problem:
            return self._held_back_error(message, ctx)
        if not self.token:
            return HubError(ErrorCode.GATED_NO_TOKEN,
                            f"{ctx.get('repo_id')} is gated and no HF token is configured. "
                            f"({message})", endpoint=self.endpoint, **ctx)
        valid, user = self.token_is_valid()
        if valid is False:
            return HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                            endpoint=self.endpoint, token_source=self.token_source, **ctx)
        return HubError(ErrorCode.GATED_NO_ACCESS, f"The token ({self.token_source}) has no access to "
                        f"{ctx.get('repo_id')}. ({message})", endpoint=self.endpoint, user=user, **ctx)

    def _not_found_error(self, message: str, ctx: dict) -> HubError:
        # A private repo looks "not found" to a bad token: ask whoami before blaming the repo id.
        if self.token and self.token_is_valid()[0] is False:
            return HubError(ErrorCode.TOKEN_INVALID, f"The Hub rejected the token ({self.token_source}).",
                            endpoint=self.endpoint, token_source=self.token_source, **ctx)
        # "not found" or private: either way, say a token is held back
        if not self.token and self.token_problem:
            message = f"{message}. If the repository is private: {self.token_problem}"
        return HubError(ErrorCode.REPO_NOT_FOUND, message, endpoint=self.endpoint, **ctx)

    def _unauthorized_error(self, message: str, ctx: dict) -> HubError:
        if not self.token:
            return HubError(ErrorCode.REPO_NOT_FOUND, f"{message} (private repositories need a token)",
                            endpoint=self.endpoint, **ctx)
        return self._not_found_error(message, ctx)


def status_of(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def header_of(exc: Exception, name: str) -> str | None:
    response = getattr(exc, "response", None)
    return response.headers.get(name) if response is not None else None


def _message(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        server_msg = response.headers.get("X-Error-Message")
        if server_msg:
            return f"HTTP {response.status_code}: {server_msg}"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
