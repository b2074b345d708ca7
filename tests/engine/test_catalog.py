"""The catalog: a repo's files grouped into choices (one per quant, per sharded checkpoint, the whole
repo), each with exact include globs."""

import pytest

from engine import catalog
from engine.hub import RemoteFile
from engine.selection import clean_globs, select_files


def listing(*paths: str) -> list[RemoteFile]:
    return [RemoteFile(p, 1000 + i, f"{i:040x}") for i, p in enumerate(paths)]


def by_name(choices) -> dict[str, catalog.Choice]:
    return {c.name: c for c in choices}


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
                    "model-00002-of-00002.safetensors", "config.json", "tokenizer.json",
                    "generation_config.json",
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

