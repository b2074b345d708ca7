"""FakeHub's model search (`/api/models?search=`) and the card metadata it serves, read through
huggingface_hub's own client as the real Hub would be."""

import requests


def test_model_search_finds_public_repos_by_id_most_downloaded_first(hf, hub, api):
    for name in ("org/Tiny-GGUF", "org/tiny-embed", "other/big", "org/secret-tiny"):
        hub.add_repo(name, {"README.md": b"# card"}, private=name.endswith("secret-tiny"))
    hub.set_card("org/tiny-embed", pipeline_tag="feature-extraction", downloads=900, likes=7)
    hub.set_card("org/Tiny-GGUF", downloads=50, likes=1, tags=["gguf"])
    found = list(api.list_models(search="tiny", limit=10))
    assert [m.id for m in found] == ["org/tiny-embed", "org/Tiny-GGUF"]  # the private one is not listed
    assert (found[0].downloads, found[0].likes, found[0].pipeline_tag) == (900, 7, "feature-extraction")
    assert [m.id for m in api.list_models(search="tiny", limit=1)] == ["org/tiny-embed"]


def test_model_search_can_be_switched_off_like_a_mirror_without_it(hub):
    hub.add_repo("org/tiny", {"README.md": b"# card"})
    hub.model_search = False
    response = requests.get(f"{hub.url}/api/models", params={"search": "tiny"}, timeout=10)
    assert response.status_code == 404


def test_repo_info_carries_the_card_metadata_license_downloads_and_likes(hf, hub, api):
    hub.add_repo("org/tiny", {"README.md": b"---\nlicense: mit\n---\n# Tiny\n"})
    hub.set_card("org/tiny", tags=["gguf", "license:mit"], card_data={"license": "mit"}, downloads=3, likes=2)
    info = api.model_info("org/tiny")
    assert info.card_data.license == "mit" and "license:mit" in info.tags
    assert (info.downloads, info.likes) == (3, 2)
