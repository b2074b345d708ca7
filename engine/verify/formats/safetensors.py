"""safetensors header check: the JSON header must describe tensors that tile the data region exactly."""

from __future__ import annotations

import json
import math
import pathlib
import struct
from typing import BinaryIO

from engine.verify.formats.result import FormatResult, Invalid, run_header_check

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
            raise Invalid(f"duplicate header key '{k}'")
        out[k] = v
    return out


def _safetensors_parse(f: BinaryIO, size: int) -> str:
    if size < 8:
        raise Invalid(f"file is {size} bytes, too small for the 8-byte header length")
    n = struct.unpack("<Q", f.read(8))[0]
    if n == 0:
        raise Invalid("header length is 0")
    if n > MAX_SAFETENSORS_HEADER:
        raise Invalid(f"header length {n} exceeds the {MAX_SAFETENSORS_HEADER}-byte limit")
    if 8 + n > size:
        raise Invalid(f"header length {n} runs past the end of the file ({size} bytes)")
    raw = f.read(n)
    if len(raw) != n:
        raise Invalid(f"short read of the {n}-byte header")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as exc:
        raise Invalid(f"header is not UTF-8: {exc.reason} at byte {8 + exc.start}") from None
    except json.JSONDecodeError as exc:
        raise Invalid(f"header is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Invalid("header JSON is nested too deeply") from None
    if not isinstance(header, dict):
        raise Invalid(f"header is a JSON {type(header).__name__}, expected an object")

    data_len = size - 8 - n
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise Invalid("__metadata__ must be an object of string to string")

    spans: list[tuple[int, int, str]] = []
    dtypes: set[str] = set()
    for name, info in header.items():
        if not isinstance(info, dict):
            raise Invalid(f"tensor '{name}' entry is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str):
            raise Invalid(f"tensor '{name}' has no string dtype")
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            raise Invalid(f"tensor '{name}' shape {shape!r} is not a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in offsets)):
            raise Invalid(f"tensor '{name}' data_offsets {offsets!r} is not a pair of non-negative integers")
        begin, end = offsets
        if begin > end:
            raise Invalid(f"tensor '{name}' data_offsets [{begin}, {end}] begin after end")
        if end > data_len:
            raise Invalid(
                f"tensor '{name}' data_offsets [{begin}, {end}] end past the data region ({data_len} bytes)"
            )
        itemsize = SAFETENSORS_DTYPE_SIZES.get(dtype)
        if itemsize is not None:
            expected = math.prod(shape) * itemsize
            if end - begin != expected:
                raise Invalid(
                    f"tensor '{name}' holds {end - begin} bytes but {dtype} {shape} needs {expected}"
                )
        dtypes.add(dtype)
        spans.append((begin, end, name))

    # The format stores tensors back to back; a gap or overlap means the header and data disagree.
    spans.sort()
    covered, prev = 0, None
    for begin, end, name in spans:
        if begin > covered:
            raise Invalid(
                f"gap of {begin - covered} bytes before tensor '{name}' "
                f"(data_offsets [{begin}, {end}], previous data ends at {covered})"
            )
        if begin < covered:
            raise Invalid(
                f"tensor '{name}' data_offsets [{begin}, {end}] overlaps tensor '{prev}' (ends at {covered})"
            )
        covered, prev = end, name
    if covered != data_len:
        raise Invalid(f"data region has {data_len - covered} trailing bytes no tensor covers")

    detail = f"safetensors, {len(spans)} tensors, {data_len} data bytes"
    if dtypes:
        detail += f", dtypes {', '.join(sorted(dtypes))}"
    unknown = sorted(d for d in dtypes if d not in SAFETENSORS_DTYPE_SIZES)
    if unknown:
        detail += f"; size check skipped for unknown dtype {', '.join(unknown)}"
    return detail


def check_safetensors(path: pathlib.Path) -> FormatResult:
    return run_header_check("safetensors", path, _safetensors_parse)
