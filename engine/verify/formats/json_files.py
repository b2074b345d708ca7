"""JSON files (configs, tokenizers) and sharded-checkpoint indexes (*.index.json)."""

from __future__ import annotations

import json
import pathlib
import posixpath

from engine.verify.formats.result import FormatResult, Invalid, unreadable

# JSON has no header to stop at, so it is parsed whole; beyond this size (far above any real config or
# tokenizer) the parse would cost GBs of memory, so it is skipped and the detail says so.
MAX_JSON_PARSE_BYTES = 512 * 1024 * 1024


def _load_json(path: pathlib.Path) -> object:
    """Parse a UTF-8 (optionally BOM-prefixed) JSON file, raising Invalid with a precise reason."""
    raw = path.read_bytes()
    if not raw.strip():
        raise Invalid("empty file" if not raw else "file contains only whitespace")
    try:
        text = raw.decode("utf-8-sig")  # Windows tools prepend a BOM; json.loads would reject it
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not text.strip():
        raise Invalid("file contains only a byte order mark")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Invalid("invalid JSON: nested too deeply to parse") from None


def _describe_json(value: object) -> str:
    if isinstance(value, dict):
        return f"JSON object with {len(value)} keys"
    if isinstance(value, list):
        return f"JSON array with {len(value)} items"
    return f"JSON {type(value).__name__}"


def check_json(path: pathlib.Path) -> FormatResult:
    path = pathlib.Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_PARSE_BYTES:
            return FormatResult(
                "json", True, f"not parsed: {size} bytes exceeds the {MAX_JSON_PARSE_BYTES}-byte limit"
            )
        return FormatResult("json", True, _describe_json(_load_json(path)))
    except Invalid as exc:
        return FormatResult("json", False, str(exc))
    except OSError as exc:
        return unreadable("json", path, exc)


# ------------------------------------------------------------------------------------ shard indexes


def check_shard_index(
    index_path: pathlib.Path, index_repo_path: str, available_repo_paths: set[str]
) -> FormatResult:
    """Check that every shard a *.index.json names is among `available_repo_paths` (repo-relative paths)."""
    index_path = pathlib.Path(index_path)
    try:
        index = _load_json(index_path)
    except Invalid as exc:
        return FormatResult("index", False, str(exc))
    except OSError as exc:
        return unreadable("index", index_path, exc)
    if not isinstance(index, dict):
        return FormatResult("index", False, f"index is a JSON {type(index).__name__}, expected an object")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict):
        what = "missing" if weight_map is None else f"a JSON {type(weight_map).__name__}"
        return FormatResult(
            "index", False, f"weight_map is {what}, expected an object of tensor name to shard"
        )
    bad = [k for k, v in weight_map.items() if not isinstance(v, str) or not v]
    if bad:
        return FormatResult("index", False, f"weight_map entry '{bad[0]}' does not name a shard file")
    if not weight_map:
        return FormatResult("index", False, "weight_map is empty")

    # Shard names are relative to the index's own directory (transformers joins them with the index folder).
    base = posixpath.dirname(index_repo_path)
    shards = {posixpath.normpath(posixpath.join(base, shard)) for shard in weight_map.values()}
    missing = sorted(shards - available_repo_paths)
    if missing:
        return FormatResult("index", False, f"missing shards: {', '.join(missing)}")
    return FormatResult("index", True, f"{len(weight_map)} tensors in {len(shards)} shards, all present")
