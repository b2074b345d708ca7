"""GGUF (llama.cpp) header check: every count, length and offset is bounded by the real file size.

It reads the header only, so a multi-GB file costs milliseconds; tensor data is never read, only
measured against the declared shapes and types.
"""

from __future__ import annotations

import math
import pathlib
import struct
from typing import BinaryIO

from engine.verify.formats.result import FormatResult, Invalid, run_header_check

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
            raise Invalid(
                f"truncated header: {what} at offset {self.pos} needs {n} bytes, "
                f"only {self.size - self.pos} remain"
            )

    def read(self, n: int, what: str) -> bytes:
        self._need(n, what)
        data = self.f.read(n)
        if len(data) != n:  # the file shrank under us
            raise Invalid(f"truncated header: short read of {what} at offset {self.pos}")
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
            raise Invalid(
                f"truncated header: {what} at offset {start} claims {n} bytes, "
                f"only {self.size - self.pos} remain"
            )
        return n

    def string(self, what: str, limit: int = MAX_NAME_BYTES) -> str:
        start = self.pos
        n = self.string_length(what)
        if n > limit:
            raise Invalid(f"absurd {what} length {n} at offset {start} (limit {limit})")
        return self.read(n, what).decode("utf-8", errors="replace")


def _gguf_skip_value(r: _GGUFReader, vtype: int, what: str, depth: int = 0) -> None:
    if vtype not in _GGUF_VALUE_TYPES:
        raise Invalid(f"unknown metadata value type {vtype} for {what}")
    if vtype == _STRING:
        r.skip(r.string_length(what), what)
        return
    if vtype != _ARRAY:
        r.skip(_GGUF_VALUE_TYPES[vtype][1], what)
        return
    if depth >= MAX_ARRAY_DEPTH:
        raise Invalid(f"arrays nested deeper than {MAX_ARRAY_DEPTH} levels in {what}")
    etype = r.u32(f"{what} element type")
    if etype not in _GGUF_VALUE_TYPES:
        raise Invalid(f"unknown array element type {etype} in {what}")
    count_at = r.pos
    count = r.u64(f"{what} element count")
    fixed = _GGUF_VALUE_TYPES[etype][1]
    # Each element takes at least this many bytes, so an impossible count is rejected up front rather
    # than by looping 2**63 times.
    min_elem = fixed if fixed is not None else (8 if etype == _STRING else 12)
    remaining = r.size - r.pos
    if count * min_elem > remaining:
        raise Invalid(
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
            raise Invalid("missing GGUF magic: file is empty")
        raise Invalid(f"missing GGUF magic: file starts with {head!r}")
    r.skip(4, "magic")
    version = r.u32("version")
    if version == 1:
        raise Invalid("unsupported GGUF version 1 (obsolete format with 32-bit counts)")
    if version not in (2, 3):
        swapped = struct.unpack(">I", struct.pack("<I", version))[0]
        if swapped in (2, 3):
            raise Invalid(f"unsupported GGUF version {version}: a big-endian GGUF v{swapped} file")
        raise Invalid(f"unsupported GGUF version {version}")
    tensor_count = r.u64("tensor count")
    kv_count = r.u64("metadata key/value count")
    if tensor_count > MAX_TENSOR_COUNT:
        raise Invalid(f"absurd tensor count {tensor_count} (limit {MAX_TENSOR_COUNT})")
    if kv_count > MAX_KV_COUNT:
        raise Invalid(f"absurd metadata key count {kv_count} (limit {MAX_KV_COUNT})")

    alignment = GGUF_DEFAULT_ALIGNMENT
    architecture = None
    keys: set[str] = set()
    for i in range(kv_count):
        key = r.string(f"metadata key #{i}")
        if key in keys:
            raise Invalid(f"duplicate metadata key '{key}'")
        keys.add(key)
        vtype = r.u32(f"type of metadata '{key}'")
        if key == "general.alignment":
            if vtype != _UINT32:
                tname = _GGUF_VALUE_TYPES.get(vtype, (str(vtype),))[0]
                raise Invalid(f"general.alignment has type {tname}, expected UINT32")
            alignment = r.u32("general.alignment")
            if alignment == 0 or alignment & (alignment - 1):
                raise Invalid(f"general.alignment {alignment} is not a power of two")
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
            raise Invalid(f"duplicate tensor name '{name}'")
        names.add(name)
        n_dims = r.u32(f"dimension count of tensor '{name}'")
        if n_dims > MAX_TENSOR_DIMS:
            raise Invalid(f"tensor '{name}' has {n_dims} dimensions (max {MAX_TENSOR_DIMS})")
        dims = [r.u64(f"dimension {d} of tensor '{name}'") for d in range(n_dims)]
        ggml_type = r.u32(f"type of tensor '{name}'")
        offset = r.u64(f"offset of tensor '{name}'")
        if offset % alignment:
            raise Invalid(f"tensor '{name}' offset {offset} is not a multiple of the alignment {alignment}")
        if ggml_type not in GGML_TYPES:
            unknown.append(f"'{name}' (type {ggml_type})")
            end = offset  # at least its start must lie inside the file
        else:
            tname, block, type_size = GGML_TYPES[ggml_type]
            row = dims[0] if dims else 1
            if row % block:
                raise Invalid(
                    f"tensor '{name}' row length {row} is not a multiple of the {tname} block size {block}"
                )
            end = offset + math.prod(dims) // block * type_size
        if end > max_end:
            max_end, max_end_name = end, name

    data_start = -(-r.pos // alignment) * alignment
    if tensor_count and data_start + max_end > size:
        raise Invalid(
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


def check_gguf(path: pathlib.Path) -> FormatResult:
    # A large buffer because tokenizer vocabularies make headers of many MB parsed in tiny pieces.
    return run_header_check("gguf", path, _gguf_parse, buffering=1 << 20)
