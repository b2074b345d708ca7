"""Builders of tiny, byte-exact model files (and deliberately broken ones) for format-check tests.

Written independently of engine.verify.formats on purpose: a builder that reused the checker's tables would
agree with the checker's bugs.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------- GGUF

GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_BF16 = 0, 1, 2, 8, 12, 14, 30

# (elements per block, bytes per block) for the types tests build; others get one byte per element,
# which is only meaningful for ids the checker does not know.
_GGML_BLOCKS = {
    GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q4_0: (32, 18), GGML_Q8_0: (32, 34),
    GGML_Q4_K: (256, 144), GGML_Q6_K: (256, 210), GGML_BF16: (1, 2),
}

T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL = range(8)
T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(8, 13)
_FIXED = {
    T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
    T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d",
}

DEFAULT_GGUF_TENSORS: list[tuple[str, list[int], int]] = [
    # Q8_0 first and an F32 whose size (512) is a multiple of 32 last, so the file ends exactly where
    # the last tensor's data ends and truncating one byte is already a truncation.
    ("blk.0.attn_q.weight", [64, 2], GGML_Q8_0),
    ("token_embd.weight", [32, 4], GGML_F32),
]


@dataclass(frozen=True)
class GGUFValue:
    """A metadata value with an explicit GGUF type, for the cases type inference can't express.

    For T_ARRAY, `value` is a list and `elem_type` the element type (itself T_ARRAY for nesting, in which
    case the elements must be GGUFValue arrays).
    """
    type: int
    value: object
    elem_type: int | None = None


def gguf_string(s: str | bytes) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(raw)) + raw


def gguf_prefix(version: int = 3, tensor_count: int = 0, kv_count: int = 0) -> bytes:
    """Magic, version and the two counts: the start of any hand-assembled (usually broken) GGUF."""
    return b"GGUF" + struct.pack("<IQQ", version, tensor_count, kv_count)


def _infer(value: object) -> GGUFValue:
    if isinstance(value, GGUFValue):
        return value
    if isinstance(value, bool):
        return GGUFValue(T_BOOL, value)
    if isinstance(value, int):
        if 0 <= value < 2**32:
            return GGUFValue(T_UINT32, value)
        return GGUFValue(T_UINT64 if value >= 0 else T_INT64, value)
    if isinstance(value, float):
        return GGUFValue(T_FLOAT32, value)
    if isinstance(value, str):
        return GGUFValue(T_STRING, value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return GGUFValue(T_ARRAY, value, T_STRING)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            fits = all(-(2**31) <= v < 2**31 for v in value)
            return GGUFValue(T_ARRAY, value, T_INT32 if fits else T_INT64)
        if all(isinstance(v, float) for v in value):
            return GGUFValue(T_ARRAY, value, T_FLOAT32)
    raise TypeError(f"no GGUF encoding for {value!r}; wrap it in GGUFValue")


def _encode_payload(v: GGUFValue) -> bytes:
    if v.type == T_STRING:
        return gguf_string(v.value)
    if v.type == T_ARRAY:
        items = list(v.value)
        parts = [struct.pack("<IQ", v.elem_type, len(items))]  # join, not +=: vocabularies are 100k+ items
        for item in items:
            parts.append(_encode_payload(item if v.elem_type == T_ARRAY else GGUFValue(v.elem_type, item)))
        return b"".join(parts)
    return struct.pack(_FIXED[v.type], v.value)


def gguf_kv(key: str, value: object) -> bytes:
    v = _infer(value)
    return gguf_string(key) + struct.pack("<I", v.type) + _encode_payload(v)


def ggml_nbytes(dims: list[int], ggml_type: int) -> int:
    block, size = _GGML_BLOCKS.get(ggml_type, (1, 1))
    return math.prod(dims) // block * size


def _pad(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def _payload(seed: str, n: int) -> bytes:
    # Deterministic so built files are byte-identical across runs, varied so no two tensors share bytes.
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def make_gguf(
    tensors: list[tuple[str, list[int], int]] | None = None,
    *,
    metadata: dict[str, object] | None = None,
    version: int = 3,
    alignment: int | None = None,
    offsets: list[int] | None = None,
) -> bytes:
    """A complete GGUF file; `offsets` overrides the tensors' data offsets to build broken layouts."""
    tensors = DEFAULT_GGUF_TENSORS if tensors is None else tensors
    meta: dict[str, object] = {"general.architecture": "llama", "general.name": "tiny"}
    if alignment is not None:
        meta["general.alignment"] = GGUFValue(T_UINT32, alignment)
    meta.update(metadata or {})
    align = alignment or 32

    sizes = [ggml_nbytes(dims, t) for _, dims, t in tensors]
    if offsets is None:
        offsets, at = [], 0
        for n in sizes:
            offsets.append(at)
            at = _pad(at + n, align)

    out = bytearray(gguf_prefix(version, len(tensors), len(meta)))
    for key, value in meta.items():
        out += gguf_kv(key, value)
    for (name, dims, ggml_type), offset in zip(tensors, offsets, strict=True):
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
    out += b"\0" * (_pad(len(out), align) - len(out))

    data = bytearray()
    for (name, _, _), offset, n in zip(tensors, offsets, sizes, strict=True):
        end = offset + n
        if len(data) < end:
            data += b"\0" * (end - len(data))
        data[offset:end] = _payload(name, n)
    data += b"\0" * (_pad(len(data), align) - len(data))  # gguf-py pads after the last tensor too
    return bytes(out + data)


def gguf_with_bad_magic(data: bytes | None = None, magic: bytes = b"\x00\x01\x02\x03") -> bytes:
    data = make_gguf() if data is None else data
    return magic + data[4:]


def truncate(data: bytes, n: int) -> bytes:
    return data[:n]


# -------------------------------------------------------------------------------------- safetensors

SAFETENSORS_DTYPE_SIZES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
    "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
}

DEFAULT_SAFETENSORS_TENSORS: dict[str, tuple[str, list[int]]] = {
    "embed.weight": ("F32", [8, 4]),
    "layer.0.weight": ("F16", [4, 4]),
    "layer.0.bias": ("BF16", [4]),
}


def safetensors_raw(header: dict | bytes, data: bytes = b"", *, header_length: int | None = None) -> bytes:
    """Assemble a safetensors file from an arbitrary header and data, e.g. with offsets that lie."""
    raw = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if not isinstance(header, bytes):
        raw += b" " * (-len(raw) % 8)  # the reference writer pads the header to 8 bytes with spaces
    n = len(raw) if header_length is None else header_length
    return struct.pack("<Q", n) + raw + data


def make_safetensors(
    tensors: dict[str, tuple[str, list[int]]] | None = None, *, metadata: dict[str, str] | None = None
) -> bytes:
    tensors = DEFAULT_SAFETENSORS_TENSORS if tensors is None else tensors
    header: dict[str, object] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = bytearray()
    for name, (dtype, shape) in tensors.items():
        n = math.prod(shape) * SAFETENSORS_DTYPE_SIZES.get(dtype, 1)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + n]}
        data += _payload(name, n)
    return safetensors_raw(header, bytes(data))


def safetensors_with_header_length(data: bytes, header_length: int) -> bytes:
    """Rewrite the leading header length, e.g. to point past the end of the file."""
    return struct.pack("<Q", header_length) + data[8:]


# ------------------------------------------------------------------------------------ shard indexes


def make_shard_index(shards: dict[str, list[str]], *, total_size: int | None = None) -> bytes:
    weight_map = {tensor: shard for shard, names in shards.items() for tensor in names}
    if total_size is None:
        total_size = 4 * len(weight_map)  # as if every tensor were a single F32
    index = {"metadata": {"total_size": total_size}, "weight_map": weight_map}
    return json.dumps(index, indent=2).encode()


def pseudo_random_bytes(n: int, seed: int = 7) -> bytes:
    """Deterministic, incompressible-looking content (fast for a few MiB)."""
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])
