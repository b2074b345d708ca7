"""huggingface_hub's own API calls against a live ModelHub, as people make them: model_info and
dataset_info, list_repo_refs, list_repo_files, list_repo_tree and get_paths_info with expand=True,
hf_hub_download, file_exists, revision_exists and repo_exists. What they return is compared with what the
origin Hub says about the same repo."""

import hashlib
from pathlib import Path

import pytest

from tests.serving.conftest import assert_same_as_origin, install, tiny_files


@pytest.fixture
def client(endpoint, token, session_reset):
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint, token=token)


@pytest.fixture
def branches(configured, hub):
    """main (installed twice: as main and as the tag v1), dev (another commit), and the PR refs/pr/1."""
    main = hub.add_repo("org/tiny", tiny_files(), tags={"v1": "main"})
    dev = hub.add_commit("org/tiny", {"config.json": b'{"model_type": "dev"}'}, branch="dev")
    pr = hub.add_commit("org/tiny", {"config.json": b'{"model_type": "pr"}'}, branch="refs/pr/1")
    for revision in ("main", "v1", "dev", "refs/pr/1"):
        only = ["config.json"] if revision != "main" else []
        install("org/tiny", revision=revision, kind="files", include=only)
    return {"main": main.sha, "dev": dev.sha, "pr": pr.sha}


def test_list_repo_refs_lists_what_modelhub_recorded(branches, client, storage):
    # A ref left in the cache for a commit that is not installed is not served, so not listed.
    stray = storage / "models--org--tiny" / "refs" / "old"
    stray.write_text("f" * 40)
    refs = client.list_repo_refs("org/tiny")
    assert {(r.name, r.ref, r.target_commit) for r in refs.branches} == {
        ("main", "refs/heads/main", branches["main"]), ("v1", "refs/heads/v1", branches["main"]),
        ("dev", "refs/heads/dev", branches["dev"])}
    assert refs.converts == [] and refs.tags == [] and refs.pull_requests is None
    with_prs = client.list_repo_refs("org/tiny", include_pull_requests=True)
    assert [(r.name, r.target_commit) for r in with_prs.pull_requests] == [("refs/pr/1", branches["pr"])]
    # Every listed ref is one the client can download.
    for ref in [*refs.branches, *with_prs.pull_requests]:
        assert client.model_info("org/tiny", revision=ref.name).sha == ref.target_commit


def test_list_repo_refs_of_a_repo_that_is_not_installed(configured, client):
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        client.list_repo_refs("org/nothing")


def test_model_info_and_list_repo_files(configured, hub, client):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    info = client.model_info("org/tiny", files_metadata=True)
    assert (info.id, info.sha, info.author) == ("org/tiny", repo.sha, "org")
    weights = next(s for s in info.siblings if s.rfilename == "model.safetensors")
    assert weights.lfs.sha256 == hashlib.sha256(tiny_files()["model.safetensors"]).hexdigest()
    assert weights.size == len(tiny_files()["model.safetensors"])
    assert sorted(client.list_repo_files("org/tiny")) == sorted(tiny_files())
    assert client.file_exists("org/tiny", "nested/dir/extra.txt")
    assert not client.file_exists("org/tiny", "nested/missing.txt")
    assert client.repo_exists("org/tiny") and not client.repo_exists("org/other")
    assert client.revision_exists("org/tiny", repo.sha) and not client.revision_exists("org/tiny", "nope")


def test_expanded_listings_carry_last_commit(configured, hub, client):
    repo = hub.add_repo("org/tiny", tiny_files())
    install("org/tiny")
    entries = list(client.list_repo_tree("org/tiny", recursive=True, expand=True))
    assert {e.path for e in entries} == set(tiny_files()) | {"nested", "nested/dir"}
    for entry in entries:
        assert entry.last_commit.oid == repo.sha and entry.last_commit.title
        assert entry.last_commit.date.year >= 2024
    paths = client.get_paths_info("org/tiny", ["config.json", "nested"], expand=True)
    assert [(p.path, p.last_commit.oid) for p in paths] == [("config.json", repo.sha), ("nested", repo.sha)]
    assert client.get_paths_info("org/tiny", ["config.json"])[0].last_commit is None  # unexpanded


def test_dataset_info_and_hf_hub_download_of_a_dataset(configured, hub, client, tmp_path):
    from huggingface_hub import hf_hub_download, snapshot_download

    files = {"data/train.jsonl": b'{"text": "a"}\n' * 100, "README.md": b"# data"}
    repo = hub.add_repo("org/data", files, repo_type="dataset")
    install("org/data", repo_type="dataset")
    info = client.dataset_info("org/data", files_metadata=True)
    assert info.sha == repo.sha and sorted(s.rfilename for s in info.siblings) == sorted(files)
    assert client.list_repo_refs("org/data", repo_type="dataset").branches[0].target_commit == repo.sha
    cache = tmp_path / "client"
    got = hf_hub_download("org/data", "data/train.jsonl", repo_type="dataset", endpoint=client.endpoint,
                          token=client.token, cache_dir=cache)
    assert Path(got).read_bytes() == files["data/train.jsonl"]
    folder = snapshot_download("org/data", repo_type="dataset", endpoint=client.endpoint, token=client.token,
                               cache_dir=cache)
    assert_same_as_origin(hub, "org/data", Path(folder), files, "dataset")
    # A dataset is not a model: the model routes do not find it.
    assert not client.repo_exists("org/data")


def test_hf_file_system_lists_and_reads(configured, hub, client):
    """HfFileSystem (what the datasets library reads through): an expanded listing, a glob, ranged reads."""
    from huggingface_hub import HfFileSystem

    files = {"data/train.jsonl": b'{"text": "a"}\n' * 100, "README.md": b"# data"}
    repo = hub.add_repo("org/data", files, repo_type="dataset")
    install("org/data", repo_type="dataset")
    fs = HfFileSystem(endpoint=client.endpoint, token=client.token)
    listed = {e["name"]: e for e in fs.ls("datasets/org/data", detail=True)}
    assert set(listed) == {"datasets/org/data/README.md", "datasets/org/data/data"}
    assert listed["datasets/org/data/README.md"]["size"] == len(files["README.md"])
    assert fs.glob("datasets/org/data/**/*.jsonl") == ["datasets/org/data/data/train.jsonl"]
    assert fs.cat("datasets/org/data/data/train.jsonl") == files["data/train.jsonl"]
    with fs.open("datasets/org/data/data/train.jsonl", "rb") as fh:
        fh.seek(14)
        assert fh.read(14) == files["data/train.jsonl"][14:28]
    info = fs.info("datasets/org/data/README.md", expand_info=True)
    assert info["last_commit"].oid == repo.sha and info["lfs"] is None
