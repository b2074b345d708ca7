import struct
import tracemalloc

import pytest

from engine.verify.formats import FormatResult
from engine.verify.formats.gguf import GGML_TYPES, check_gguf
from tests import modelfiles as mf


def _gguf_header_end(data: bytes) -> int:
    """Offset where the default test GGUF's data section starts (its header padded to 32)."""
    first_tensor_bytes = mf.ggml_nbytes(*mf.DEFAULT_GGUF_TENSORS[0][1:])
    second_tensor_bytes = mf.ggml_nbytes(*mf.DEFAULT_GGUF_TENSORS[1][1:])
    return len(data) - (-(-first_tensor_bytes // 32) * 32) - second_tensor_bytes



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
    table = {name: (block, size) for name, block, size in GGML_TYPES.values()}
    assert {k: table[k] for k in expected} == expected
    assert 4 not in GGML_TYPES and 5 not in GGML_TYPES  # removed Q4_2/Q4_3


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
