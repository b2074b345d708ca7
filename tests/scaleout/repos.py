"""Repos the scenarios publish on the FakeHub: multi-MB LFS weights, small regular files, identical
contents in several repos, and variants of one repo that need the same blob.

File names carry the repo's name wherever a fault targets them: FakeHub faults match a file path,
whatever the repo, and each fault must hit the file it was meant for.
"""

from __future__ import annotations

import json
import random

MB = 1_000_000
CONFIG = json.dumps({"model_type": "fault-injection", "hidden_size": 64}).encode()  # the same in every repo


def data(seed: int, size: int) -> bytes:
    """Deterministic, incompressible bytes."""
    return random.Random(seed).randbytes(size)


def llm_repos(hub, count: int, *, size: int = 7 * MB) -> dict:
    """fi/llm-K: one big LFS file (unique), config.json (identical everywhere), a README. Repos 2 and 3 also
    share a 2 MB file with identical contents (one blob per repo in the HF layout, so sent once per repo)."""
    shared_tail = data(4242, 2 * MB)
    repos = {}
    for k in range(count):
        files = {f"llm-{k}.bin": data(k, size + k * 100_000), "config.json": CONFIG,
                 "README.md": f"# llm-{k}\nfault-injection model\n".encode()}
        if k in (2, 3):
            files["tail-shared.bin"] = shared_tail
        repos[f"fi/llm-{k}"] = hub.add_repo(f"fi/llm-{k}", files)
    return repos


def small_repos(hub, count: int, *, corrupt: int | None = None) -> dict:
    """fi/small-K: a 300 kB LFS file and small regular files; repo `corrupt` also has corrupt-me.bin."""
    repos = {}
    for k in range(count):
        files = {f"small-{k}.bin": data(100 + k, 300_000), "config.json": CONFIG,
                 "notes.txt": f"small repo {k}\n".encode() * 20}
        if k == corrupt:
            files["corrupt-me.bin"] = data(999, 600_000)
        repos[f"fi/small-{k}"] = hub.add_repo(f"fi/small-{k}", files)
    return repos


def multi_repo(hub) -> tuple[dict, list[tuple]]:
    """fi/multi with three variants: q4 and q8 each need multi-common.bin, the full one needs everything."""
    repo = hub.add_repo("fi/multi", {"multi-q4.bin": data(44, 4 * MB), "multi-q8.bin": data(88, 6 * MB),
                                     "multi-common.bin": data(77, 3 * MB), "config.json": CONFIG})
    variants = [
        ("fi/multi", "--include", "multi-q4.bin", "--include", "multi-common.bin", "--include", "config.json",
         "--name", "q4"),
        ("fi/multi", "--include", "multi-q8.bin", "--include", "multi-common.bin", "--include", "config.json",
         "--name", "q8"),
        ("fi/multi", "--name", "all"),
    ]
    return {"fi/multi": repo}, variants
