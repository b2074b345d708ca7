"""The clients people already use, unchanged, against a live ModelHub: the `hf` CLI (a subprocess with
HF_ENDPOINT and HF_TOKEN) and huggingface_hub's snapshot_download, each from an empty cache. The bytes
they end up with are checked against what the origin Hub published."""

from pathlib import Path

import pytest

from serving.models import PullLog
from tests.serving.conftest import (
    assert_same_as_origin,
    gguf_files,
    hf_env,
    install,
    run_hf,
    tiny_files,
)


def test_hf_download_of_a_whole_repo_gets_the_origin_bytes(configured, hub, endpoint, token, client_home):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    done = run_hf("download", "--quiet", "org/tiny", env=hf_env(endpoint, client_home, token))
    assert done.returncode == 0, done.stdout + done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1])
    assert folder.name == repo.sha and folder.parent.name == "snapshots"
    assert folder.is_relative_to(client_home)
    assert_same_as_origin(hub, "org/tiny", folder, tiny_files())
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == \
        sorted(tiny_files())
    served = {p.path: p.bytes_served for p in PullLog.objects.filter(status=200)}
    assert served == {path: len(data) for path, data in tiny_files().items()}


def test_hf_download_of_one_file_and_the_cache_it_leaves_passes_hf_cache_verify(configured, hub, endpoint,
                                                                               token, client_home):
    hub.add_repo("org/gguf", gguf_files())
    install("org/gguf", include=["*Q4_K_M*"])
    env = hf_env(endpoint, client_home, token)
    done = run_hf("download", "--quiet", "org/gguf", "m-Q4_K_M.gguf", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    path = Path(done.stdout.strip().splitlines()[-1])
    assert_same_as_origin(hub, "org/gguf", path.parent, ["m-Q4_K_M.gguf"])
    # The client's cache is a normal one: hf's own checker, against this ModelHub, finds it right.
    check = run_hf("cache", "verify", "org/gguf", env=env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_snapshot_download_in_process_from_an_empty_cache(configured, hub, endpoint, token, tmp_path,
                                                          session_reset):
    from huggingface_hub import snapshot_download

    hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    folder = snapshot_download("org/tiny", endpoint=endpoint, token=token, cache_dir=tmp_path / "client")
    assert_same_as_origin(hub, "org/tiny", Path(folder), tiny_files())
    # The tree listing was written for offline use, as from the real Hub.
    trees = list((tmp_path / "client" / "models--org--tiny" / "trees").glob("*.json"))
    assert len(trees) == 1


def test_a_dataset_is_served_under_datasets(configured, hub, endpoint, token, client_home):
    files = {"data/train.jsonl": b'{"text": "a"}\n' * 100, "README.md": b"# data"}
    hub.add_repo("org/data", files, repo_type="dataset")
    install("org/data", repo_type="dataset")
    done = run_hf("download", "--quiet", "org/data", "--repo-type", "dataset",
                  env=hf_env(endpoint, client_home, token))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_same_as_origin(hub, "org/data", Path(done.stdout.strip().splitlines()[-1]), files, "dataset")


@pytest.mark.parametrize("revision", ["commit", "tag"])
def test_a_commit_sha_or_a_recorded_tag_resolves(configured, hub, endpoint, token, client_home, revision):
    repo = hub.add_repo("org/tiny", tiny_files(), tags={"v1": "main"})
    install("org/tiny", revision=repo.sha if revision == "commit" else "v1")
    asked = repo.sha if revision == "commit" else "v1"
    done = run_hf("download", "--quiet", "org/tiny", "config.json", "--revision", asked,
                  env=hf_env(endpoint, client_home, token))
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(done.stdout.strip().splitlines()[-1]).parent.name == repo.sha
