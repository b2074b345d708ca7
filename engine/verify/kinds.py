"""Which kind of model a repo holds, so the right completeness rule applies without the user choosing.

The default kind is `auto`: the kind is inferred from what the Hub says about the repo (its
`pipeline_tag`, `library_name` and tags) and from the files themselves (a `model_index.json` is a
diffusers pipeline, an `adapter_config.json` a PEFT adapter, a `*.gguf` a llama.cpp model...). Files
that name a format win over metadata, which is often missing or generic on community repos. The
reason is kept, so the admin and `--json` can say which rule applied and why.
"""

import posixpath
from dataclasses import dataclass

from engine.hub.repo import RepoFacts
from engine.verify.completeness import TOKENIZER, WEIGHTS, matches

AUTO = "auto"
# What a user may choose (besides auto); each has a rule in completeness.DEFAULT_RULES.
KINDS = ("text", "embedding", "translation", "speech", "voice", "vision", "diffusers", "adapter", "weights",
         "files")

_PIPELINES = {
    "embedding": ("feature-extraction", "sentence-similarity"),
    "translation": ("translation",),
    "speech": ("automatic-speech-recognition", "audio-classification", "voice-activity-detection"),
    "voice": ("text-to-speech", "text-to-audio"),
    "vision": ("image-classification", "object-detection", "image-segmentation",
               "zero-shot-image-classification", "zero-shot-object-detection", "depth-estimation",
               "image-feature-extraction", "image-to-text", "mask-generation", "video-classification",
               "keypoint-detection", "image-text-to-text"),
    "diffusers": ("text-to-image", "image-to-image", "unconditional-image-generation", "text-to-video",
                  "image-to-video"),
    "text": ("text-generation", "text2text-generation", "fill-mask", "text-classification",
             "token-classification", "question-answering", "zero-shot-classification", "summarization",
             "table-question-answering", "conversational"),
}
_LIBRARIES = {"sentence-transformers": "embedding", "peft": "adapter", "diffusers": "diffusers",
              "timm": "vision", "open_clip": "vision"}


@dataclass(frozen=True)
class Inferred:
    kind: str
    reason: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "reason": self.reason}


def resolve_kind(chosen: str, selected: list[str], listed: list[str] | None = None,
                 facts: RepoFacts | None = None, repo_type: str = "model") -> dict:
    """{chosen, kind, reason}: the kind whose rule applies, and why (what the job report records)."""
    chosen = (chosen or AUTO).strip().lower()
    if chosen != AUTO:
        return {"chosen": chosen, "kind": chosen, "reason": "chosen for this variant"}
    inferred = infer_kind(selected, listed, facts, repo_type)
    return {"chosen": AUTO, "kind": inferred.kind, "reason": inferred.reason}


def infer_kind(selected: list[str], listed: list[str] | None = None, facts: RepoFacts | None = None,
               repo_type: str = "model") -> Inferred:
    """The kind of the selected files of a repo whose commit lists `listed` (default: the selection)."""
    facts = facts or RepoFacts()
    listed = listed if listed is not None else selected
    top = {p for p in listed if "/" not in p}
    if repo_type == "dataset":
        return Inferred("dataset", "a dataset repository")
    if "model_index.json" in top:
        return Inferred("diffusers", "model_index.json (a diffusers pipeline)")
    if "adapter_config.json" in top or facts.library_name == "peft":
        why = "adapter_config.json" if "adapter_config.json" in top else "library_name=peft"
        return Inferred("adapter", f"{why} (a PEFT adapter)")
    if facts.library_name in _LIBRARIES:
        return Inferred(_LIBRARIES[facts.library_name], f"library_name={facts.library_name}")
    if {"modules.json", "sentence_bert_config.json"} & top:
        return Inferred("embedding", "modules.json (a sentence-transformers model)")
    tag = facts.pipeline_tag
    if tag == "text2text-generation" and "translation" in facts.tags:
        return Inferred("translation", "pipeline_tag=text2text-generation with the translation tag")
    for kind, tags in _PIPELINES.items():
        if tag in tags:
            return Inferred(kind, f"pipeline_tag={tag}")
    return _from_files(selected, facts)


def _from_files(selected: list[str], facts: RepoFacts) -> Inferred:
    names = [posixpath.basename(p) for p in selected]
    if any(n.endswith(".gguf") for n in names) or "gguf" in facts.tags:
        # Embedding models ship as GGUF too (nomic-embed, bge...): their tags or, on a mirror that sends
        # none, their file names say so, and "text" would mislabel them.
        hit = next((t for t in facts.tags if t in (*_PIPELINES["embedding"], "sentence-transformers")), None)
        if hit:
            return Inferred("embedding", f"GGUF files with the tag {hit}")
        if any(n.endswith(".gguf") and "embed" in n.lower() for n in names):
            return Inferred("embedding", "GGUF files named as an embedding model")
        return Inferred("text", "GGUF files (llama.cpp)")
    if any(n.endswith(".onnx.json") for n in names):
        return Inferred("voice", "an .onnx model with its .onnx.json voice config (Piper)")
    for kind, tags in _PIPELINES.items():
        hit = next((t for t in facts.tags if t in tags), None)
        if hit:
            return Inferred(kind, f"tag {hit}")
    if any(matches(TOKENIZER, p) for p in selected) and any(matches(WEIGHTS, p) for p in selected):
        return Inferred("text", "a tokenizer and weights")
    # A model repo whose kind nothing tells is still a model: it needs weights. Only a kind chosen by
    # the user ("files") accepts a selection without any.
    return Inferred("weights", "a model repository whose files and metadata name no more specific kind")
