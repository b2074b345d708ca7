"""A commit's file list, asked for twice in a row (the download command names the variant, then its
job lists the files), is fetched from the Hub once; the revision is still resolved each time."""

import pytest

from engine.hub import HubClient, listings


@pytest.fixture
def listed(hub):
    listings.forget()
    hub.add_repo("org/listed", {f"f{i:03d}.txt": b"x" for i in range(120)})  # three pages of 50
    yield hub
    listings.forget()


def tree_and_info(hub):
    api = [r for r in hub.requests if r.path.startswith("/api/")]
    return len([r for r in api if "/tree/" in r.path]), len([r for r in api if "/tree/" not in r.path])


def test_the_same_commit_is_listed_once(listed):
    first = HubClient(listed.url, None).overview("org/listed", "model", "main")
    second = HubClient(listed.url, None).snapshot("org/listed", "model", "main")

    assert [f.path for f in second.files] == [f.path for f in first.files] and len(first.files) == 120
    assert tree_and_info(listed) == (3, 2)  # three pages once; the branch resolved twice


def test_a_new_commit_or_another_token_lists_again(listed):
    HubClient(listed.url, None).snapshot("org/listed", "model", "main")
    listed.add_token("hf_other", can_access=["*"])
    HubClient(listed.url, "hf_other").snapshot("org/listed", "model", "main")
    assert tree_and_info(listed)[0] == 6
    listed.add_repo("org/listed", {"new.txt": b"y"})  # a new commit on main
    snap = HubClient(listed.url, None).snapshot("org/listed", "model", "main")
    assert [f.path for f in snap.files] == ["new.txt"]
