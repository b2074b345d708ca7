"""Completeness rules: is a variant's file selection enough to be the kind of model it is.

A kind has alternatives, each a list of groups of globs; the selection satisfies the rule when, for
some alternative, every group matches at least one file. Then the files that only work together
(structure.py: numbered parts, companions, a pipeline's components) must all be there. Settings may
override the rule of a kind. Which kind applies is inferred (kinds.py) unless the user chose one.

The rules were written against the file lists of real repos of every family (tests/data/
repo_corpus.json): each of them, fully selected, passes; none passes without its weights.
"""

import fnmatch
import posixpath
from collections.abc import Iterable

from engine.verify import structure

WEIGHTS = ("*.safetensors|*.bin|*.pt|*.pth|*.ckpt|*.gguf|*.ggml|*.onnx|*.onnx_data|*.h5|*.msgpack|*.tflite|"
           "*.mlmodel|*.npz|*.nemo|*.ot|*.pdparams|*.llamafile")
# Files with a weights extension that hold no weights: a trainer's pickled arguments and state.
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scheduler.bin",
               "rng_state*.pth", "scaler.pt")
TOKENIZER = ("tokenizer.json|tokenizer.model|tokenizer.model.*|tokenizer_config.json|vocab.json|vocab.txt|"
             "*.spm|spiece.model|sentencepiece*.model|merges.txt|tekken.json|*.tiktoken")
DATA = ("*.parquet|*.arrow|*.jsonl|*.jsonl.*|*.json|*.json.gz|*.csv|*.csv.gz|*.tsv|*.txt|*.zip|*.tar|*.tar.*|"
        "*.tgz|*.gz|*.zst|*.xz|*.bz2|*.npy|*.npz|*.h5|*.hdf5|*.wav|*.flac|*.mp3|*.ogg|*.png|*.jpg|*.jpeg|"
        "*.webp|*.pdf|*.xml|*.db|*.sqlite|*.lance")
# kind -> alternatives; an alternative is satisfied when every group ("glob|glob|...") matches a file.
DEFAULT_RULES: dict[str, list[list[str]]] = {
    "text": [["*.gguf"], [TOKENIZER, WEIGHTS]],
    "embedding": [["*.gguf"], [TOKENIZER, WEIGHTS]],
    "translation": [[TOKENIZER, WEIGHTS]],
    "speech": [[WEIGHTS]],
    "voice": [[WEIGHTS]],
    "vision": [[WEIGHTS]],
    "diffusers": [["model_index.json", WEIGHTS]],
    "adapter": [["adapter_config.json", "adapter_model.*"]],
    "weights": [[WEIGHTS]],
    "files": [["*"]],
    "dataset": [[DATA]],
    "*": [[WEIGHTS]],
}


def rules_for(kind: str, repo_type: str, overrides: dict | None = None) -> tuple[str, list[list[str]]]:
    key = (kind or "").strip().lower()
    if repo_type == "dataset" and key not in (overrides or {}):
        key = "dataset"
    rules = {**DEFAULT_RULES, **(overrides or {})}
    return (key, rules[key]) if key in rules else ("*", rules["*"])


def matches(group: str, path: str) -> bool:
    name = posixpath.basename(path)
    for glob in group.split("|"):
        if fnmatch.fnmatch(name, glob) or fnmatch.fnmatch(path, glob):
            # An extension glob never counts a trainer's leftovers as weights.
            return not (glob.startswith("*.") and any(fnmatch.fnmatch(name, n) for n in NOT_WEIGHTS))
    return False


def is_weights(path: str) -> bool:
    return matches(WEIGHTS, path)


def check_completeness(paths: Iterable[str], kind: str, repo_type: str, overrides: dict | None = None, *,
                       listed: Iterable[str] | None = None, model_index: dict | None = None) -> dict:
    """{ok, rule, detail, missing} for the selected `paths`; `listed` is every path of the commit
    (for the companions a selected file needs), `model_index` a diffusers pipeline's index."""
    paths = list(paths)
    rule_name, alternatives = rules_for(kind, repo_type, overrides)
    if not paths:
        return {"ok": False, "rule": rule_name, "detail": "no files selected: an empty folder is not a model",
                "missing": ["any file"]}
    unmet = []
    for alternative in alternatives:
        missing = [g for g in alternative if not any(matches(g, p) for p in paths)]
        if not missing:
            return _structure(paths, rule_name, alternative, paths if listed is None else list(listed),
                              model_index)
        unmet.append(missing)
    # Name every way the rule could have been met, so the user can see what to add to the selection.
    options = " — or — ".join(" and ".join(f"a file matching {g.replace('|', ', ')}" for g in m)
                              for m in unmet)
    return {"ok": False, "rule": rule_name, "detail": f"incomplete for kind {rule_name!r}: needs {options}",
            "missing": min(unmet, key=len), "options": unmet}


def _structure(paths: list[str], rule_name: str, alternative: list[str], listed: list[str],
               model_index: dict | None) -> dict:
    missing = structure.missing_parts(paths, listed) + structure.missing_companions(paths, listed)
    if rule_name == "diffusers":
        missing += structure.missing_components(paths, listed, model_index, is_weights)
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        return {"ok": False, "rule": rule_name, "missing": missing,
                "detail": f"incomplete for kind {rule_name!r}: these files belong with the selected ones "
                          f"but are not selected: {shown}"}
    return {"ok": True, "rule": rule_name, "detail": f"matches {' + '.join(alternative)}", "missing": []}
