import json

import pytest

from engine.verify.formats import FormatResult
from engine.verify.formats.json_files import check_json, check_shard_index
from tests import modelfiles as mf


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

