"""The file lists of real Hub repos of every family (tests/data/repo_corpus.json, written from public
knowledge) and what the tests need to serve them: the selection a user makes, and small file
contents that pass ModelHub's format checks."""

import fnmatch
import json
import posixpath
import re
from pathlib import Path

from tests.modelfiles import make_gguf, make_safetensors, make_shard_index

CORPUS = json.loads((Path(__file__).resolve().parent / "data" / "repo_corpus.json").read_text())
# What each diffusers pipeline's model_index.json names (component -> [library, class]).
MODEL_INDEX = {
    "stabilityai/stable-diffusion-xl-base-1.0": {
        "_class_name": "StableDiffusionXLPipeline", "force_zeros_for_empty_prompt": True,
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]},
    "stable-diffusion-v1-5/stable-diffusion-v1-5": {
        "_class_name": "StableDiffusionPipeline", "feature_extractor": ["transformers", "CLIPImageProcessor"],
        "safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"],
        "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"]},
}
def selected(entry) -> list[str]:
    globs = entry.get("selection")
    return [p for p in entry["files"] if not globs or any(fnmatch.fnmatch(p, g) for g in globs)]




def facts(entry) -> dict:
    return {"pipeline_tag": entry["pipeline_tag"], "library_name": entry["library_name"],
            "tags": entry["tags"]}


def content(entry, path: str, chosen: list[str]) -> bytes:
    """Bytes for one file: valid for its format check, different for every path."""
    if path == "model_index.json" and entry["repo_id"] in MODEL_INDEX:
        return json.dumps(MODEL_INDEX[entry["repo_id"]]).encode()
    if path.endswith(".index.json"):
        folder = posixpath.dirname(path)
        shards = [p for p in chosen if posixpath.dirname(p) == folder and re.search(r"-\d{5}-of-\d{5}\.", p)
                  and p.endswith(".safetensors")]
        # mlx-community repos index one unsharded file: the index's own name without ".index.json"
        shards = shards or [path.removesuffix(".index.json")]
        return make_shard_index({posixpath.basename(s): [f"t{i}"] for i, s in enumerate(shards)})
    if path.endswith(".safetensors"):
        return make_safetensors(metadata={"path": path})
    if path.endswith(".gguf"):
        return make_gguf(metadata={"general.name": path})
    if path.endswith(".json"):
        return json.dumps({"path": path}).encode()
    return f"{path}\n".encode() * 20


def by_family() -> dict[str, dict]:
    """One entry per family: the first the corpus lists."""
    first: dict[str, dict] = {}
    for entry in CORPUS:
        first.setdefault(entry["family"], entry)
    return first
