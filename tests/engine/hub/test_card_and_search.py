"""The Hub client's model card and model search (engine/hub/card.py, search.py): against the test Hub,
and against a hostile one for the values and redirects a mirror may send."""

import pytest

from engine.errors import ErrorCode, HubError
from engine.hub import HubClient, RepoFacts
from engine.hub.card import MAX_CHARS, first_lines
from engine.retrying import Backoff
from fakehub.hostile import HostileHub
from tests.engine.hub.world import TOKEN
from tests.modelfiles import make_gguf


def test_first_lines_drop_front_matter_html_and_images_and_keep_the_words():
    card = ("---\nlicense: mit\ntags:\n- a\n---\n<div align='center'><img src='x.png'></div>\n\n# Title\n"
            "<style>h1 {color: red}</style>Some **bold** words.\n\n![alt](http://x/y.png)\n---\n| a | b |\n"
            "|---|---|\nEnd.\x07\u202e")
    assert first_lines(card) == "# Title\nSome **bold** words.\n| a | b |\nEnd."


def test_first_lines_are_capped_in_lines_and_characters():
    assert first_lines("\n".join(f"line {i}" for i in range(100))).count("\n") == 11
    long = first_lines("word " * 10_000)
    assert len(long) <= MAX_CHARS and long.endswith("…")
    assert first_lines("---\nonly: metadata\n---\n") == ""


def test_the_card_is_read_at_the_commit_from_the_test_hub(hub):
    card = b"---\nlicense: mit\n---\n# M\nA model.\n"
    repo = hub.add_repo("org/m", {"README.md": card, "m.gguf": make_gguf()})
    hub.add_repo("org/bare", {"m.gguf": make_gguf()})
    client = HubClient(hub.url, None)
    assert client.card("org/m", "model", repo.sha).text == "# M\nA model."
    bare = client.card("org/bare", "model", hub.get_repo("org/bare").sha)
    assert bare.text == "" and bare.problem == "this repository has no model card (README.md)"


def test_a_gated_card_and_a_dead_hub_are_reported_not_raised(hub):
    repo = hub.add_repo("org/gated", {"README.md": b"# gated"}, gated="manual")
    client = HubClient(hub.url, None)
    assert client.card("org/gated", "model", repo.sha).problem == (
        "the model card is not readable with the current token")
    hub.stop()
    dead = client.card("org/gated", "model", repo.sha)
    assert dead.problem.startswith("the model card could not be read (")


def test_a_huge_card_is_read_only_in_part_and_a_redirect_elsewhere_gets_no_token():
    with HostileHub() as evil:
        evil.repo("org/big", files={"README.md": b"# Big\n" + b"x" * 5_000_000})
        client = HubClient(evil.url, TOKEN)
        assert client.card("org/big", "model", "a" * 40).text.startswith("# Big\nxxx")
        evil.repo("org/moved", resolve={"README.md": lambda h: h.send(302, headers={
            "Location": f"{evil.elsewhere}/card.md"})})
        evil.elsewhere_handler = lambda h: h.send(200, b"# Moved card")
        assert client.card("org/moved", "model", "a" * 40).text == "# Moved card"
        assert evil.origins_that_saw(TOKEN) <= {evil.url}
        evil.repo("org/loop", resolve={"README.md": lambda h: h.send(302, headers={"Location": h.path})})
        assert "kept redirecting" in client.card("org/loop", "model", "a" * 40).problem


def test_the_license_comes_from_the_card_data_else_from_the_license_tag():
    from huggingface_hub.hf_api import ModelInfo

    def license_of(card_data, tags):
        return RepoFacts.from_info(ModelInfo(id="a/b", cardData=card_data, tags=tags)).license

    assert license_of({"license": "mit"}, ["license:other"]) == "mit"
    assert license_of({"license": ["mit", "apache-2.0"]}, ["license:other", 5, None]) == "other"
    assert license_of({"license": "x" * 500}, []) is None  # not a license name: nothing rather than junk
    assert license_of([1, 2], ["gguf"]) is None


def test_search_returns_checked_hits_from_the_test_hub(hub):
    hub.add_repo("org/tiny-a", {"README.md": b"a"})
    hub.add_repo("org/tiny-b", {"README.md": b"b"})
    hub.set_card("org/tiny-b", downloads=10, likes=2, pipeline_tag="sentence-similarity")
    result = HubClient(hub.url, None).search_models("TINY", limit=5)
    assert result.unsupported == "" and [h.repo_id for h in result.hits] == ["org/tiny-b", "org/tiny-a"]
    assert (result.hits[0].downloads, result.hits[0].likes, result.hits[0].pipeline_tag) == (
        10, 2, "sentence-similarity")
    assert [h.repo_id for h in HubClient(hub.url, None).search_models("tiny", limit=1).hits] == ["org/tiny-b"]


def test_search_on_an_endpoint_without_it_says_why(hub):
    hub.model_search = False
    result = HubClient(hub.url, None).search_models("tiny")
    assert result.hits == () and "does not offer model search (it answered HTTP 404" in result.unsupported


def test_search_errors_map_to_the_clients_codes(hub):
    hub.down = True
    client = HubClient(hub.url, None, backoff=Backoff(retries=1, base=0.01))
    with pytest.raises(HubError) as failed:
        client.search_models("tiny")
    assert failed.value.code == ErrorCode.SERVER_ERROR
