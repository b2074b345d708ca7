import pytest

from engine.verify.formats.safetensors import check_safetensors
from tests import modelfiles as mf


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
