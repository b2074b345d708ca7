"""The GGUF quant Add from Hub recommends (catalog.recommended): Q4_K_M, else the nearest sensible one."""

import pytest

from engine import catalog
from engine.hub import RemoteFile


def listing(*paths: str) -> list[RemoteFile]:
    return [RemoteFile(p, 1000 + i, f"{i:040x}") for i, p in enumerate(paths)]


def recommended(*paths: str) -> str | None:
    best = catalog.recommended(catalog.build_choices(listing(*paths)))
    return best.name if best else None


@pytest.mark.parametrize("paths, expected", [
    (("m-Q2_K.gguf", "m-Q4_K_M.gguf", "m-Q8_0.gguf", "m-F16.gguf"), "Q4_K_M"),
    (("m-Q4_K_S.gguf", "m-Q5_K_M.gguf", "m-Q8_0.gguf"), "Q4_K_S"),
    (("m-Q8_0.gguf", "m-Q6_K.gguf", "m-Q3_K_M.gguf"), "Q6_K"),  # bigger and better before visibly worse
    (("m-Q3_K_M.gguf", "m-Q2_K.gguf", "m-F16.gguf"), "Q3_K_M"),
    (("m-TQ1_0.gguf", "m-MXFP4_MOE.gguf", "m-F16.gguf"), "TQ1_0"),  # none listed: the smallest quantised
    (("m-F16.gguf", "m-BF16.gguf"), None),  # only full precision: nothing to recommend
    (("mmproj-Q4_K_M.gguf", "m-Q8_0.gguf"), "Q8_0"),  # a vision projector is never the model to take
    (("model.safetensors", "config.json"), None),
])
def test_the_recommended_quant_follows_the_documented_order(paths, expected):
    assert recommended(*paths) == expected


def test_split_gguf_counts_as_one_quant():
    parts = ("m-Q4_K_M-00001-of-00002.gguf", "m-Q4_K_M-00002-of-00002.gguf")
    assert recommended(*parts, "m-Q8_0.gguf") == "Q4_K_M"
