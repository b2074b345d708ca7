"""The world a hostile Hub attacks, shared by this folder's tests and its conftest: the token, the
canary files beside storage, and the checks that nothing outside storage changed."""

import hashlib
import os
from pathlib import Path

from tests.jobs import run_download

TOKEN = "hf_HostileHubTestToken0001"
CANARY = b"precious bytes that must survive"
REPO = "org/evil"
VICTIMS = ("victim/x", "victim2/config.json", "victim3/model.safetensors")


def walk(root: Path, skip: Path) -> dict[str, str]:
    """Everything below `root` but `skip`: path -> content hash, link target or 'dir'."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if path == skip:
                continue
            if path.is_symlink():
                seen[str(path)] = "link:" + os.readlink(path)
            elif path.is_dir():
                seen[str(path)] = "dir"
            else:
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


def run(**variant):
    return run_download(REPO, kind="files", **variant)


def assert_token_only_at_endpoint(evil):
    assert evil.origins_that_saw(TOKEN) <= {evil.url}


def assert_nothing_written(storage):
    assert not (storage / "models--org--evil").exists()
    assert not (storage / ".locks" / "models--org--evil").exists()


def relative(target: Path, start: Path) -> str:
    return os.path.relpath(target, start)

