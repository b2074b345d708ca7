"""Add from Hub: the catalog's grouping (unit tests) and the admin view against the test Hub."""

import pytest
from django.urls import reverse

from downloads.models import DownloadJob, JobState, ModelVariant
from engine import catalog
from engine.hub import RemoteFile
from engine.selection import clean_globs, select_files
from tests.modelfiles import make_gguf, make_safetensors, make_shard_index

ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")


def listing(*paths: str) -> list[RemoteFile]:
    return [RemoteFile(p, 1000 + i, f"{i:040x}") for i, p in enumerate(paths)]


def by_name(choices) -> dict[str, catalog.Choice]:
    return {c.name: c for c in choices}


# --- catalog --------------------------------------------------------------------------------------
@pytest.mark.parametrize("filename, quant", [
    ("tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", "Q4_K_M"),
    ("Qwen2.5-0.5B-Instruct-Q4_K.gguf", "Q4_K"),
    ("m-Q3_K_S.gguf", "Q3_K_S"), ("m-Q3_K_L.gguf", "Q3_K_L"), ("m-Q2_K.gguf", "Q2_K"),
    ("m.q5_1.gguf", "Q5_1"), ("m-Q4_0.gguf", "Q4_0"), ("m-Q8_0.gguf", "Q8_0"), ("m-Q6_K.gguf", "Q6_K"),
    ("Llama-3.2-1B-Instruct-BF16.gguf", "BF16"), ("m-f16.gguf", "F16"), ("m-fp32.gguf", "F32"),
    ("m-IQ2_XXS.gguf", "IQ2_XXS"), ("m-IQ4_NL.gguf", "IQ4_NL"), ("m-IQ3_M.gguf", "IQ3_M"),
    ("m-UD-Q4_K_XL.gguf", "Q4_K_XL"), ("model.gguf", None), ("Qwen2-7B.gguf", None),
])
def test_quant_is_parsed_from_the_file_name(filename, quant):
    assert catalog.quant_of(filename) == quant


def test_each_gguf_quant_is_its_own_choice_with_exact_paths():
    files = listing("m-Q4_K.gguf", "m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "README.md", "config.json")
    choices = by_name(catalog.build_choices(files))
    assert choices["Q4_K"].include == ("m-Q4_K.gguf",)  # never *Q4_K*, which would take Q4_K_M too
    for name in ("Q4_K", "Q4_K_M", "Q4_K_S"):
        assert choices[name].files == (f"m-{name}.gguf",)
        assert [f.path for f in select_files(files, list(choices[name].include), [])] == [f"m-{name}.gguf"]


def test_split_gguf_parts_form_one_choice_and_sizes_add_up():
    files = listing("Q8_0/m-Q8_0-00001-of-00003.gguf", "Q8_0/m-Q8_0-00002-of-00003.gguf",
                    "Q8_0/m-Q8_0-00003-of-00003.gguf", "m-Q4_K_M.gguf")
    choices = by_name(catalog.build_choices(files))
    q8 = choices["Q8_0"]
    assert q8.files == tuple(f.path for f in files[:3])
    assert q8.size == sum(f.size for f in files[:3])
    assert "in 3 parts" in q8.description
    assert choices["Q4_K_M"].files == ("m-Q4_K_M.gguf",)


def test_sharded_checkpoint_choice_has_index_shards_and_config_but_no_other_weights():
    files = listing("model.safetensors.index.json", "model-00001-of-00002.safetensors",
                    "model-00002-of-00002.safetensors", "config.json", "tokenizer.json", "generation_config.json",
                    "pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin",
                    "pytorch_model-00002-of-00002.bin", "onnx/model.onnx", "docs/notes.md")
    choices = catalog.build_choices(files)
    sharded = by_name(choices)["model.safetensors (sharded)"]
    assert set(sharded.files) == {"model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                  "model-00002-of-00002.safetensors", "config.json", "tokenizer.json",
                                  "generation_config.json"}
    assert "model-?????-of-00002.safetensors" in sharded.include  # compact, and provably exact
    assert "pytorch_model.bin (sharded)" in by_name(choices)
    only = by_name(choices)["safetensors only"]
    assert only.exclude == ("*.bin", "*.bin.index.json", "*.onnx")
    assert not any(p.endswith((".bin", ".bin.index.json", ".onnx")) for p in only.files)
    assert set(only.files) == set(sharded.files) | {"docs/notes.md"}


def test_choices_never_repeat_a_file_set_and_always_offer_the_whole_repo():
    files = listing("model.safetensors.index.json", "model-00001-of-00002.safetensors",
                    "model-00002-of-00002.safetensors", "config.json", "m-Q4_K_M.gguf")
    choices = catalog.build_choices(files)
    sets = [c.files for c in choices if c.key != "all"]
    assert len(sets) == len(set(sets))
    assert choices[-1].key == "all" and choices[-1].include == () and len(choices[-1].files) == 5
    names = [c.name for c in choices]
    assert "without GGUF" not in names or "safetensors only" not in names


def test_glob_characters_in_paths_are_matched_literally_and_pass_the_cleaner():
    files = listing("weird[1]*.gguf", "weird[2]x.gguf")
    [first] = [c for c in catalog.build_choices(files) if c.files == ("weird[1]*.gguf",)]
    assert clean_globs(list(first.include)) == list(first.include)


def test_same_quant_of_two_models_gets_distinct_names():
    choices = catalog.build_choices(listing("a-7b-Q4_K_M.gguf", "a-13b-Q4_K_M.gguf", "mmproj-a-f16.gguf"))
    names = [c.name for c in choices]
    assert {"a-7b-Q4_K_M", "a-13b-Q4_K_M", "mmproj-F16"} <= set(names)


# --- the view -------------------------------------------------------------------------------------
def test_add_from_hub_shows_commit_files_and_grouped_choices(admin_client, configured, hub):
    repo = hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(), "README.md": b"#"})
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model"}).content.decode()
    assert repo.sha in page and "files readable" in page and "No token: public repos only." in page
    assert 'value="gguf:m-Q4_K_M"' in page and 'value="gguf:m-Q8_0"' in page and 'value="all"' in page
    assert "<code>m-Q4_K_M.gguf</code>" in page
    assert "<details" in page and "All 3 files" in page


def test_add_from_hub_creates_one_variant_per_ticked_choice_and_downloads(admin_client, admin_user, configured, hub,
                                                                          django_capture_on_commit_callbacks):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(), "README.md": b"#"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD_FROM_HUB, {
            "repo_id": "org/gguf", "repo_type": "model", "revision": "main", "choices": ["gguf:m-Q4_K_M"],
            "kind": "text", "download_now": "on"}, follow=True)
    variant = ModelVariant.objects.get()
    assert (variant.name, variant.include, variant.exclude) == ("Q4_K_M", ["m-Q4_K_M.gguf"], [])
    job = DownloadJob.objects.get()
    assert job.requested_by == admin_user and job.dispatched_at is not None
    assert response.redirect_chain[-1][0] == reverse("admin:downloads_modelvariant_changelist") + "?q=org%2Fgguf"
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Created 1 variant(s)" in text and "queued 1 new job(s)" in text

    from downloads import tasks
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert hub.bytes_sent("m-Q8_0.gguf") == 0


def test_add_from_hub_without_a_ticked_choice_creates_nothing(admin_client, configured, hub):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf()})
    response = admin_client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "kind": "text"})
    assert response.status_code == 200 and "Tick at least one choice." in response.content.decode()
    forged = admin_client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "kind": "text",
                                              "choices": ["gguf:not-there"]})
    assert "not among this repo&#x27;s choices" in forged.content.decode()
    assert not ModelVariant.objects.exists()


def test_add_from_hub_lists_a_2000_file_repo_across_tree_pages(admin_client, configured, hub):
    files = {f"data/shard-{i:04d}.txt": f"{i}".encode() for i in range(2000)}
    files |= {"m-Q4_K_M.gguf": make_gguf(), "m-Q5_K_S.gguf": make_gguf(),
              "model.safetensors.index.json": make_shard_index({"model-00001-of-00002.safetensors": ["a"],
                                                                "model-00002-of-00002.safetensors": ["b"]}),
              "model-00001-of-00002.safetensors": make_safetensors(), "model-00002-of-00002.safetensors":
              make_safetensors(), "config.json": b"{}"}
    hub.add_repo("org/big", files)  # the fixture's Hub pages the tree by 50: 41 pages
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/big", "repo_type": "model"}).content.decode()
    assert "2006 file(s)" in page and "All 2006 files" in page
    assert "data/shard-1999.txt" in page  # the last page arrived
    assert 'value="gguf:m-Q4_K_M"' in page and 'value="gguf:m-Q5_K_S"' in page
    assert 'value="index:model.safetensors.index.json"' in page
    assert len(page) < 1_000_000


@pytest.mark.parametrize("params, field, fragment", [
    ({"repo_id": "not a repo"}, "repo_id", "is not a repo id"),
    ({"repo_id": "org/missing"}, "repo_id", "repo_not_found"),
    ({"repo_id": "org/gguf", "revision": "nope"}, "revision", "revision_not_found"),
])
def test_add_from_hub_explains_bad_input_on_the_form_and_creates_nothing(admin_client, configured, hub, params,
                                                                         field, fragment):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf()})
    response = admin_client.get(ADD_FROM_HUB, {"repo_type": "model", **params})
    assert fragment in " ".join(response.context["lookup"].errors[field])
    assert 'id="mh-create"' not in response.content.decode()
    assert not ModelVariant.objects.exists()


def test_add_from_hub_on_a_gated_repo_without_token_shows_the_license_guidance(admin_client, configured, hub):
    hub.add_repo("org/gated", {"m-Q4_K_M.gguf": make_gguf()}, gated="manual")
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gated", "repo_type": "model"}).content.decode()
    assert "<code>gated_no_token</code>" in page and "the authors approve each request" in page
    assert f'Accept the license at <a href="{hub.url}/org/gated"' in page
    assert 'value="all"' in page  # the whole repo can still be added, to download once access is granted


def test_add_from_hub_with_a_token_that_has_access_lists_the_gated_files(admin_client, configured, hub):
    hub.add_repo("org/gated", {"m-Q4_K_M.gguf": make_gguf()}, gated="manual")
    hub.add_token("hf_good_token_1234", can_access=["org/gated"])
    configured.set_hf_token("hf_good_token_1234")
    configured.save()
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gated", "repo_type": "model"}).content.decode()
    assert "files readable" in page and 'value="gguf:m-Q4_K_M"' in page
    assert "Token ending in …1234 (saved in Settings)" in page and "hf_good_token_1234" not in page
