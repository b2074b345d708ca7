"""FakeHub's JSON API (repo info, tree, paths-info, revisions, refs, commits, errors and auth),
driven through the real huggingface_hub client to prove compatibility."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
import requests

from fakehub import git_blob_sha1
from tests.fakehub.samples import FILES, blob

# ----------------------------------------------------------------------------------- metadata and revisions


def test_repo_info_and_files_metadata(hf, hub, api):
    repo = hub.add_repo("org/tiny", FILES)
    assert api.repo_info("org/tiny").sha == repo.commit
    assert len(repo.commit) == 40

    info = api.model_info("org/tiny", files_metadata=True)
    assert info.id == "org/tiny" and info.sha == repo.commit and info.gated is False and info.private is False
    sib = {s.rfilename: s for s in info.siblings}
    assert set(sib) == set(FILES)
    st = sib["model.safetensors"]
    assert st.size == 20_000
    assert st.lfs.sha256 == hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    cfg = sib["config.json"]
    assert (
        cfg.lfs is None
        and cfg.blob_id == git_blob_sha1(FILES["config.json"]) == repo.files["config.json"].git_sha1
    )

    # entries exposed on the Repo object
    f = repo.files["nested/deeper/weights.gguf"]
    assert f.is_lfs and f.size == 3000 and f.sha256 == hashlib.sha256(FILES[f.path]).hexdigest()
    assert not repo.files["nested/tokenizer.json"].is_lfs and repo.files["nested/big.txt"].is_lfs

    ds = hub.add_repo("org/data", {"data/train.csv": b"a,b\n1,2\n"}, repo_type="dataset")
    dinfo = api.repo_info("org/data", repo_type="dataset", files_metadata=True)
    assert dinfo.sha == ds.commit and [s.rfilename for s in dinfo.siblings] == ["data/train.csv"]
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        api.repo_info("org/data")  # it is a dataset, not a model


def test_list_repo_tree_paginates(hf, hub, api):
    files = {f"shards/part-{i:02d}.bin": blob(100 + i, i) for i in range(9)}
    files.update(FILES)
    hub.add_repo("org/many", files)
    hub.reset_log()
    entries = list(api.list_repo_tree("org/many", recursive=True))
    tree_calls = [r for r in hub.requests if "/tree/" in r.path]
    assert len(tree_calls) > 2  # page size 4: more than two pages were followed via the Link header

    got = {e.path: e for e in entries if isinstance(e, hf.hf_api.RepoFile)}
    assert set(got) == set(files)
    for path, data in files.items():
        assert got[path].size == len(data)
        if got[path].lfs is not None:
            assert got[path].lfs.sha256 == hashlib.sha256(data).hexdigest()
        else:
            assert got[path].blob_id == git_blob_sha1(data)
    folders = {e.path for e in entries if isinstance(e, hf.hf_api.RepoFolder)}
    assert folders == {"shards", "nested", "nested/deeper"}

    top = {e.path for e in api.list_repo_tree("org/many")}
    assert top == {"shards", "nested", "config.json", "README.md", "model.safetensors"}
    sub = {e.path for e in api.list_repo_tree("org/many", "nested")}
    assert sub == {"nested/deeper", "nested/tokenizer.json", "nested/big.txt"}
    with pytest.raises(hf.errors.RemoteEntryNotFoundError):
        list(api.list_repo_tree("org/many", "nope"))

    infos = api.get_paths_info("org/many", ["config.json", "nested", "missing.txt"], expand=True)
    assert {i.path for i in infos} == {"config.json", "nested"}
    assert all(i.last_commit is not None for i in infos)


def test_revisions_tags_and_new_commits(hf, hub, api, tmp_path):
    first = hub.add_repo("org/rev", {"a.txt": b"one", "w.bin": b"w1"}, tags={"v1.0": "main"})
    second = hub.add_commit("org/rev", {"a.txt": b"two"})
    pr = hub.add_commit("org/rev", {"a.txt": b"pr"}, branch="refs/pr/1")
    assert len({first.commit, second.commit, pr.commit}) == 3
    assert second.parent == first.commit and set(second.files) == {"a.txt", "w.bin"}
    assert api.repo_info("org/rev").sha == second.commit
    assert api.repo_info("org/rev", revision="v1.0").sha == first.commit
    assert api.repo_info("org/rev", revision=first.commit).sha == first.commit
    assert api.repo_info("org/rev", revision="refs/pr/1").sha == pr.commit  # quoted as refs%2Fpr%2F1

    def get(rev):
        path = hf.hf_hub_download(
            "org/rev", "a.txt", revision=rev, cache_dir=tmp_path / "c", endpoint=hub.url, token=False
        )
        return pathlib.Path(path).read_bytes()

    assert get("main") == b"two"
    assert get("v1.0") == b"one"
    assert get(first.commit) == b"one"
    assert get("refs/pr/1") == b"pr"
    refs = api.list_repo_refs("org/rev", include_pull_requests=True)
    assert {t.name: t.target_commit for t in refs.tags} == {"v1.0": first.commit}
    assert [c.commit_id for c in api.list_repo_commits("org/rev")] == [second.commit, first.commit]


# ------------------------------------------------------------------------------------------ errors and auth


def test_error_classes(hf, hub, api, tmp_path):
    hub.add_repo("org/tiny", FILES)
    hub.add_repo("org/secret", {"a.txt": b"x"}, private=True)
    kw = {"cache_dir": tmp_path / "c", "endpoint": hub.url, "token": False}
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        api.repo_info("org/nope")
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.hf_hub_download("org/nope", "config.json", **kw)
    with pytest.raises(hf.errors.RevisionNotFoundError):
        api.repo_info("org/tiny", revision="nope")
    with pytest.raises(hf.errors.RevisionNotFoundError):
        hf.hf_hub_download("org/tiny", "config.json", revision="nope", **kw)
    with pytest.raises(hf.errors.RemoteEntryNotFoundError):
        hf.hf_hub_download("org/tiny", "missing.txt", **kw)
    with pytest.raises(hf.errors.RepositoryNotFoundError) as exc:
        api.repo_info("org/secret")
    assert exc.value.response.status_code == 401
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.hf_hub_download("org/secret", "a.txt", **kw)
    hub.add_token("tok-owner", user="org")
    assert api.repo_info("org/secret", token="tok-owner").sha

    r = requests.get(f"{hub.url}/api/agent-harnesses", timeout=5)
    assert r.status_code == 404 and r.json() == {"error": "Not Found"}
    r = requests.get(hub.resolve_url("org/tiny", "missing.txt"), timeout=5)
    assert r.headers["X-Error-Code"] == "EntryNotFound" and r.json()["error"]


def test_gated_repo(hf, hub, api, tmp_path):
    hub.add_repo("org/gated", {"model.safetensors": blob(2048, 9), "config.json": b"{}"}, gated="manual")
    hub.add_token("tok-yes", user="alice", can_access=["org/gated"])
    hub.add_token("tok-no", user="bob")
    assert api.repo_info("org/gated").gated == "manual"  # readable without a token, like the real Hub

    kw = {"cache_dir": tmp_path / "c", "endpoint": hub.url}
    with pytest.raises(hf.errors.GatedRepoError) as exc:
        hf.hf_hub_download("org/gated", "config.json", token=False, **kw)
    assert exc.value.response.status_code == 401
    with pytest.raises(hf.errors.GatedRepoError) as exc:
        hf.hf_hub_download("org/gated", "config.json", token="tok-no", **kw)
    assert exc.value.response.status_code == 403
    assert "not in the authorized list" in str(exc.value)
    with pytest.raises(hf.errors.GatedRepoError):
        list(api.list_repo_tree("org/gated", token="tok-no"))
    p = hf.snapshot_download("org/gated", token="tok-yes", **kw)
    assert (pathlib.Path(p) / "config.json").read_bytes() == b"{}"


def test_invalid_token_and_whoami(hf, hub, tmp_path):
    hub.add_repo("org/tiny", FILES)
    hub.add_token("tok-good", user="carol", role="write")
    api = hf.HfApi(endpoint=hub.url)
    me = api.whoami(token="tok-good")
    assert me["name"] == "carol" and me["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(hf.errors.HfHubHTTPError) as exc:
        api.whoami(token="tok-bad")
    assert exc.value.response.status_code == 401

    r = requests.get(f"{hub.url}/api/models/org/tiny", headers={"Authorization": "Bearer tok-bad"}, timeout=5)
    assert r.status_code == 401 and "X-Error-Code" not in r.headers
    assert r.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    with pytest.raises(hf.errors.HfHubHTTPError) as exc:
        hf.hf_hub_download(
            "org/tiny", "config.json", cache_dir=tmp_path / "c", endpoint=hub.url, token="tok-bad"
        )
    assert exc.value.response.status_code == 401
    assert not isinstance(exc.value, hf.errors.RepositoryNotFoundError)
