"""A repo's file list grouped into the selections people download ("choices"), for Add from Hub.

Decisions (documented here because they decide what lands on disk):

* A GGUF quant is one *logical* file: a single ``*.gguf`` or a split set ``name-00001-of-00003.gguf``…
  Its include patterns are the exact paths of those files and nothing else: a GGUF carries its own
  tokenizer and metadata, so llama.cpp-style runtimes need no other file. Globs such as ``*Q4_K*.gguf``
  are avoided because they also match Q4_K_M / Q4_K_S. ``mmproj*`` files (vision projectors) get choices
  of their own, since only image-capable runtimes want them.
* A sharded checkpoint is its ``*.index.json``, the shards named after it (``model-00001-of-00004
  .safetensors``) and the non-weight files of the index's folder (config, tokenizer, generation config),
  which transformers needs to load it. Shards are selected with one ``?``-glob when that provably selects
  exactly them, else by exact paths.
* "safetensors only" and "everything except GGUF" exclude the other weight formats *and* their shard
  indexes (an index whose shards are absent would fail verification).
* "whole repository" has no patterns at all.

Every choice's patterns are run through `engine.selection.select_files` (the engine's own matching)
and must select exactly the intended files, so the size shown is the size a download fetches.
"""

import posixpath
import re
from dataclasses import dataclass

from engine.hub import RemoteFile
from engine.selection import select_files

WEIGHT_EXTENSIONS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".ggml", ".onnx", ".h5",
                     ".msgpack", ".tflite", ".mlmodel", ".npz", ".nemo", ".ot")

# Quantisation labels as llama.cpp names them; the lookarounds keep "Q4_K" from matching inside "Q4_K_M"
# (the alternatives are greedy and must end at a separator).
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])("
    r"I?Q[1-8]_K(?:_(?:XXS|XS|S|M|L|XL))?"
    r"|Q[1-8]_[01](?:_\d+_\d+)?"
    r"|IQ[1-4]_(?:XXS|XS|S|M|NL|XL)"
    r"|TQ[12]_0"
    r"|MXFP4(?:_MOE)?"
    r"|BF16|FP16|FP32|F16|F32"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"^(?P<base>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})$")
_SHARD = r"^{stem}-(\d+)-of-(\d+){ext}$"


@dataclass(frozen=True)
class Choice:
    key: str  # stable id the form posts back
    name: str  # becomes the variant's name
    description: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    files: tuple[str, ...]  # what the patterns select in this listing
    size: int


def quant_of(filename: str) -> str | None:
    """The quantisation label in a GGUF file name (the last one, normalised), e.g. ``Q4_K_M``."""
    found = _QUANT.findall(posixpath.basename(filename))
    if not found:
        return None
    label = found[-1].upper()
    return {"FP16": "F16", "FP32": "F32"}.get(label, label)


def literal(path: str) -> str:
    """A glob that matches `path` only. ``[`` / ``]`` become ``?`` because the variant cleaner refuses
    unbalanced brackets; that widens the match by one character at most, which the exactness check
    in `_choice` catches."""
    out = []
    for ch in path:
        out.append({"*": "[*]", "?": "[?]", "[": "?", "]": "?"}.get(ch, ch))
    return "".join(out)


def is_weight(path: str) -> bool:
    return path.lower().endswith(WEIGHT_EXTENSIONS)


def build_choices(files: list[RemoteFile]) -> list[Choice]:
    """Choices for a listing, most specific first; two choices never select the same file set."""
    candidates = [*_gguf_choices(files), *_sharded_choices(files), *_format_choices(files),
                  _whole_repo(files)]
    seen: set[tuple[str, ...]] = set()
    unique = []
    for choice in candidates:
        if choice is None or (choice.files in seen and choice.key != "all"):
            continue
        seen.add(choice.files)
        unique.append(choice)
    return unique


def by_key(choices: list[Choice]) -> dict[str, Choice]:
    return {c.key: c for c in choices}


# The GGUF quant Add from Hub marks "recommended". Q4_K_M is the usual balance of size and quality
# (what llama.cpp's and most runtimes' docs suggest first). Without it, the nearest sensible one: the
# other ~4.5-5 bits-per-weight quants, then bigger and better ones up to Q8_0, and only then the
# smaller, visibly worse Q3/Q2 ones. A repo with no quant from the list (only F16/BF16, or names
# without a label) gets its smallest quantised file; mmproj projectors are never recommended.
RECOMMENDED_QUANTS = ("Q4_K_M", "Q4_K_S", "IQ4_XS", "Q5_K_M", "IQ4_NL", "Q4_0", "Q5_K_S", "Q5_0", "Q6_K",
                      "Q8_0", "Q3_K_L", "Q3_K_M", "IQ3_M", "IQ3_XS", "Q3_K_S", "IQ3_XXS", "Q2_K", "IQ2_M")


def recommended(choices: list[Choice]) -> Choice | None:
    """The GGUF choice to suggest first (see RECOMMENDED_QUANTS), or None when there is no GGUF."""
    models = [(quant_of(c.key.removeprefix("gguf:")), c) for c in choices
              if c.key.startswith("gguf:") and not posixpath.basename(c.key[5:]).lower().startswith("mmproj")]
    for wanted in RECOMMENDED_QUANTS:
        found = [c for quant, c in models if quant == wanted]
        if found:
            return min(found, key=lambda c: c.size)
    unlisted = [c for quant, c in models if quant and quant not in ("F16", "BF16", "F32")]
    return min(unlisted, key=lambda c: c.size) if unlisted else None


# --- GGUF -----------------------------------------------------------------------------------------
def _gguf_choices(files: list[RemoteFile]) -> list[Choice]:
    logical: dict[tuple[str, str], list[RemoteFile]] = {}
    for f in files:
        if not f.path.lower().endswith(".gguf"):
            continue
        folder, name = posixpath.split(f.path)
        stem = name[: -len(".gguf")]
        split = _SPLIT.match(stem)
        logical.setdefault((folder, split.group("base") if split else stem), []).append(f)

    labels = {}
    for (folder, base) in logical:
        quant = quant_of(base)
        mmproj = base.lower().startswith("mmproj")
        labels[(folder, base)] = (f"mmproj-{quant}" if quant else base) if mmproj else (quant or base)
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1

    choices = []
    for (folder, base), members in logical.items():
        label = labels[(folder, base)]
        if counts[label] > 1:  # two models with the same quant in one repo: the file name tells them apart
            label = posixpath.join(folder, base)
        members.sort(key=lambda f: f.path)
        parts = f" in {len(members)} parts" if len(members) > 1 else ""
        choices.append(_choice(
            files, key=f"gguf:{posixpath.join(folder, base)}", name=label,
            description=f"GGUF {posixpath.join(folder, base)}{parts}",
            wanted=[f.path for f in members],
            include=[literal(f.path) for f in members],
        ))
    return sorted((c for c in choices if c), key=lambda c: (c.name.startswith("mmproj"), c.size, c.name))


# --- sharded checkpoints --------------------------------------------------------------------------
def _sharded_choices(files: list[RemoteFile]) -> list[Choice]:
    by_folder: dict[str, list[RemoteFile]] = {}
    for f in files:
        by_folder.setdefault(posixpath.dirname(f.path), []).append(f)
    choices = []
    for index in (f for f in files if f.path.endswith(".index.json")):
        folder, index_name = posixpath.split(index.path)
        # model.safetensors -> model, .safetensors
        stem, ext = posixpath.splitext(index_name[: -len(".index.json")])
        if not ext or ext == ".gguf":
            continue
        pattern = re.compile(_SHARD.format(stem=re.escape(stem), ext=re.escape(ext)))
        shards = sorted((f for f in by_folder[folder] if pattern.match(posixpath.basename(f.path))),
                        key=lambda f: f.path)
        if not shards:
            continue
        support = sorted(f.path for f in by_folder[folder]
                         if not is_weight(f.path) and not f.path.endswith(".index.json"))
        wanted = [index.path, *(f.path for f in shards), *support]
        exact = [literal(p) for p in wanted]
        compact = [literal(index.path), *_shard_globs(folder, stem, ext, shards),
                   *(literal(p) for p in support)]
        label = posixpath.join(folder, stem + ext)
        description = (f"{len(shards)} {ext.lstrip('.')} shards listed by {index.path}"
                       f"{', plus ' + str(len(support)) + ' config/tokenizer file(s)' if support else ''}")
        choice = (_choice(files, key=f"index:{index.path}", name=f"{label} (sharded)",
                          description=description, wanted=wanted, include=compact)
                  or _choice(files, key=f"index:{index.path}", name=f"{label} (sharded)",
                             description=description, wanted=wanted, include=exact))
        if choice:
            choices.append(choice)
    return choices


def _shard_globs(folder: str, stem: str, ext: str, shards: list[RemoteFile]) -> list[str]:
    """``model-?????-of-00004.safetensors`` when all shards share one total; else no compact form."""
    pattern = re.compile(_SHARD.format(stem=re.escape(stem), ext=re.escape(ext)))
    numbers = [pattern.match(posixpath.basename(f.path)).groups() for f in shards]
    totals = {total for _, total in numbers}
    widths = {len(part) for part, _ in numbers}
    if len(totals) != 1 or len(widths) != 1:
        return [literal(f.path) for f in shards]
    total, width = totals.pop(), widths.pop()
    return [literal(posixpath.join(folder, stem)) + "-" + "?" * width + f"-of-{total}" + literal(ext)]


# --- whole formats --------------------------------------------------------------------------------
def _format_choices(files: list[RemoteFile]) -> list[Choice | None]:
    exts = {posixpath.splitext(f.path.lower())[1] for f in files if is_weight(f.path)}
    out: list[Choice | None] = []
    if ".safetensors" in exts and len(exts) > 1:
        others = sorted(exts - {".safetensors"})
        out.append(_choice(files, key="safetensors", name="safetensors only",
                           description=f"everything except {', '.join(others)} weights and their shard "
                                       "indexes",
                           exclude=_excluding(files, others)))
    if ".gguf" in exts and len(exts) > 1:
        out.append(_choice(files, key="no-gguf", name="without GGUF",
                           description="everything except the GGUF files",
                           exclude=_excluding(files, [".gguf"])))
    return out


def _excluding(files: list[RemoteFile], exts: list[str]) -> list[str]:
    patterns = []
    for ext in exts:
        patterns.append(f"*{ext}")
        if any(f.path.endswith(f"{ext}.index.json") for f in files):
            patterns.append(f"*{ext}.index.json")
    return patterns


def _whole_repo(files: list[RemoteFile]) -> Choice:
    return Choice("all", "all files", f"the whole repository ({len(files)} files)", (), (),
                  tuple(sorted(f.path for f in files)), sum(f.size for f in files))


def _choice(files: list[RemoteFile], *, key: str, name: str, description: str,
            wanted: list[str] | None = None, include: list[str] = (),
            exclude: list[str] = ()) -> Choice | None:
    """Build a choice; None when its patterns would not select exactly `wanted`."""
    selected = select_files(files, list(include), list(exclude))
    paths = tuple(sorted(f.path for f in selected))
    if wanted is not None and paths != tuple(sorted(wanted)):
        return None
    return Choice(key, name[:100], description, tuple(include), tuple(exclude), paths,
                  sum(f.size for f in selected))
