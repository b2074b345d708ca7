import json
import struct
import tracemalloc

import pytest

from engine.verify import formats
from engine.verify.formats import (
    FormatResult,
    check_file,
    check_gguf,
    check_json,
    check_safetensors,
    check_shard_index,
    is_shard_index,
)
from tests import modelfiles as mf


@pytest.fixture(autouse=True)
def fast_retries():
    """Shadows conftest's autouse fixture of this name, which needs pytest-django's `settings`.

    These checks are stdlib-only and meant to run with `-p no:django`, where that fixture doesn't exist.
    """


@pytest.fixture
def write(tmp_path):
    def _write(name: str, data: bytes):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return _write


def _gguf_header_end(data: bytes) -> int:
    """Offset where the default test GGUF's data section starts (its header padded to 32)."""
    first_tensor_bytes = mf.ggml_nbytes(*mf.DEFAULT_GGUF_TENSORS[0][1:])
    second_tensor_bytes = mf.ggml_nbytes(*mf.DEFAULT_GGUF_TENSORS[1][1:])
    return len(data) - (-(-first_tensor_bytes // 32) * 32) - second_tensor_bytes


# --------------------------------------------------------------------------------------------- GGUF


@pytest.mark.parametrize("version", [2, 3])
def test_gguf_valid_versions_report_counts(write, version):
    res = check_gguf(write("m.gguf", mf.make_gguf(version=version)))
    assert res == FormatResult("gguf", True, res.detail)
    assert res.detail.startswith(f"GGUF v{version}, 2 tensors, 2 metadata keys")
    assert "'llama'" in res.detail


def test_gguf_with_array_metadata_and_custom_alignment_is_valid(write):
    nested = mf.GGUFValue(
        mf.T_ARRAY,
        [mf.GGUFValue(mf.T_ARRAY, [1, 2, 3], mf.T_UINT8), mf.GGUFValue(mf.T_ARRAY, ["x"], mf.T_STRING)],
        mf.T_ARRAY,
    )
    data = mf.make_gguf(
        [("a", [64, 3], mf.GGML_Q4_0), ("b", [256, 2], mf.GGML_Q6_K), ("c", [5], mf.GGML_F16)],
        metadata={
            "tokenizer.ggml.tokens": ["<s>", "</s>", "héllo"],
            "tokenizer.ggml.token_type": [1, 2, 3],
            "tokenizer.ggml.scores": [0.5, -1.0, 2.25],
            "nested": nested,
            "flag": True,
            "big": 2**40,
            "ratio": 0.25,
            "f64": mf.GGUFValue(mf.T_FLOAT64, 1.5),
        },
        alignment=64,
    )
    res = check_gguf(write("m.gguf", data))
    assert res.ok, res.detail
    assert "3 tensors, 11 metadata keys" in res.detail


def test_gguf_custom_alignment_is_honoured_for_the_data_section(write):
    # Data starts at 4096 and the F32 tensor at data offset 4096, so its 512 bytes end at 8704; read with
    # the default alignment of 32 the same cut would look complete.
    data = mf.make_gguf(alignment=4096)
    assert len(data) == 3 * 4096
    assert check_gguf(write("m.gguf", data)).ok
    assert check_gguf(write("exact.gguf", mf.truncate(data, 8704))).ok
    res = check_gguf(write("t.gguf", mf.truncate(data, 8703)))
    assert not res.ok
    assert res.detail == (
        "truncated: tensor data needs 8704 bytes, file has 8703 "
        "(data section starts at 4096; tensor 'token_embd.weight' ends at data offset 4608)"
    )


def test_gguf_without_magic_shows_the_first_bytes(write):
    res = check_gguf(write("m.gguf", mf.gguf_with_bad_magic()))
    assert not res.ok
    assert res.detail.startswith("missing GGUF magic: file starts with b'\\x00\\x01\\x02\\x03")


def test_gguf_html_error_page_is_not_gguf(write):
    res = check_gguf(write("m.gguf", b"<!DOCTYPE html><html>Rate limited</html>"))
    assert not res.ok
    assert res.detail == "missing GGUF magic: file starts with b'<!DOCTYPE html><'"


def test_gguf_empty_file_is_reported_as_empty(write):
    res = check_gguf(write("m.gguf", b""))
    assert (res.ok, res.detail) == (False, "missing GGUF magic: file is empty")


def test_gguf_version_1_is_unsupported(write):
    res = check_gguf(write("m.gguf", mf.make_gguf(version=1)))
    assert not res.ok
    assert "unsupported GGUF version 1" in res.detail


@pytest.mark.parametrize("version", [0, 4, 7])
def test_gguf_unknown_versions_are_unsupported(write, version):
    res = check_gguf(write("m.gguf", mf.make_gguf(version=version)))
    assert not res.ok
    assert res.detail == f"unsupported GGUF version {version}"


def test_gguf_big_endian_file_is_named_as_such(write):
    data = b"GGUF" + struct.pack(">I", 3) + mf.make_gguf()[8:]
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert "big-endian GGUF v3" in res.detail


@pytest.mark.parametrize("cut", [6, 12, 30, 60])
def test_gguf_truncated_inside_header_is_reported(write, cut):
    res = check_gguf(write("m.gguf", mf.truncate(mf.make_gguf(), cut)))
    assert not res.ok
    assert res.detail.startswith("truncated header:")


def test_gguf_truncated_just_before_data_section_is_reported(write):
    data = mf.make_gguf()
    res = check_gguf(write("m.gguf", mf.truncate(data, _gguf_header_end(data))))
    assert not res.ok
    assert res.detail.startswith("truncated: tensor data needs")


def test_gguf_truncated_in_tensor_data_is_reported_with_sizes(write):
    data = mf.make_gguf()
    res = check_gguf(write("m.gguf", mf.truncate(data, len(data) - 1)))
    assert not res.ok
    assert res.detail.startswith(f"truncated: tensor data needs {len(data)} bytes, file has {len(data) - 1}")
    assert "'token_embd.weight'" in res.detail


def test_gguf_missing_trailing_padding_is_not_truncation(write):
    # Only tensor bytes matter: llama.cpp mmaps tensors and never reads the padding after the last one.
    data = mf.make_gguf([("q", [32, 1], mf.GGML_Q8_0)])  # 34 bytes of data, padded to 64
    assert check_gguf(write("m.gguf", mf.truncate(data, len(data) - 30))).ok
    assert not check_gguf(write("t.gguf", mf.truncate(data, len(data) - 31))).ok


@pytest.mark.parametrize(
    ("tensor_count", "kv_count", "expected"),
    [
        (2**63, 0, "absurd tensor count 9223372036854775808"),
        (10_000_001, 0, "absurd tensor count 10000001"),
        (0, 2**64 - 1, "absurd metadata key count 18446744073709551615"),
    ],
)
def test_gguf_absurd_counts_fail_without_allocating(write, tensor_count, kv_count, expected):
    path = write("m.gguf", mf.gguf_prefix(3, tensor_count, kv_count) + b"\0" * 64)
    tracemalloc.start()
    try:
        res = check_gguf(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not res.ok
    assert res.detail.startswith(expected)
    assert peak < 4 * 1024 * 1024  # little beyond the 1 MiB read buffer


def test_gguf_count_within_limit_but_beyond_file_is_truncation(write):
    res = check_gguf(write("m.gguf", mf.gguf_prefix(3, 5_000_000, 0)))
    assert not res.ok
    assert res.detail.startswith("truncated header: name of tensor #0")


def test_gguf_string_length_past_eof_fails_without_allocating(write):
    data = mf.gguf_prefix(3, 0, 1) + struct.pack("<Q", 2**60) + b"general.name"
    path = write("m.gguf", data)
    tracemalloc.start()
    try:
        res = check_gguf(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not res.ok
    assert res.detail == (
        f"truncated header: metadata key #0 at offset 24 claims {2**60} bytes, only 12 remain"
    )
    assert peak < 4 * 1024 * 1024


def test_gguf_string_value_length_past_eof_names_the_key(write):
    data = (
        mf.gguf_prefix(3, 0, 1) + mf.gguf_string("general.name") + struct.pack("<I", mf.T_STRING)
        + struct.pack("<Q", 1000) + b"tiny"
    )
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert "metadata 'general.name'" in res.detail and "claims 1000 bytes, only 4 remain" in res.detail


def test_gguf_array_count_past_eof_fails_before_looping(write):
    data = (
        mf.gguf_prefix(3, 0, 1) + mf.gguf_string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", mf.T_ARRAY, mf.T_STRING, 2**62)
    )
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert f"claims {2**62} elements" in res.detail


def test_gguf_unknown_metadata_value_type_fails(write):
    data = mf.gguf_prefix(3, 0, 1) + mf.gguf_string("weird") + struct.pack("<I", 13) + b"\0" * 16
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert res.detail == "unknown metadata value type 13 for metadata 'weird'"


def test_gguf_misaligned_tensor_offset_fails(write):
    data = mf.make_gguf(offsets=[0, 144])
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert res.detail == "tensor 'token_embd.weight' offset 144 is not a multiple of the alignment 32"


def test_gguf_offset_aligned_to_custom_alignment_only(write):
    # 64 is aligned to 32 but not to the file's declared 128.
    res = check_gguf(write("m.gguf", mf.make_gguf(alignment=128, offsets=[0, 64])))
    assert not res.ok
    assert "not a multiple of the alignment 128" in res.detail


def test_gguf_alignment_not_power_of_two_fails(write):
    res = check_gguf(write("m.gguf", mf.make_gguf(alignment=48)))
    assert not res.ok
    assert res.detail == "general.alignment 48 is not a power of two"


def test_gguf_alignment_of_wrong_type_fails(write):
    data = mf.make_gguf(metadata={"general.alignment": mf.GGUFValue(mf.T_UINT64, 32)})
    res = check_gguf(write("m.gguf", data))
    assert not res.ok
    assert res.detail == "general.alignment has type UINT64, expected UINT32"


def test_gguf_too_many_dimensions_fails(write):
    res = check_gguf(write("m.gguf", mf.make_gguf([("t", [1] * 9, mf.GGML_F32)])))
    assert not res.ok
    assert res.detail == "tensor 't' has 9 dimensions (max 8)"


def test_gguf_row_not_multiple_of_block_size_fails(write):
    res = check_gguf(write("m.gguf", mf.make_gguf([("q", [48, 2], mf.GGML_Q8_0)])))
    assert not res.ok
    assert res.detail == "tensor 'q' row length 48 is not a multiple of the Q8_0 block size 32"


def test_gguf_duplicate_tensor_name_fails(write):
    data = mf.make_gguf([("t", [8], mf.GGML_F32), ("t", [8], mf.GGML_F32)])
    res = check_gguf(write("m.gguf", data))
    assert (res.ok, res.detail) == (False, "duplicate tensor name 't'")


def test_gguf_unknown_ggml_type_skips_size_check_and_says_so(write):
    data = mf.make_gguf([("odd", [16], 99), ("w", [8], mf.GGML_F32)])
    res = check_gguf(write("m.gguf", data))
    assert res.ok, res.detail
    assert "size check skipped for unknown ggml type: 'odd' (type 99)" in res.detail


def test_gguf_sizes_follow_the_ggml_type_table(write):
    # A Q4_K tensor of 256x2 is 2 blocks of 144 bytes: one byte short must fail, exact size must pass.
    data = mf.make_gguf([("k", [256, 2], mf.GGML_Q4_K)])
    header_end = len(data) - 288
    assert check_gguf(write("ok.gguf", data)).ok
    res = check_gguf(write("short.gguf", mf.truncate(data, len(data) - 1)))
    assert res.detail.startswith(f"truncated: tensor data needs {header_end + 288} bytes")


def test_gguf_type_table_matches_ggml_block_layouts():
    expected = {
        "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18), "Q8_0": (32, 34),
        "Q2_K": (256, 84), "Q4_K": (256, 144), "Q6_K": (256, 210), "IQ4_XS": (256, 136),
        "TQ1_0": (256, 54), "TQ2_0": (256, 66),
    }
    table = {name: (block, size) for name, block, size in formats.GGML_TYPES.values()}
    assert {k: table[k] for k in expected} == expected
    assert 4 not in formats.GGML_TYPES and 5 not in formats.GGML_TYPES  # removed Q4_2/Q4_3


def test_gguf_with_zero_tensors_is_valid(write):
    res = check_gguf(write("vocab.gguf", mf.make_gguf([])))
    assert res.ok
    assert "0 tensors" in res.detail


def test_gguf_large_vocabulary_header_is_streamed(write):
    tokens = [f"tok{i}" for i in range(200_000)]
    path = write("m.gguf", mf.make_gguf(metadata={"tokenizer.ggml.tokens": tokens}))
    tracemalloc.start()
    try:
        res = check_gguf(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.ok, res.detail
    assert path.stat().st_size > 2 * 1024 * 1024
    assert peak < 2 * 1024 * 1024  # the ~3 MB header is never held in memory at once


# -------------------------------------------------------------------------------------- safetensors


def test_safetensors_valid_file_reports_summary(write):
    data = mf.make_safetensors(metadata={"format": "pt"})
    res = check_safetensors(write("m.safetensors", data))
    assert res.ok, res.detail
    assert res.detail == "safetensors, 3 tensors, 168 data bytes, dtypes BF16, F16, F32"


def test_safetensors_scalar_and_empty_tensors_are_valid(write):
    data = mf.make_safetensors({"scalar": ("F32", []), "empty": ("F16", [0, 4]), "b": ("BOOL", [3])})
    assert check_safetensors(write("m.safetensors", data)).ok


def test_safetensors_header_length_past_eof_fails(write):
    data = mf.safetensors_with_header_length(mf.make_safetensors(), 10_000)
    res = check_safetensors(write("m.safetensors", data))
    assert not res.ok
    assert res.detail == f"header length 10000 runs past the end of the file ({len(data)} bytes)"


@pytest.mark.parametrize(
    ("header_length", "expected"),
    [(0, "header length is 0"), (100_000_001, "header length 100000001 exceeds the 100000000-byte limit")],
)
def test_safetensors_header_length_limits(write, header_length, expected):
    data = mf.safetensors_with_header_length(mf.make_safetensors(), header_length)
    res = check_safetensors(write("m.safetensors", data))
    assert (res.ok, res.detail) == (False, expected)


def test_safetensors_file_shorter_than_length_prefix_fails(write):
    res = check_safetensors(write("m.safetensors", b"\x10\x00"))
    assert (res.ok, res.detail) == (False, "file is 2 bytes, too small for the 8-byte header length")


def test_safetensors_header_not_json_fails_with_position(write):
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(b'{"a": {"dtype": "F32",,}}')))
    assert not res.ok
    assert res.detail.startswith("header is not JSON: Expecting property name")
    assert "line 1 column" in res.detail


def test_safetensors_header_not_utf8_fails(write):
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(b'{"\xff": 1}')))
    assert not res.ok
    assert res.detail.startswith("header is not UTF-8")


def test_safetensors_header_not_an_object_fails(write):
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(b"[1, 2]  ")))
    assert (res.ok, res.detail) == (False, "header is a JSON list, expected an object")


def test_safetensors_offsets_past_end_fail(write):
    header = {"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 2048)))
    assert not res.ok
    assert res.detail == "tensor 'w' data_offsets [0, 4096] end past the data region (2048 bytes)"


def test_safetensors_truncated_download_fails(write):
    data = mf.make_safetensors()
    res = check_safetensors(write("m.safetensors", mf.truncate(data, len(data) - 10)))
    assert not res.ok
    assert "end past the data region (158 bytes)" in res.detail


def test_safetensors_gap_between_tensors_fails(write):
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]},
    }
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 20)))
    assert not res.ok
    assert res.detail == "gap of 4 bytes before tensor 'b' (data_offsets [12, 20], previous data ends at 8)"


def test_safetensors_data_not_starting_at_zero_is_a_gap(write):
    header = {"a": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}}
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 8)))
    assert not res.ok
    assert res.detail.startswith("gap of 4 bytes before tensor 'a'")


def test_safetensors_overlapping_tensors_fail(write):
    header = {
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},
    }
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 16)))
    assert not res.ok
    assert res.detail == "tensor 'b' data_offsets [8, 16] overlaps tensor 'a' (ends at 16)"


def test_safetensors_trailing_bytes_fail(write):
    data = mf.make_safetensors() + b"\0" * 12
    res = check_safetensors(write("m.safetensors", data))
    assert (res.ok, res.detail) == (False, "data region has 12 trailing bytes no tensor covers")


def test_safetensors_size_shape_mismatch_fails(write):
    header = {"w": {"dtype": "F16", "shape": [3, 3], "data_offsets": [0, 16]}}
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 16)))
    assert not res.ok
    assert res.detail == "tensor 'w' holds 16 bytes but F16 [3, 3] needs 18"


def test_safetensors_unknown_dtype_skips_size_check_only(write):
    header = {"w": {"dtype": "F4", "shape": [8], "data_offsets": [0, 4]}}
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(header, b"\0" * 4)))
    assert res.ok, res.detail
    assert "size check skipped for unknown dtype F4" in res.detail


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"shape": [1], "data_offsets": [0, 4]}, "tensor 'w' has no string dtype"),
        ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "shape [-1] is not a list"),
        ({"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}, "shape [True] is not a list"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0]}, "data_offsets [0] is not a pair"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}, "data_offsets [4, 0] begin after end"),
    ],
)
def test_safetensors_malformed_entries_fail(write, entry, expected):
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw({"w": entry}, b"\0" * 4)))
    assert not res.ok
    assert expected in res.detail


def test_safetensors_bad_metadata_fails(write):
    data = mf.make_safetensors(metadata={"format": 1})
    res = check_safetensors(write("m.safetensors", data))
    assert (res.ok, res.detail) == (False, "__metadata__ must be an object of string to string")


def test_safetensors_duplicate_tensor_name_fails(write):
    entry = b'{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}'
    raw = b'{"w":' + entry % (0, 1) + b',"w":' + entry % (1, 2) + b"}"
    res = check_safetensors(write("m.safetensors", mf.safetensors_raw(raw, b"\0\0")))
    assert (res.ok, res.detail) == (False, "duplicate header key 'w'")


# --------------------------------------------------------------------------------------------- JSON


def test_json_valid_object(write):
    res = check_json(write("config.json", b'{"model_type": "llama", "hidden_size": 8}'))
    assert res == FormatResult("json", True, "JSON object with 2 keys")


def test_json_invalid_names_line_and_column(write):
    res = check_json(write("config.json", b'{\n  "a": 1,\n  "b": 2\n  "c": 3\n}'))
    assert not res.ok
    assert res.detail == "invalid JSON: Expecting ',' delimiter at line 4 column 3"


def test_json_html_instead_of_json_fails(write):
    res = check_json(write("config.json", b"<html><body>502 Bad Gateway</body></html>"))
    assert not res.ok
    assert "line 1 column 1" in res.detail


@pytest.mark.parametrize("content", [b"", b"  \n"])
def test_json_empty_file_fails(write, content):
    res = check_json(write("config.json", content))
    assert not res.ok
    assert res.detail in ("empty file", "file contains only whitespace")


def test_json_with_utf8_bom_is_accepted(write):
    res = check_json(write("config.json", b"\xef\xbb\xbf" + '["é", 2]'.encode()))
    assert (res.ok, res.detail) == (True, "JSON array with 2 items")


def test_json_not_utf8_fails(write):
    res = check_json(write("config.json", b'{"a": "\xff"}'))
    assert not res.ok
    assert res.detail.startswith("not UTF-8:") and "byte 7" in res.detail


def test_json_deep_nesting_fails_instead_of_raising(write):
    res = check_json(write("config.json", b"[" * 100_000 + b"]" * 100_000))
    assert not res.ok
    assert "nested too deeply" in res.detail


# ------------------------------------------------------------------------------------ shard indexes


def test_shard_index_with_all_shards_present(write):
    path = write("idx.json", mf.make_shard_index({"model-00001-of-00002.safetensors": ["a", "b"],
                                                  "model-00002-of-00002.safetensors": ["c"]}))
    available = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "config.json"}
    res = check_shard_index(path, "model.safetensors.index.json", available)
    assert res == FormatResult("index", True, "3 tensors in 2 shards, all present")


def test_shard_index_names_every_missing_shard(write):
    path = write("idx.json", mf.make_shard_index({"s-1.safetensors": ["a"], "s-2.safetensors": ["b"],
                                                  "s-3.safetensors": ["c"]}))
    res = check_shard_index(path, "model.safetensors.index.json", {"s-2.safetensors"})
    assert (res.ok, res.detail) == (False, "missing shards: s-1.safetensors, s-3.safetensors")


def test_shard_index_in_subdirectory_resolves_shards_relative_to_it(write):
    path = write("idx.json", mf.make_shard_index({"model-00001-of-00002.safetensors": ["a"],
                                                  "model-00002-of-00002.safetensors": ["b"]}))
    index_repo_path = "sub/model.safetensors.index.json"
    present = {"sub/model-00001-of-00002.safetensors", "sub/model-00002-of-00002.safetensors"}
    assert check_shard_index(path, index_repo_path, present).ok
    # The same file names at the repo root don't count for an index that lives in sub/.
    res = check_shard_index(path, index_repo_path, {"model-00001-of-00002.safetensors",
                                                    "sub/model-00002-of-00002.safetensors"})
    assert (res.ok, res.detail) == (False, "missing shards: sub/model-00001-of-00002.safetensors")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ({"metadata": {}}, "weight_map is missing"),
        ({"weight_map": ["a.safetensors"]}, "weight_map is a JSON list"),
        ({"weight_map": {"a": 3}}, "weight_map entry 'a' does not name a shard file"),
        ({"weight_map": {}}, "weight_map is empty"),
        (["weight_map"], "index is a JSON list, expected an object"),
    ],
)
def test_shard_index_malformed_weight_map_fails(write, index, expected):
    path = write("idx.json", json.dumps(index).encode())
    res = check_shard_index(path, "pytorch_model.bin.index.json", {"a.safetensors"})
    assert res.check == "index" and not res.ok
    assert res.detail.startswith(expected)


def test_shard_index_that_is_not_json_fails(write):
    res = check_shard_index(write("idx.json", b'{"weight_map": '), "model.safetensors.index.json", set())
    assert not res.ok
    assert res.detail.startswith("invalid JSON:")


def test_is_shard_index_recognises_index_files():
    assert is_shard_index("model.safetensors.index.json")
    assert is_shard_index("sub/pytorch_model.bin.index.json")
    assert not is_shard_index("config.json")
    assert not is_shard_index("model.safetensors")


# ------------------------------------------------------------------------------------- dispatch & IO


@pytest.mark.parametrize(
    ("repo_path", "data", "check"),
    [
        ("model-q4.gguf", mf.make_gguf(), "gguf"),
        ("sub/model.safetensors", mf.make_safetensors(), "safetensors"),
        ("config.json", b"{}", "json"),
        ("model.safetensors.index.json", mf.make_shard_index({"a.safetensors": ["x"]}), "json"),
        ("MODEL.GGUF", mf.make_gguf(), "gguf"),
    ],
)
def test_check_file_dispatches_on_repo_path_name(write, repo_path, data, check):
    # The local name is a content hash, as in the HF cache: only repo_path may decide.
    res = check_file(write("blob-0123abcd", data), repo_path)
    assert res is not None
    assert (res.check, res.ok) == (check, True)


@pytest.mark.parametrize("repo_path", ["README.md", "pytorch_model.bin", "tokenizer.model", ".gitattributes"])
def test_check_file_returns_none_when_no_format_check_applies(write, repo_path):
    assert check_file(write("blob", b"\0garbage"), repo_path) is None


def test_check_file_reports_broken_file_through_dispatch(write):
    res = check_file(write("blob", mf.gguf_with_bad_magic()), "m.gguf")
    assert res is not None and not res.ok and res.check == "gguf"


@pytest.mark.parametrize("check", [check_gguf, check_safetensors, check_json])
def test_unreadable_paths_fail_instead_of_raising(tmp_path, check):
    missing = check(tmp_path / "nope")
    assert not missing.ok
    assert "cannot read" in missing.detail and "No such file" in missing.detail
    directory = check(tmp_path)
    assert not directory.ok
    assert "cannot read" in directory.detail


def test_unreadable_shard_index_fails_instead_of_raising(tmp_path):
    res = check_shard_index(tmp_path / "nope.json", "model.safetensors.index.json", set())
    assert res.check == "index" and not res.ok
    assert "No such file" in res.detail


def test_as_dict_is_json_serialisable():
    res = FormatResult("gguf", False, "missing GGUF magic: file starts with b'\\x00'")
    assert json.loads(json.dumps(res.as_dict())) == {"check": "gguf", "ok": False, "detail": res.detail}
