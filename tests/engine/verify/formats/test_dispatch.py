import json

import pytest

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


def test_is_shard_index_recognises_index_files():
    assert is_shard_index("model.safetensors.index.json")
    assert is_shard_index("sub/pytorch_model.bin.index.json")
    assert not is_shard_index("config.json")
    assert not is_shard_index("model.safetensors")



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
