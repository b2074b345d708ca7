"""No false errors on real repos: the file lists of popular repos of every family (written from public
knowledge in tests/data/repo_corpus.json) are complete under the inferred kind, and stop being
complete when the only weights, a shard, a part or a component goes missing from the selection."""

import fnmatch

import pytest

from engine.verify.completeness import check_completeness, is_weights
from engine.verify.kinds import RepoFacts, infer_kind
from tests.corpus import CORPUS, MODEL_INDEX, selected

EXPECTED_KIND = {
    "llm-safetensors": "text", "gguf": "text", "gguf-split": "text", "sentence-transformers": "embedding",
    "bert": "text", "whisper": "speech", "piper": "voice", "diffusers": "diffusers", "vision": "vision",
    "mlx": None, "onnx": None, "dataset": "dataset", "translation": "translation", "audio-tts": "voice",
    "peft": "adapter", "quantized-gptq-awq": "text",
}


def repo_id(entry) -> str:
    return f"{entry['repo_id']}{'[' + ','.join(entry['selection']) + ']' if entry.get('selection') else ''}"


def check(entry, paths):
    inferred = infer_kind(paths, entry["files"], RepoFacts(entry["pipeline_tag"], entry["library_name"],
                                                           tuple(entry["tags"])), entry["repo_type"])
    return inferred, check_completeness(paths, inferred.kind, entry["repo_type"], listed=entry["files"],
                                        model_index=MODEL_INDEX.get(entry["repo_id"]))


def test_the_corpus_covers_every_family_with_at_least_36_repos():
    assert len(CORPUS) >= 36
    assert {e["family"] for e in CORPUS} == set(EXPECTED_KIND)


@pytest.mark.parametrize("entry", CORPUS, ids=repo_id)
def test_a_full_selection_is_complete_under_the_inferred_kind(entry):
    inferred, result = check(entry, selected(entry))
    assert result["ok"], (inferred, result)
    if EXPECTED_KIND[entry["family"]]:
        assert inferred.kind == EXPECTED_KIND[entry["family"]], inferred
    assert inferred.reason


@pytest.mark.parametrize("entry", CORPUS, ids=repo_id)
def test_without_any_of_its_weights_a_selection_is_incomplete(entry):
    paths = [p for p in selected(entry) if p not in entry["weights"]]
    _, result = check(entry, paths)
    assert not result["ok"]
    assert result["missing"]


def _needed_together(entry) -> list[str]:
    """Weights that no other selected file can stand in for: a part of a series of several, a
    diffusers component's or an adapter's weights, the only weights file of a selection."""
    chosen = selected(entry)
    weights = [w for w in entry["weights"] if w in chosen]
    if len(weights) == 1:
        return weights
    series = [w for w in weights if "-of-" in w and sum(p.split("-of-")[0][:-6] == w.split("-of-")[0][:-6]
                                                       for p in chosen if "-of-" in p) > 1]
    return series + [w for w in weights if w not in series and entry["family"] in ("diffusers", "peft")]


CASES = [(e, w) for e in CORPUS for w in _needed_together(e)]


@pytest.mark.parametrize("entry, weight", CASES, ids=[f"{repo_id(e)}-{w}" for e, w in CASES])
def test_a_missing_shard_part_or_only_weights_file_is_named(entry, weight):
    rest = [p for p in selected(entry) if p != weight]
    _, result = check(entry, rest)
    assert not result["ok"]
    if not rest:  # the selection was that one file
        assert result["detail"].startswith("no files selected")
        return
    globs = [g for option in result.get("options", [result["missing"]]) for group in option
             for g in group.split("|")]
    named = weight in result["missing"] or f"{weight.split('/')[0]}/" in " ".join(result["missing"]) or any(
        fnmatch.fnmatch(weight.rsplit("/", 1)[-1], g) for g in globs)
    assert named, result


def test_training_leftovers_are_not_weights():
    assert not is_weights("training_args.bin") and not is_weights("checkpoint-500/optimizer.pt")
    assert is_weights("adapter_model.bin") and is_weights("openvino/openvino_model.bin")
