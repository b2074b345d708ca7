"""Cheap structural checks of downloaded model files.

They read headers only, so a multi-GB file costs milliseconds: the point is to catch truncated or corrupted
downloads (and HTML error pages saved under a model's name) before anything tries to load them, not to
validate the weights themselves. Every public function returns a FormatResult and never raises, because a
verifier that crashes on a hostile file is worse than one that reports it.
"""

from __future__ import annotations

import json
import math
import pathlib
import posixpath
import struct
from dataclasses import asdict, dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FormatResult:
    check: str        # "gguf" | "safetensors" | "json" | "index"
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _unreadable(check: str, path: pathlib.Path, exc: OSError) -> FormatResult:
    return FormatResult(check, False, f"cannot read {path}: {exc.strerror or exc}")


class _Invalid(Exception):
    """A definite format violation; its message becomes the FormatResult detail."""


def check_file(path: pathlib.Path, repo_path: str) -> FormatResult | None:
    """Run the check that fits `repo_path`'s name, or return None when no format check applies."""
    # The repo path, not the local path, decides: blobs in the HF cache are stored under content hashes.
    name = posixpath.basename(repo_path).lower()
    if name.endswith(".gguf"):
        return check_gguf(path)
    if name.endswith(".safetensors"):
        return check_safetensors(path)
    if name.endswith(".json"):
        return check_json(path)
    return None


def is_shard_index(repo_path: str) -> bool:
    return posixpath.basename(repo_path).lower().endswith(".index.json")


# --------------------------------------------------------------------------------------------- GGUF

GGUF_MAGIC = b"GGUF"
GGUF_DEFAULT_ALIGNMENT = 32
MAX_TENSOR_COUNT = 10_000_000
MAX_KV_COUNT = 1_000_000
MAX_TENSOR_DIMS = 8
# Keys and tensor names are identifiers; anything this long is corruption, and capping it keeps a
# bogus length inside a large file from turning into a large allocation.
MAX_NAME_BYTES = 1 << 20
# Real files nest arrays one level at most; the cap only guards the recursion.
MAX_ARRAY_DEPTH = 32

# GGUF metadata value types: type id -> (name, fixed byte size or None for STRING/ARRAY).
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL = range(8)
_STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(8, 13)
_GGUF_VALUE_TYPES: dict[int, tuple[str, int | None]] = {
    _UINT8: ("UINT8", 1), _INT8: ("INT8", 1), _UINT16: ("UINT16", 2), _INT16: ("INT16", 2),
    _UINT32: ("UINT32", 4), _INT32: ("INT32", 4), _FLOAT32: ("FLOAT32", 4), _BOOL: ("BOOL", 1),
    _STRING: ("STRING", None), _ARRAY: ("ARRAY", None),
    _UINT64: ("UINT64", 8), _INT64: ("INT64", 8), _FLOAT64: ("FLOAT64", 8),
}

# ggml type id -> (name, elements per block, bytes per block), as in ggml's type_traits table.
# Ids absent here (removed types such as 4/5 and 31-33/36-38, or types newer than this table) are
# reported as unknown and only their size check is skipped, so a newer quant format never fails a download.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}


class _GGUFReader:
    """Bounds-checked little-endian reads over a buffered file.

    Every read is checked against the real file size before it happens, so a corrupt length field produces
    a precise message instead of a short read or an allocation sized by attacker-controlled data.
    """

    def __init__(self, f: BinaryIO, size: int):
        self.f = f
        self.size = size
        self.pos = 0

    def _need(self, n: int, what: str) -> None:
        if self.pos + n > self.size:
            raise _Invalid(
                f"truncated header: {what} at offset {self.pos} needs {n} bytes, "
                f"only {self.size - self.pos} remain"
            )

    def read(self, n: int, what: str) -> bytes:
        self._need(n, what)
        data = self.f.read(n)
        if len(data) != n:  # the file shrank under us
            raise _Invalid(f"truncated header: short read of {what} at offset {self.pos}")
        self.pos += n
        return data

    def skip(self, n: int, what: str) -> None:
        self._need(n, what)
        self.f.seek(n, 1)
        self.pos += n

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.read(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack("<Q", self.read(8, what))[0]

    def string_length(self, what: str) -> int:
        start = self.pos
        n = self.u64(f"{what} length")
        if n > self.size - self.pos:
            raise _Invalid(
                f"truncated header: {what} at offset {start} claims {n} bytes, "
                f"only {self.size - self.pos} remain"
            )
        return n

    def string(self, what: str, limit: int = MAX_NAME_BYTES) -> str:
        start = self.pos
        n = self.string_length(what)
        if n > limit:
            raise _Invalid(f"absurd {what} length {n} at offset {start} (limit {limit})")
        return self.read(n, what).decode("utf-8", errors="replace")


def _gguf_skip_value(r: _GGUFReader, vtype: int, what: str, depth: int = 0) -> None:
    if vtype not in _GGUF_VALUE_TYPES:
        raise _Invalid(f"unknown metadata value type {vtype} for {what}")
    if vtype == _STRING:
        r.skip(r.string_length(what), what)
        return
    if vtype != _ARRAY:
        r.skip(_GGUF_VALUE_TYPES[vtype][1], what)
        return
    if depth >= MAX_ARRAY_DEPTH:
        raise _Invalid(f"arrays nested deeper than {MAX_ARRAY_DEPTH} levels in {what}")
    etype = r.u32(f"{what} element type")
    if etype not in _GGUF_VALUE_TYPES:
        raise _Invalid(f"unknown array element type {etype} in {what}")
    count_at = r.pos
    count = r.u64(f"{what} element count")
    fixed = _GGUF_VALUE_TYPES[etype][1]
    # Each element takes at least this many bytes, so an impossible count is rejected up front rather
    # than by looping 2**63 times.
    min_elem = fixed if fixed is not None else (8 if etype == _STRING else 12)
    remaining = r.size - r.pos
    if count * min_elem > remaining:
        raise _Invalid(
            f"truncated header: {what} at offset {count_at} claims {count} elements "
            f"(at least {count * min_elem} bytes), only {remaining} remain"
        )
    if fixed is not None:
        r.skip(count * fixed, what)
        return
    if etype == _STRING:
        # Tokenizer vocabularies are string arrays of 100k+ entries: keep this loop free of recursion
        # and per-element message formatting.
        elem = f"{what} element"
        for _ in range(count):
            r.skip(r.string_length(elem), elem)
        return
    for i in range(count):
        _gguf_skip_value(r, etype, f"{what}[{i}]", depth + 1)


def _gguf_parse(f: BinaryIO, size: int) -> str:
    r = _GGUFReader(f, size)
    head = f.read(16)  # enough to recognise an HTML error page or a git-lfs pointer saved in its place
    f.seek(0)
    if head[:4] != GGUF_MAGIC:
        if not head:
            raise _Invalid("missing GGUF magic: file is empty")
        raise _Invalid(f"missing GGUF magic: file starts with {head!r}")
    r.skip(4, "magic")
    version = r.u32("version")
    if version == 1:
        raise _Invalid("unsupported GGUF version 1 (obsolete format with 32-bit counts)")
    if version not in (2, 3):
        swapped = struct.unpack(">I", struct.pack("<I", version))[0]
        if swapped in (2, 3):
            raise _Invalid(f"unsupported GGUF version {version}: a big-endian GGUF v{swapped} file")
        raise _Invalid(f"unsupported GGUF version {version}")
    tensor_count = r.u64("tensor count")
    kv_count = r.u64("metadata key/value count")
    if tensor_count > MAX_TENSOR_COUNT:
        raise _Invalid(f"absurd tensor count {tensor_count} (limit {MAX_TENSOR_COUNT})")
    if kv_count > MAX_KV_COUNT:
        raise _Invalid(f"absurd metadata key count {kv_count} (limit {MAX_KV_COUNT})")

    alignment = GGUF_DEFAULT_ALIGNMENT
    architecture = None
    keys: set[str] = set()
    for i in range(kv_count):
        key = r.string(f"metadata key #{i}")
        if key in keys:
            raise _Invalid(f"duplicate metadata key '{key}'")
        keys.add(key)
        vtype = r.u32(f"type of metadata '{key}'")
        if key == "general.alignment":
            if vtype != _UINT32:
                tname = _GGUF_VALUE_TYPES.get(vtype, (str(vtype),))[0]
                raise _Invalid(f"general.alignment has type {tname}, expected UINT32")
            alignment = r.u32("general.alignment")
            if alignment == 0 or alignment & (alignment - 1):
                raise _Invalid(f"general.alignment {alignment} is not a power of two")
        elif key == "general.architecture" and vtype == _STRING:
            architecture = r.string("general.architecture", limit=256)
        else:
            _gguf_skip_value(r, vtype, f"metadata '{key}'")

    names: set[str] = set()
    unknown: list[str] = []
    max_end = 0
    max_end_name = ""
    for i in range(tensor_count):
        name = r.string(f"name of tensor #{i}")
        if name in names:
            raise _Invalid(f"duplicate tensor name '{name}'")
        names.add(name)
        n_dims = r.u32(f"dimension count of tensor '{name}'")
        if n_dims > MAX_TENSOR_DIMS:
            raise _Invalid(f"tensor '{name}' has {n_dims} dimensions (max {MAX_TENSOR_DIMS})")
        dims = [r.u64(f"dimension {d} of tensor '{name}'") for d in range(n_dims)]
        ggml_type = r.u32(f"type of tensor '{name}'")
        offset = r.u64(f"offset of tensor '{name}'")
        if offset % alignment:
            raise _Invalid(f"tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}")
        if ggml_type not in GGML_TYPES:
            unknown.append(f"'{name}' (type {ggml_type})")
            end = offset  # at least its start must lie inside the file
        else:
            tname, block, type_size = GGML_TYPES[ggml_type]
            row = dims[0] if dims else 1
            if row % block:
                raise _Invalid(
                    f"tensor '{name}' row length {row} is not a multiple of the {tname} block size {block}"
                )
            end = offset + math.prod(dims) // block * type_size
        if end > max_end:
            max_end, max_end_name = end, name

    data_start = -(-r.pos // alignment) * alignment
    if tensor_count and data_start + max_end > size:
        raise _Invalid(
            f"truncated: tensor data needs {data_start + max_end} bytes, file has {size} "
            f"(data section starts at {data_start}; tensor '{max_end_name}' ends at data offset {max_end})"
        )

    detail = f"GGUF v{version}, {tensor_count} tensors, {kv_count} metadata keys"
    if architecture:
        detail += f", architecture '{architecture}'"
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        detail += f"; size check skipped for unknown ggml type: {shown}"
    return detail


def _run_header_check(check: str, path: pathlib.Path, parse, buffering: int = -1) -> FormatResult:
    """Open the file, hand it and its size to `parse`; an _Invalid or OSError becomes a failed result."""
    try:
        with open(path, "rb", buffering=buffering) as f:
            size = f.seek(0, 2)
            f.seek(0)
            return FormatResult(check, True, parse(f, size))
    except _Invalid as exc:
        return FormatResult(check, False, str(exc))
    except OSError as exc:
        return _unreadable(check, path, exc)


def check_gguf(path: pathlib.Path) -> FormatResult:
    # A large buffer because tokenizer vocabularies make headers of many MB parsed in tiny pieces.
    return _run_header_check("gguf", path, _gguf_parse, buffering=1 << 20)


# -------------------------------------------------------------------------------------- safetensors

MAX_SAFETENSORS_HEADER = 100 * 1000 * 1000  # the limit the reference safetensors loader enforces

SAFETENSORS_DTYPE_SIZES: dict[str, int] = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1,
    "U64": 8, "U32": 4, "U16": 2, "U8": 1,
    "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
}


def _is_uint(v: object) -> bool:
    # bool is an int subclass; `true` as a dimension is corruption, not 1.
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    # json.loads silently keeps the last duplicate, which would hide one tensor's bytes from the tiling check.
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _Invalid(f"duplicate header key '{k}'")
        out[k] = v
    return out


def _safetensors_parse(f: BinaryIO, size: int) -> str:
    if size < 8:
        raise _Invalid(f"file is {size} bytes, too small for the 8-byte header length")
    n = struct.unpack("<Q", f.read(8))[0]
    if n == 0:
        raise _Invalid("header length is 0")
    if n > MAX_SAFETENSORS_HEADER:
        raise _Invalid(f"header length {n} exceeds the {MAX_SAFETENSORS_HEADER}-byte limit")
    if 8 + n > size:
        raise _Invalid(f"header length {n} runs past the end of the file ({size} bytes)")
    raw = f.read(n)
    if len(raw) != n:
        raise _Invalid(f"short read of the {n}-byte header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as exc:
        raise _Invalid(f"header is not UTF-8: {exc.reason} at byte {8 + exc.start}") from None
    except json.JSONDecodeError as exc:
        raise _Invalid(f"header is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _Invalid("header JSON is nested too deeply") from None
    if not isinstance(header, dict):
        raise _Invalid(f"header is a JSON {type(header).__name__}, expected an object")

    data_len = size - 8 - n
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise _Invalid("__metadata__ must be an object of string to string")

    spans: list[tuple[int, int, str]] = []
    dtypes: set[str] = set()
    for name, info in header.items():
        if not isinstance(info, dict):
            raise _Invalid(f"tensor '{name}' entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str):
            raise _Invalid(f"tensor '{name}' has no string dtype")
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            raise _Invalid(f"tensor '{name}' shape {shape!r} is not a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in offsets)):
            raise _Invalid(f"tensor '{name}' data_offsets {offsets!r} is not a pair of non-negative integers")
        begin, end = offsets
        if begin > end:
            raise _Invalid(f"tensor '{name}' data_offsets [{begin}, {end}] begin after end")
        if end > data_len:
            raise _Invalid(
                f"tensor '{name}' data_offsets [{begin}, {end}] end past the data region ({data_len} bytes)"
            )
        itemsize = SAFETENSORS_DTYPE_SIZES.get(dtype)
        if itemsize is not None:
            expected = math.prod(shape) * itemsize
            if end - begin != expected:
                raise _Invalid(
                    f"tensor '{name}' holds {end - begin} bytes but {dtype} {shape} needs {expected}"
                )
        dtypes.add(dtype)
        spans.append((begin, end, name))

    # The format stores tensors back to back; a gap or overlap means the header and data disagree.
    spans.sort()
    covered, prev = 0, None
    for begin, end, name in spans:
        if begin > covered:
            raise _Invalid(
                f"gap of {begin - covered} bytes before tensor '{name}' "
                f"(data_offsets [{begin}, {end}], previous data ends at {covered})"
            )
        if begin < covered:
            raise _Invalid(
                f"tensor '{name}' data_offsets [{begin}, {end}] overlaps tensor '{prev}' (ends at {covered})"
            )
        covered, prev = end, name
    if covered != data_len:
        raise _Invalid(f"data region has {data_len - covered} trailing bytes no tensor covers")

    detail = f"safetensors, {len(spans)} tensors, {data_len} data bytes"
    if dtypes:
        detail += f", dtypes {', '.join(sorted(dtypes))}"
    unknown = sorted(d for d in dtypes if d not in SAFETENSORS_DTYPE_SIZES)
    if unknown:
        detail += f"; size check skipped for unknown dtype {', '.join(unknown)}"
    return detail


def check_safetensors(path: pathlib.Path) -> FormatResult:
    return _run_header_check("safetensors", path, _safetensors_parse)


# --------------------------------------------------------------------------------------------- JSON

# JSON has no header to stop at, so it is parsed whole; beyond this size (far above any real config or
# tokenizer) the parse would cost GBs of memory, so it is skipped and the detail says so.
MAX_JSON_PARSE_BYTES = 512 * 1024 * 1024


def _load_json(path: pathlib.Path) -> object:
    """Parse a UTF-8 (optionally BOM-prefixed) JSON file, raising _Invalid with a precise reason."""
    raw = path.read_bytes()
    if not raw.strip():
        raise _Invalid("empty file" if not raw else "file contains only whitespace")
    try:
        text = raw.decode("utf-8-sig")  # Windows tools prepend a BOM; json.loads would reject it
    except UnicodeDecodeError as exc:
        raise _Invalid(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not text.strip():
        raise _Invalid("file contains only a byte order mark")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _Invalid("invalid JSON: nested too deeply to parse") from None


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
    except _Invalid as exc:
        return FormatResult("json", False, str(exc))
    except OSError as exc:
        return _unreadable("json", path, exc)


# ------------------------------------------------------------------------------------ shard indexes


def check_shard_index(
    index_path: pathlib.Path, index_repo_path: str, available_repo_paths: set[str]
) -> FormatResult:
    """Check that every shard a *.index.json names is among `available_repo_paths` (repo-relative paths)."""
    index_path = pathlib.Path(index_path)
    try:
        index = _load_json(index_path)
    except _Invalid as exc:
        return FormatResult("index", False, str(exc))
    except OSError as exc:
        return _unreadable("index", index_path, exc)
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
