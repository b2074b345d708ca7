"""Error code -> the specific fix a person should apply, with real links.

The same text is stored on the job, shown in the admin and printed by `download --json`.
"""

from engine.errors import ErrorCode
from modelhub.sizes import format_size

SETTINGS_PATH = "/admin/settings_app/setting/"
# What guidance claims about partial files when written; the job page checks the disk later and drops
# the claim when nothing is left (it then says so itself: downloads.admin.job_page).
PARTIALS_KEPT = "Partial files were kept: Retry resumes them."
CANCELLED_KEPT = "Cancelled. Partial files were kept; Download or Retry resumes where it stopped."


def as_on_disk(text: str, kept: int | None) -> str:
    """Stored guidance as it reads once the disk says nothing of the download is left (`kept` == 0)."""
    if kept != 0:
        return text
    return text.replace(CANCELLED_KEPT, "Cancelled. Download or Retry starts it again.").replace(
        f" {PARTIALS_KEPT}", "")


def repo_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    prefix = "datasets/" if repo_type == "dataset" else ""
    return f"{endpoint.rstrip('/')}/{prefix}{repo_id}"


def _fmt_files(files) -> str:
    files = list(files or [])
    shown = ", ".join(files[:5])
    return shown + (f" and {len(files) - 5} more" if len(files) > 5 else "")


def guidance_for(code: str, *, endpoint: str = "", repo_id: str = "", repo_type: str = "model",
                 revision: str = "", **ctx) -> str:
    page = repo_url(endpoint, repo_id, repo_type) if repo_id else endpoint
    tokens = f"{endpoint.rstrip('/')}/settings/tokens"
    settings_page = ctx.get("settings_url") or SETTINGS_PATH
    match code:
        case ErrorCode.GATED_NO_TOKEN:
            return (
                f"{repo_id} is a gated repository. 1) Accept the license at {page} while logged in to the "
                f"Hub. 2) Create a read token at {tokens}. 3) Paste it into ModelHub's Settings "
                f"({settings_page}) or set HF_TOKEN for the workers, then retry the download."
            )
        case ErrorCode.GATED_NO_ACCESS:
            who = f" (Hub user {ctx['user']})" if ctx.get("user") else ""
            return (
                f"The token works{who} but has no access to {repo_id} yet. Accept the license / request "
                f"access at {page} with the same Hub account, wait until access is granted (manual approval "
                "can take a while), then retry. If the token is fine-grained, allow it to read gated repos "
                f"at {tokens}."
            )
        case ErrorCode.TOKEN_INVALID:
            return (
                f"The Hub rejected the HF token ({ctx.get('token_source', 'configured token')}). It may be "
                f"revoked, expired or mistyped. Create a new one at {tokens} and save it in Settings "
                f"({settings_page}), or clear it to download public repos only. Use 'Test token' in Settings "
                "to check it."
            )
        case ErrorCode.TOKEN_UNCONFIRMED:
            return (
                "The HF token saved in Settings was saved for another endpoint, so it was not sent to "
                f"{endpoint}. If you trust {endpoint}, confirm it in Settings ({settings_page}: tick “Use "
                "the saved token with the new endpoint”) or run "
                "`manage.py configure --confirm-token-endpoint`; otherwise enter a token for this endpoint. "
                "Then retry."
            )
        case ErrorCode.REPO_NOT_FOUND:
            return (
                f"No repository {repo_id!r} ({repo_type}) on {endpoint}. Check the spelling (org/name) at "
                f"{page}; if it is private, set a token of an account that can see it in Settings "
                f"({settings_page}). If it is a dataset, choose repo type 'dataset'."
            )
        case ErrorCode.REVISION_NOT_FOUND:
            return (
                f"{repo_id} has no branch, tag or commit {revision!r}. Pick one listed at {page}/tree/main "
                "(branches and tags menu) or leave the revision empty for 'main'."
            )
        case ErrorCode.FILE_NOT_FOUND:
            if ctx.get("patterns"):
                return (
                    f"The include pattern(s) {', '.join(ctx['patterns'])} matched no file of "
                    f"{repo_id}@{revision}. See the file list at {page}/tree/{revision or 'main'} and adjust "
                    "the variant's include/exclude globs (they match full paths, e.g. '*Q4_K_M*.gguf')."
                )
            return (
                f"{_fmt_files(ctx.get('files')) or 'A file'} is listed by the Hub but could not be fetched "
                f"from {repo_id}@{revision}: it was removed or renamed upstream. Re-run the download so the "
                "file list is read again, or pin the variant to a commit that has it."
            )
        case ErrorCode.RATE_LIMITED:
            wait = ctx.get("retry_after")
            hint = f" The Hub asked to wait {int(wait)} s." if wait else ""
            return (
                f"The Hub is rate-limiting requests.{hint} Retry later; a token (Settings) raises the "
                "limits, and fewer concurrent downloads in Settings lowers the request rate."
            )
        case ErrorCode.NETWORK:
            return (
                f"Could not reach {endpoint} after several retries "
                f"({ctx.get('detail', 'connection failed')}). Check the machine's network, proxy variables "
                f"(HTTPS_PROXY) and the Hub endpoint in Settings. {PARTIALS_KEPT}"
            )
        case ErrorCode.SERVER_ERROR:
            return (
                f"{endpoint} kept answering with server errors (HTTP {ctx.get('status', '5xx')}). This is on "
                f"the Hub's side; retry in a few minutes. {PARTIALS_KEPT}"
            )
        case ErrorCode.INSUFFICIENT_SPACE:
            return (
                f"Not enough free space in {ctx.get('storage_dir', 'the storage folder')}: "
                f"{format_size(ctx.get('needed'))} still to download plus {format_size(ctx.get('min_free'))} "
                f"to keep free, but only {format_size(ctx.get('free'))} is free. Free up space (Storage "
                f"page, Clean up), move the storage folder in Settings ({settings_page}), or lower "
                "'min free space'."
            )
        case ErrorCode.DISK_FULL:
            return (
                f"The disk holding {ctx.get('storage_dir', 'the storage folder')} filled up while writing "
                f"{ctx.get('file', 'a file')}. Nothing installed was damaged and the partial file was kept: "
                "free some space, then Retry to resume."
            )
        case ErrorCode.VERIFICATION_FAILED:
            files = _fmt_files(ctx.get("files"))
            return (
                f"{files or 'Some files'} did not match the Hub's size/checksum or failed a format check, so "
                "the variant is not marked installed (bad bytes were discarded). Retry or use Repair to "
                "re-download only those files; if it fails again, the mirror or a proxy may be corrupting "
                "data."
            )
        case ErrorCode.INCOMPLETE:
            kind = ctx.get("kind") or "model"
            return (
                f"The files match the Hub, but the selection is not a complete {kind} model: "
                f"{ctx.get('detail') or _fmt_files(ctx.get('files'))}. Widen the variant's include globs to "
                "take what is missing (or remove the exclude that drops it), or choose another kind if "
                "the inferred one is wrong; then download again. Retrying as it is would fail the same way."
            )
        case ErrorCode.FORMAT_INVALID:
            return (
                f"{_fmt_files(ctx.get('files')) or 'A file'} has exactly the bytes the Hub publishes, "
                "but they "
                "are not a valid file of their format: the upload itself is broken, so downloading again "
                f"cannot help. Choose another revision or quantization of {repo_id or 'the repo'}, and "
                f"tell its owner at {page}."
            )
        case ErrorCode.UNSAFE_PATH:
            return (
                f"{endpoint or 'The Hub'} sent a file path, blob id or commit that would name a place "
                "outside the storage folder "
                f"({_fmt_files(ctx.get('files')) or ctx.get('value', 'see the message')}). Nothing was "
                "written. Do not use this repository or endpoint; report it to its owner."
            )
        case ErrorCode.PROTOCOL_ERROR:
            return (
                f"{endpoint or 'The server'} answered in a way the Hub protocol does not allow "
                f"({ctx.get('detail', 'see the message')}). Nothing was installed from it. If this endpoint "
                "is a mirror or proxy, check it is up to date and Hub-compatible, or switch the endpoint in "
                f"Settings ({settings_page})."
            )
        case ErrorCode.NAME_TOO_LONG:
            return (
                f"{_fmt_files(ctx.get('files')) or 'A file'} has a name longer than the file system holding "
                f"{ctx.get('storage_dir', 'the storage folder')} allows ({ctx.get('limit', 255)} bytes per "
                "name). Exclude that file in the variant's exclude globs, or move the storage folder to a "
                "file system with longer names."
            )
        case ErrorCode.PATH_CONFLICT:
            return (
                f"{repo_id} lists {_fmt_files(ctx.get('files'))} both as a file and as a folder, which no "
                "file system can hold at once. Exclude one of them in the variant's exclude globs, or pin a "
                "revision without the clash."
            )
        case ErrorCode.REDIRECT_LOOP:
            return (
                f"{endpoint or 'The server'} kept redirecting ({ctx.get('detail', 'too many redirects')}). A "
                "proxy or mirror is misconfigured; check the endpoint in Settings and any HTTPS_PROXY, then "
                "Retry."
            )
        case ErrorCode.CANCELLED:
            return CANCELLED_KEPT
        case ErrorCode.WORKER_LOST:
            return (
                "The worker running this job stopped sending heartbeats (process killed, machine restarted "
                "or out of memory). A new attempt resumes the partial files; check `manage.py qcluster` is "
                "running and the worker's logs."
            )
        case ErrorCode.STORAGE_ERROR:
            return (
                f"Could not write to {ctx.get('storage_dir', 'the storage folder')}: "
                f"{ctx.get('detail', '')}. Check it exists, is writable by the worker's user and that the "
                "volume is mounted; then Retry."
            ).replace(": .", ".")
        case ErrorCode.INVALID_INPUT:
            return f"Fix the input and submit again: {ctx.get('detail', 'see the error message')}."
        case ErrorCode.INTERNAL_ERROR:
            return (
                "ModelHub hit an unexpected error; the message above has the details. Retry, and report it "
                "if it repeats."
            )
    return ""
