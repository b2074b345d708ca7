"""The benchmark's repos, generated fast in the temp dir: incompressible big files and many small ones."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import MB, MiB

BLOCK = 4 * MiB


def _random_stream(seed: bytes):
    """Incompressible, non-repeating bytes at GB/s: AES-CTR over zeros (cryptography is a ModelHub
    dependency); without it, os.urandom blocks whose first bytes carry a counter."""
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:  # pragma: no cover - ModelHub's venv has it
        block = bytearray(os.urandom(BLOCK))
        counter = 0
        while True:
            counter += 1
            block[:16] = counter.to_bytes(8, "little") + seed[:8]
            yield bytes(block)
    enc = Cipher(algorithms.AES(seed[:32].ljust(32, b"\0")), modes.CTR(os.urandom(16))).encryptor()
    zeros = bytes(BLOCK)
    while True:
        yield enc.update(zeros)


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = _random_stream(os.urandom(32))
    left = size
    with open(path, "wb", buffering=0) as fh:
        while left > 0:
            block = next(stream)
            fh.write(block[: min(left, len(block))])
            left -= min(left, len(block))


@dataclass
class Repo:
    repo_id: str
    root: Path
    files: dict[str, int]  # path -> size

    @property
    def size(self) -> int:
        return sum(self.files.values())

    def url(self, endpoint: str, path: str) -> str:
        return f"{endpoint}/{self.repo_id}/resolve/main/{path}"


def big_repo(root: Path, repo_id: str, files: dict[str, int]) -> Repo:
    for name, size in files.items():
        write_random(root / name, size)
    return Repo(repo_id, root, dict(files))


def small_files_repo(root: Path, repo_id: str, count: int) -> Repo:
    """`count` files of 200 B to 256 KiB (log-uniform; those under 1 KiB are plain git files hashed with
    git-sha1, the rest LFS files with sha256), like the configs, tokenizers and READMEs of real repos.
    The .json ones are valid JSON (ModelHub checks their format)."""
    rng = random.Random(20251121)
    files: dict[str, int] = {}
    for i in range(count):
        size = int(2 ** rng.uniform(7.6, 18))
        sub = ("", "tokenizer/", "configs/", "docs/")[i % 4]
        ext = (".json", ".txt", ".md", ".model")[i % 4]
        path = f"{sub}file_{i:04d}{ext}"
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if ext == ".json":  # format-checked: must parse
            target.write_text(json.dumps({"index": i, "data": rng.randbytes(max(1, size // 2 - 20)).hex()}))
            size = target.stat().st_size
        else:
            target.write_bytes(rng.randbytes(size))
        files[path] = size
    return Repo(repo_id, root, files)


def describe_size(n: int) -> str:
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return f"{n >> 30} GiB"
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    return f"{n / MB:.1f} MB"
