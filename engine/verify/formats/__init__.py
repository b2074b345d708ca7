"""Cheap structural checks of downloaded model files.

They read headers only, so a multi-GB file costs milliseconds: the point is to catch truncated or corrupted
downloads (and HTML error pages saved under a model's name) before anything tries to load them, not to
validate the weights themselves. Every public function returns a FormatResult and never raises, because a
verifier that crashes on a hostile file is worse than one that reports it.
"""

from __future__ import annotations

import pathlib
import posixpath

from engine.verify.formats.gguf import check_gguf
from engine.verify.formats.json_files import check_json, check_shard_index
from engine.verify.formats.result import FormatResult
from engine.verify.formats.safetensors import check_safetensors

__all__ = [
    "FormatResult",
    "check_file",
    "check_gguf",
    "check_json",
    "check_safetensors",
    "check_shard_index",
    "is_shard_index",
]


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
