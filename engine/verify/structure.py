"""Files that only work together: a selection holding one of them must hold the others.

These are checked on paths alone (and, for a diffusers pipeline, its `model_index.json`), against
what the commit lists, so a glob that caught two of three shards, an `.onnx` without its external
data or voice config, or a pipeline without one of its components is named before it is called
installed:

- numbered parts: `x-00001-of-00003.safetensors` (or `.gguf`) needs parts 1 to 3;
- companions the commit lists beside a selected file: `voice.onnx` -> `voice.onnx.json` (Piper),
  `model.onnx` -> `model.onnx_data` / `model.onnx.data` (ONNX external weights), `model.xml` ->
  `model.bin` (OpenVINO);
- an ONNX encoder-decoder export: an encoder needs a decoder, and the other way round;
- a diffusers pipeline: every component `model_index.json` names is selected, with weights where
  the commit has weights for it.
"""

import posixpath
import re
from collections.abc import Callable, Iterable

_PART = re.compile(r"^(?P<stem>.+?)-(?P<n>\d{5})-of-(?P<total>\d{5})(?P<ext>\.[A-Za-z0-9_.]+)$")
_COMPANIONS = ((".onnx", (".onnx.json", ".onnx_data", ".onnx.data")), (".xml", (".bin",)))


def missing_parts(selected: Iterable[str], listed: Iterable[str] | None = None) -> list[str]:
    """Parts of a numbered series that the selection lacks. The series is what the commit lists with
    the same name, total and extension (numbering varies: model shards count from 1, dataset shards
    from 0, and some repos list one part more than the total); without a listing, the numbers."""
    selected = set(selected)
    series: dict[tuple, set[str]] = {}
    for path in selected:
        key = _series(path)
        if key:
            series.setdefault(key, set())
    for path in set(listed) if listed is not None else ():
        key = _series(path)
        if key in series:
            series[key].add(path)
    missing = set()
    for key, members in series.items():
        missing |= (members or set(_numbered(key, selected))) - selected
    return sorted(missing)


def _series(path: str) -> tuple | None:
    match = _PART.match(posixpath.basename(path))
    if not match:
        return None
    return posixpath.dirname(path), match["stem"], match["total"], match["ext"], len(match["n"])


def _numbered(key: tuple, selected: set[str]) -> list[str]:
    folder, stem, total, ext, width = key
    have = {int(_PART.match(posixpath.basename(p))["n"]) for p in selected if _series(p) == key}
    first = 0 if 0 in have else 1
    names = [f"{stem}-{n:0{width}d}-of-{total}{ext}" for n in range(first, int(total) + first)]
    return [posixpath.join(folder, name) if folder else name for name in names]


def missing_companions(selected: Iterable[str], listed: Iterable[str]) -> list[str]:
    selected, listed = set(selected), set(listed)
    missing = set()
    for path in selected:
        for suffix, companions in _COMPANIONS:
            if not path.endswith(suffix):
                continue
            stem = path[: -len(suffix)]
            missing |= {stem + c for c in companions if stem + c in listed and stem + c not in selected}
    return sorted(missing) + _missing_halves(selected, listed)


def _missing_halves(selected: set[str], listed: set[str]) -> list[str]:
    """An ONNX encoder-decoder export needs both halves (of any precision) in the same folder."""
    needed = []
    for half, other in (("encoder_model", "decoder_"), ("decoder_", "encoder_model")):
        for folder in {posixpath.dirname(p) for p in selected if posixpath.basename(p).startswith(half)
                       and p.endswith(".onnx")}:
            def in_folder(paths, prefix=other, folder=folder):
                return [p for p in paths if posixpath.dirname(p) == folder and p.endswith(".onnx")
                        and posixpath.basename(p).startswith(prefix)]
            if in_folder(listed) and not in_folder(selected):
                needed.append(f"{posixpath.join(folder, other) if folder else other}*.onnx")
    return needed


def missing_components(selected: Iterable[str], listed: Iterable[str], model_index: dict | None,
                       is_weights: Callable[[str], bool]) -> list[str]:
    """Components of a diffusers pipeline the selection lacks, or holds without any weights file."""
    if not isinstance(model_index, dict):
        return []
    selected, listed = set(selected), set(listed)
    missing = []
    for name, value in sorted(model_index.items()):
        if name.startswith("_") or not isinstance(value, list) or None in value:
            continue  # metadata, or an optional component the pipeline runs without
        chosen = [p for p in selected if p.startswith(name + "/")]
        weights_listed = [p for p in listed if p.startswith(name + "/") and is_weights(p)]
        if not chosen:
            missing.append(f"{name}/")
        elif weights_listed and not any(is_weights(p) for p in chosen):
            missing.append(f"{name}/ weights")
    return missing
