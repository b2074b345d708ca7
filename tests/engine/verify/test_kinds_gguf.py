"""Kind inference for GGUF repos: an embedding model in GGUF is "embedding", not "text", whether the Hub
says so in its pipeline tag, in its tags only, or (on a mirror that sends no metadata) by its file name."""

import pytest

from engine.verify.kinds import RepoFacts, infer_kind


@pytest.mark.parametrize("files, facts, kind", [
    (["nomic-embed-text-v1.5.Q4_K_M.gguf"], RepoFacts("sentence-similarity"), "embedding"),
    (["bge-small.Q8_0.gguf"], RepoFacts(None, None, ("gguf", "feature-extraction")), "embedding"),
    (["bge-small.Q8_0.gguf"], RepoFacts(None, None, ("gguf", "sentence-transformers")), "embedding"),
    (["nomic-embed-text-v1.5.f16.gguf"], RepoFacts(), "embedding"),
    (["tinyllama.Q4_K_M.gguf"], RepoFacts(None, None, ("gguf", "text-generation")), "text"),
    (["tinyllama.Q4_K_M.gguf"], RepoFacts(), "text"),
])
def test_gguf_kind(files, facts, kind):
    assert infer_kind(files, files, facts).kind == kind
