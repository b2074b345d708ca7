"""Issue 14, item 5: what people paste from the Hub is accepted, in Add from Hub and in `manage.py
download`: file links (that file, or its whole GGUF quant, preselected), folder links, hf.co/org/name:QUANT,
org/name@revision and legacy single-name ids. Real downloads from the test Hub."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from downloads.models import DownloadJob, ModelVariant
from engine.selection import HubReference, InvalidInput, parse_reference
from tests.modelfiles import make_gguf

ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")


@pytest.mark.parametrize("text, expected", [
    ("https://huggingface.co/org/name/blob/main/x.Q4_K_M.gguf",
     HubReference("org/name", revision="main", path="x.Q4_K_M.gguf")),
    ("https://huggingface.co/org/name/resolve/v1.0/sub/model.gguf?download=true",
     HubReference("org/name", revision="v1.0", path="sub/model.gguf")),
    ("https://huggingface.co/org/name/tree/main", HubReference("org/name", revision="main")),
    ("https://huggingface.co/org/name/tree/refs/pr/2", HubReference("org/name", revision="refs/pr/2")),
    ("https://huggingface.co/org/name/blob/refs%2Fpr%2F1/a.gguf",
     HubReference("org/name", revision="refs/pr/1", path="a.gguf")),
    ("hf.co/org/name:Q4_K_M", HubReference("org/name", quant="Q4_K_M")),
    ("huggingface.co/org/name:q8_0", HubReference("org/name", quant="Q8_0")),
    ("org/name@v2", HubReference("org/name", revision="v2")),
    ("gpt2", HubReference("gpt2")),
    ("https://huggingface.co/gpt2/blob/main/config.json", HubReference("gpt2", revision="main",
                                                                       path="config.json")),
    ("https://huggingface.co/datasets/org/data", HubReference("org/data", repo_type="dataset")),
    ("hf://datasets/org/data", HubReference("org/data", repo_type="dataset")),
    ("http://mirror.local:8080/org/name/blob/main/a.gguf", HubReference("org/name", revision="main",
                                                                        path="a.gguf")),
])
def test_references_people_paste_are_read(text, expected):
    assert parse_reference(text, endpoints=("http://mirror.local:8080",)) == expected


@pytest.mark.parametrize("text, fragment", [
    ("https://example.com/org/name", "not a link to a Hugging Face Hub repo"),
    ("https://huggingface.co/spaces/org/app", "is a Space"),
    ("https://huggingface.co/org/name/discussions/3", "points elsewhere on the Hub"),
    ("https://huggingface.co/org/name/blob/main/../../etc/passwd", "not a safe repo path"),
    ("org/name/extra", "is not a repo id"),
])
def test_other_links_are_refused_with_a_reason(text, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        parse_reference(text)


@pytest.fixture
def gguf(hub):
    return hub.add_repo("org/gguf", {
        "m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"}),
        "big-Q5_K_S-00001-of-00002.gguf": make_gguf(metadata={"split": "1"}),
        "big-Q5_K_S-00002-of-00002.gguf": make_gguf(metadata={"split": "2"}),
        "README.md": b"# readme"}, tags={"v1": "main"})


def download(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("download", *args, "--wait", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_download_of_a_file_link_fetches_that_quant_only(configured, hub, gguf):
    done = download("https://huggingface.co/org/gguf/blob/main/m-Q4_K_M.gguf")
    assert done["state"] == "succeeded"
    variant = ModelVariant.objects.get(pk=done["variant_id"])
    assert (variant.name, variant.include) == ("Q4_K_M", ["m-Q4_K_M.gguf"])
    assert hub.bytes_sent("m-Q8_0.gguf") == 0 and hub.bytes_sent("README.md") == 0


@pytest.mark.django_db
def test_a_link_to_one_part_of_a_split_gguf_fetches_every_part(configured, hub, gguf):
    done = download(f"{hub.url}/org/gguf/resolve/main/big-Q5_K_S-00001-of-00002.gguf")
    variant = ModelVariant.objects.get(pk=done["variant_id"])
    assert done["state"] == "succeeded" and variant.name == "Q5_K_S"
    assert sorted(variant.installed_files) == ["big-Q5_K_S-00001-of-00002.gguf",
                                               "big-Q5_K_S-00002-of-00002.gguf"]


@pytest.mark.django_db
def test_download_of_an_ollama_style_quant_and_of_a_tag(configured, hub, gguf):
    done = download("hf.co/org/gguf:Q8_0")
    assert ModelVariant.objects.get(pk=done["variant_id"]).include == ["m-Q8_0.gguf"]
    tagged = download("org/gguf@v1", "--include", "README.md", "--kind", "files")
    assert tagged["state"] == "succeeded" and tagged["revision"] == "v1" and tagged["commit"] == gguf.sha


@pytest.mark.django_db
def test_a_legacy_single_name_repo_downloads(configured, hub, storage):
    hub.add_repo("gpt2", {"model.gguf": make_gguf()})
    done = download("gpt2")
    assert done["state"] == "succeeded" and done["repo_id"] == "gpt2"
    assert (storage / "models--gpt2" / "snapshots" / done["commit"] / "model.gguf").exists()


@pytest.mark.django_db
def test_an_unknown_quant_is_refused_with_what_the_repo_offers(configured, hub, gguf, capsys):
    with pytest.raises(CommandError) as exc:
        call_command("download", "hf.co/org/gguf:IQ2_XS", "--json")
    assert exc.value.returncode == 2
    message = json.loads(capsys.readouterr().out)["error_message"]
    assert "org/gguf has no IQ2_XS GGUF; it offers: " in message and "Q4_K_M" in message
    assert not DownloadJob.objects.exists()


@pytest.mark.django_db
def test_add_from_hub_preselects_the_quant_of_a_pasted_file_link(admin_client, configured, hub, gguf):
    for pasted in ("https://huggingface.co/org/gguf/blob/main/m-Q8_0.gguf", "hf.co/org/gguf:Q8_0"):
        page = admin_client.get(ADD_FROM_HUB, {"repo_id": pasted, "repo_type": "model"}).content.decode()
        assert 'value="gguf:m-Q8_0" id="mh-choice-' in page
        checked = page.split('value="gguf:m-Q8_0"')[1].split(">")[0]
        assert "checked" in checked and "Preselected from your link: <strong>Q8_0</strong>" in page
        other = page.split('value="gguf:m-Q4_K_M"')[1].split(">")[0]
        assert "checked" not in other


@pytest.mark.django_db
def test_add_from_hub_offers_a_pasted_plain_file_as_a_choice_of_its_own(admin_client, configured, hub, gguf):
    link = f"{hub.url}/org/gguf/blob/main/README.md"
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": link, "repo_type": "model"}).content.decode()
    assert 'value="file:README.md"' in page and 'name="ref_file" value="README.md"' in page
    admin_client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "revision": "main",
                                     "ref_file": "README.md", "choices": ["file:README.md"], "kind": "files"})
    variant = ModelVariant.objects.get()
    assert (variant.name, variant.include) == ("README.md", ["README.md"])


@pytest.mark.django_db
def test_add_from_hub_reads_tree_links_revisions_and_legacy_ids(admin_client, configured, hub, gguf):
    hub.add_repo("gpt2", {"model.gguf": make_gguf()})
    for pasted, shown in (("https://huggingface.co/org/gguf/tree/v1", "<code>v1</code> is commit"),
                          ("org/gguf@v1", "<code>v1</code> is commit"), ("gpt2", "<h2>gpt2</h2>")):
        page = admin_client.get(ADD_FROM_HUB, {"repo_id": pasted, "repo_type": "model"}).content.decode()
        assert shown in page and 'id="mh-create"' in page, pasted
    quant = admin_client.get(ADD_FROM_HUB, {"repo_id": "hf.co/org/gguf:IQ1_S", "repo_type": "model"})
    assert "org/gguf has no IQ1_S GGUF; it offers:" in " ".join(quant.context["lookup"].errors["repo_id"])
