"""What a variant selects, and whether the input describing it is valid.

Validation happens before anything is queued (admin forms and commands share these functions);
the path-safety check runs again on what the Hub lists, before any byte is written.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

from engine.cache.layout import RepoCache, check_repo_path
from engine.errors import ErrorCode, JobError
from engine.hub import RemoteFile

_REVISION_BAD = re.compile(r"(\.\.|[\x00-\x20~^:?*\[\\]|@\{|//|^/|/$|\.lock$|^\.|\.$)")

# Ids and byte counts live in signed 64-bit columns (BigAutoField, BigIntegerField). A larger Python int
# makes SQLite raise OverflowError (PostgreSQL a DataError) deep inside a query, so input is checked
# against this bound first and refused as bad input.
DB_INT_MAX = 2**63 - 1


class InvalidInput(ValueError):
    """Bad user input, with a message fit to show next to the form field."""


def is_db_id(value: int) -> bool:
    """Could a row have this id? (Ids start at 1 and fit a signed 64-bit column.)"""
    return 0 < value <= DB_INT_MAX


def require_utf8(value: str, what: str, hint: str = "type it in UTF-8") -> str:
    """Refuse text that cannot be encoded as UTF-8.

    Python turns argv and file-name bytes that are not UTF-8 into lone surrogates ('caf\\udce9' for
    Latin-1 'café'); such a string cannot be stored, logged, shown on a page or sent to the Hub, so a
    job given one crashes half-way. Refusing it here keeps it out of the database altogether.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} {value!r} is not valid UTF-8 text (the shell or file system passed bytes "
                           f"in another encoding): {hint}") from None
    return value


def clean_repo_id(value: str) -> str:
    """An 'org/name' id, or a legacy single-name one ('gpt2'); a pasted Hub link is read as its repo
    (see `parse_reference` for everything else a link can say)."""
    value = require_utf8((value or "").strip(), "repo id")
    if "://" in value or value.lower().startswith(tuple(f"{h}/" for h in HUB_HOSTS)):
        return parse_reference(value).repo_id
    value = value.strip("/")
    from huggingface_hub.errors import HFValidationError  # lazy: see engine.hub.lazy
    from huggingface_hub.utils import validate_repo_id

    try:
        if not value or value.count("/") > 1:
            raise HFValidationError("more than one '/'")
        validate_repo_id(value)
    except HFValidationError:
        raise InvalidInput(f"{value!r} is not a repo id: use the Hub's 'org/name' form (or paste the model's "
                           "link), e.g. 'Qwen/Qwen2.5-0.5B'") from None
    return value


# --- references pasted from the Hub -----------------------------------------------------------------
HUB_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
_TYPE_PREFIXES = {"datasets": "dataset", "models": "model"}
_URL_VERBS = ("blob", "resolve", "tree", "raw")


@dataclass(frozen=True)
class HubReference:
    """What a pasted reference names: a repo, and maybe a revision, one file, or one GGUF quant."""

    repo_id: str
    repo_type: str = "model"
    revision: str | None = None  # None: the reference does not say
    path: str | None = None  # a file link (…/blob/main/x.Q4_K_M.gguf) points at this file
    quant: str | None = None  # hf.co/org/name:Q4_K_M (Ollama's syntax) names this quant


def parse_reference(text: str, *, endpoints: tuple[str, ...] = ()) -> HubReference:
    """Read what people copy from the Hub: a repo, file or folder link (huggingface.co, hf.co, or the
    configured mirror in `endpoints`), `hf://` paths, `org/name@revision`, Ollama's `hf.co/org/name:QUANT`,
    and legacy single-name ids such as `gpt2`. Raises InvalidInput for anything else."""
    raw = require_utf8((text or "").strip(), "repo id")
    rest = _strip_host(raw, endpoints)
    if rest is None:
        raise InvalidInput(f"{raw!r} is not a link to a Hugging Face Hub repo; paste the model's page link "
                           "or its id, e.g. 'Qwen/Qwen2.5-0.5B'")
    rest = rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    segs = [unquote(s) for s in rest.split("/") if s]
    repo_type = "model"
    if segs and segs[0] in _TYPE_PREFIXES and len(segs) > 1:
        repo_type = _TYPE_PREFIXES[segs.pop(0)]
    elif segs and segs[0] == "spaces":
        raise InvalidInput(f"{raw!r} is a Space, not a model or dataset repo: ModelHub downloads models and "
                           "datasets")
    # A legacy single-name repo has its verb right after the name: gpt2/blob/main/config.json.
    width = 1 if len(segs) == 1 or (len(segs) > 1 and segs[1] in _URL_VERBS) else 2
    repo, tail = "/".join(segs[:width]), segs[width:]
    quant = None
    if ":" in repo:
        repo, quant = repo.rsplit(":", 1)
    revision = None
    if "@" in repo:
        repo, revision = repo.split("@", 1)
    path = None
    if tail and rest == raw.strip("/"):  # typed, not pasted: only an id may stand there
        raise InvalidInput(f"{raw!r} is not a repo id: use the Hub's 'org/name' form (or paste the model's "
                           "link), e.g. 'Qwen/Qwen2.5-0.5B'")
    if tail:
        verb, after = tail[0], tail[1:]
        if verb not in _URL_VERBS or not after:
            raise InvalidInput(f"{raw!r}: ModelHub reads repo, file (…/blob/REV/FILE) and folder "
                               "(…/tree/REV) links; this one points elsewhere on the Hub")
        # A branch such as refs/pr/1 spans three segments; other names with '/' come URL-encoded.
        size = 3 if after[0] == "refs" and len(after) >= 3 else 1
        revision, inside = "/".join(after[:size]), "/".join(after[size:])
        if verb != "tree" and inside:
            path = inside
    return HubReference(clean_repo_id(repo), repo_type, clean_revision(revision) if revision else None,
                        _clean_path(path) if path else None, (quant or "").strip().upper() or None)


def _strip_host(raw: str, endpoints: tuple[str, ...]) -> str | None:
    """The part after the Hub's host (or a mirror's base URL); None for a link to some other site."""
    lowered = raw.lower()
    for base in endpoints:
        base = base.rstrip("/").lower()
        if base and (lowered == base or lowered.startswith(base + "/")):
            return raw[len(base):]
    if lowered.startswith("hf://"):
        return raw[len("hf://"):]
    bare = lowered.split("://", 1)[1] if "://" in lowered else lowered
    if "://" in lowered and not lowered.startswith(("http://", "https://")):
        return None
    for host in HUB_HOSTS:
        if bare == host or bare.startswith(host + "/"):
            return raw[len(raw) - len(bare) + len(host):]
    return None if "://" in lowered else raw


def _clean_path(path: str) -> str:
    if check_repo_path(path):
        raise InvalidInput(f"the file {path!r} in the link is not a safe repo path")
    return path


def clean_revision(value: str | None) -> str:
    value = require_utf8((value or "").strip() or "main", "revision")
    if len(value) > 255 or _REVISION_BAD.search(value):
        raise InvalidInput(f"{value!r} is not a valid branch, tag or commit name")
    return value


def clean_globs(values, field: str = "include") -> list[str]:
    if isinstance(values, str):
        values = re.split(r"[\n,]", values)
    cleaned = []
    for raw in values or []:
        pattern = str(raw).strip()
        if not pattern:
            continue
        require_utf8(pattern, f"{field} pattern", "type it in UTF-8, or match that character with '?'")
        if "\x00" in pattern or pattern.startswith("/") or ".." in pattern.split("/"):
            raise InvalidInput(f"{field} pattern {pattern!r} must be a relative glob such as '*.gguf' "
                               "or 'onnx/*'")
        if pattern.count("[") != pattern.count("]"):
            raise InvalidInput(f"{field} pattern {pattern!r} has an unbalanced '['")
        cleaned.append(pattern)
    return sorted(set(cleaned))  # normalised so the same selection is the same variant


def select_files(files: list[RemoteFile], include: list[str], exclude: list[str]) -> list[RemoteFile]:
    """The Hub's glob semantics (huggingface_hub's own filter): fnmatch on the full path."""
    from huggingface_hub.utils import filter_repo_objects

    return list(filter_repo_objects(files, allow_patterns=include or None, ignore_patterns=exclude or None,
                                    key=lambda f: f.path))


def refuse_unsafe_paths(files: list[RemoteFile], cache: RepoCache, commit: str) -> None:
    """Raise, before any write, if the listed paths cannot all be written under the snapshot folder:
    a path that escapes it (unsafe_path), a name longer than the file system allows (name_too_long),
    or one path that is both a file and a folder (path_conflict)."""
    bad = []
    for f in files:
        try:
            if check_repo_path(f.path):
                raise JobError(ErrorCode.UNSAFE_PATH, f.path)
            cache.snapshot_file(commit, f.path)
        except JobError:
            bad.append(f.path)
    if bad:
        raise JobError(ErrorCode.UNSAFE_PATH,
                       f"The Hub listed unsafe path(s): {', '.join(repr(b) for b in bad[:5])}; "
                       "nothing was written", files=bad)
    _refuse_long_names(files, cache, commit)
    paths = {f.path for f in files}
    clashes = sorted({folder for p in paths for folder in _parents(p) if folder in paths})
    if clashes:
        raise JobError(ErrorCode.PATH_CONFLICT, f"These path(s) are listed both as a file and as a folder: "
                       f"{', '.join(repr(c) for c in clashes[:5])}; nothing was written", files=clashes)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _refuse_long_names(files: list[RemoteFile], cache: RepoCache, commit: str) -> None:
    folder = next((p for p in (cache.storage_dir, *cache.storage_dir.parents) if p.exists()),
                  cache.storage_dir)
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
        path_max = os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    snapshot = len(os.fsencode(os.path.abspath(cache.snapshot_dir(commit))))
    too_long = [f.path for f in files
                if any(len(part.encode()) > name_max for part in f.path.split("/"))
                or snapshot + 1 + len(f.path.encode()) >= path_max]
    if too_long:
        raise JobError(ErrorCode.NAME_TOO_LONG,
                       f"The file system of {cache.storage_dir} cannot hold these name(s) (at most "
                       f"{name_max} bytes a name, {path_max} a path): "
                       f"{', '.join(repr(p) for p in too_long[:3])}",
                       files=too_long, limit=name_max, storage_dir=str(cache.storage_dir))
