"""Issue 14, item 6: no duplicates. The same repo, revision and files are one variant whatever the
globs that chose them (Add from Hub, `manage.py download`, a pasted quant); every variant has a
readable name, imported ones too; Add from Hub says what is already there. Real downloads."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from huggingface_hub import hf_hub_download

from downloads import services
from downloads.models import DownloadJob, ModelVariant
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db
ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")


@pytest.fixture
def gguf(configured, hub):
    return hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(),
                                     "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"})})


def download(*args) -> dict:
    out = StringIO()
    call_command("download", *args, "--wait", "--json", stdout=out)
    return json.loads(out.getvalue())


def add_from_hub(client, *keys):
    return client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "revision": "main",
                                      "choices": list(keys), "kind": "auto"}, follow=True)


def test_a_command_line_download_of_an_added_quant_reuses_its_variant(admin_client, gguf):
    add_from_hub(admin_client, "gguf:m-Q4_K_M")
    added = ModelVariant.objects.get()
    assert added.include == ["m-Q4_K_M.gguf"]
    done = download("org/gguf", "--include", "*Q4_K_M*.gguf")
    assert done["state"] == "succeeded" and done["variant_id"] == added.pk
    again = download("hf.co/org/gguf:Q4_K_M")
    assert again["variant_id"] == added.pk
    assert ModelVariant.objects.count() == 1 and DownloadJob.objects.count() == 2


def test_add_from_hub_of_a_quant_the_command_line_downloaded_is_the_same_variant(admin_client, gguf):
    done = download("org/gguf", "--include", "*Q8_0*")
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model"}).content.decode()
    row = page.split('value="gguf:m-Q8_0"')[1].split("</tr>")[0]
    assert "already a variant:" in row and "(installed)" in row
    response = add_from_hub(admin_client, "gguf:m-Q8_0")
    assert any("1 already existed" in str(m) for m in response.context["messages"])
    assert list(ModelVariant.objects.values_list("pk", flat=True)) == [done["variant_id"]]


def test_a_repo_fully_covered_by_installed_quants_is_not_offered_as_new(admin_client, gguf):
    download("hf.co/org/gguf:Q4_K_M")
    download("hf.co/org/gguf:Q8_0")
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model"}).content.decode()
    row = page.split('value="all"')[1].split("</tr>")[0]
    assert "already on disk through" in row and "Q4_K_M</a>, " in row and "Q8_0</a>" in row


def test_globs_that_select_nothing_are_not_merged_into_another_variant(gguf):
    download("hf.co/org/gguf:Q4_K_M")
    from downloads.variants import repo_files

    typo, created = services.get_or_create_variant(repo_id="org/gguf", include=["*Q4-K-M*"],
                                                   files=repo_files("org/gguf", "model", "main"))
    assert created and typo.include == ["*Q4-K-M*"]


@pytest.mark.parametrize("include, exclude, name", [
    ([], [], "all files"),
    (["*Q8_0*.gguf"], [], "Q8_0"),
    (["big-Q5_K_S-00001-of-00002.gguf", "big-Q5_K_S-00002-of-00002.gguf"], [], "Q5_K_S"),
    (["config.json", "model.safetensors"], [], "config.json (+1 more)"),
    ([], ["*.gguf"], "all except *.gguf"),
])
def test_a_variant_nobody_named_gets_a_readable_name(configured, include, exclude, name):
    variant, _ = services.get_or_create_variant(repo_id="org/any", include=include, exclude=exclude)
    assert variant.name == name


def test_the_variant_form_names_a_variant_added_without_one(admin_client, configured):
    admin_client.post(reverse("admin:downloads_modelvariant_add"), {
        "repo_id": "org/form", "repo_type": "model", "revision": "main", "name": "", "kind": "auto",
        "include": "*Q6_K*.gguf", "exclude": ""})
    assert ModelVariant.objects.get().name == "Q6_K"


def test_import_never_creates_a_variant_without_a_name(configured, hub, tmp_path):
    hub.add_repo("org/cached", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"q": 8})})
    other = tmp_path / "other-cache"
    hf_hub_download("org/cached", "m-Q4_K_M.gguf", cache_dir=other, endpoint=hub.url, token=False)
    out = StringIO()
    call_command("scan_cache", "--path", str(other), "--import", "--json", stdout=out)
    [result] = json.loads(out.getvalue())
    assert result["outcome"] == "imported", result
    assert ModelVariant.objects.get(pk=result["variant_id"]).name == "Q4_K_M"
