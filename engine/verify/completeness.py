"""Completeness rules: is a variant's file selection enough to be the kind of model it claims to be.

A kind has alternatives, each a list of groups of globs; the selection satisfies the rule when, for
some alternative, every group matches at least one file. Settings may override the rule per kind.
"""

import fnmatch
from collections.abc import Iterable

WEIGHTS = ("*.safetensors|*.bin|*.pt|*.pth|*.ckpt|*.gguf|*.ggml|*.onnx|*.h5|*.msgpack|*.tflite|*.mlmodel|"
           "*.npz|*.nemo|*.ot")
TOKENIZER = ("tokenizer.json|tokenizer.model|tokenizer_config.json|vocab.json|vocab.txt|*.spm|spiece.model|"
             "sentencepiece*.model|merges.txt")
# kind -> alternatives; an alternative is satisfied when every group ("glob|glob|...") matches a file.
DEFAULT_RULES: dict[str, list[list[str]]] = {
    "text": [["*.gguf"], [TOKENIZER, WEIGHTS]],
    "embedding": [["*.gguf"], [TOKENIZER, WEIGHTS]],
    "translation": [[TOKENIZER, WEIGHTS]],
    "voice": [[WEIGHTS]],
    "files": [["*"]],
    "*": [[WEIGHTS]],
}
DATASET_RULE = [["*"]]


def rules_for(kind: str, repo_type: str, overrides: dict | None = None) -> tuple[str, list[list[str]]]:
    if repo_type == "dataset" and kind not in (overrides or {}):
        return "dataset", DATASET_RULE
    rules = {**DEFAULT_RULES, **(overrides or {})}
    key = (kind or "").strip().lower()
    return (key, rules[key]) if key in rules else ("*", rules["*"])


def _matches(group: str, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(path, g) for g in group.split("|"))


def check_completeness(paths: Iterable[str], kind: str, repo_type: str,
                       overrides: dict | None = None) -> dict:
    paths = list(paths)
    rule_name, alternatives = rules_for(kind, repo_type, overrides)
    if not paths:
        return {"ok": False, "rule": rule_name, "detail": "no files selected: an empty folder is not a model",
                "missing": ["any file"]}
    unmet = []
    for alternative in alternatives:
        missing = [g for g in alternative if not any(_matches(g, p) for p in paths)]
        if not missing:
            return {"ok": True, "rule": rule_name, "detail": f"matches {' + '.join(alternative)}",
                    "missing": []}
        unmet.append(missing)
    # Name every way the rule could have been met, so the user can see what to add to the selection.
    options = " — or — ".join(" and ".join(f"a file matching {g.replace('|', ', ')}" for g in m)
                              for m in unmet)
    return {"ok": False, "rule": rule_name, "detail": f"incomplete for kind {rule_name!r}: needs {options}",
            "missing": min(unmet, key=len)}
