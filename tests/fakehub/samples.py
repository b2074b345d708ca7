"""Repo content shared by the FakeHub tests."""

from tests.modelfiles import pseudo_random_bytes


def blob(n: int, seed: int) -> bytes:
    """``n`` incompressible bytes, the same for the same seed (LFS by size from 1024 bytes on)."""
    return pseudo_random_bytes(n, seed)


FILES: dict[str, bytes] = {
    "config.json": b'{"model_type": "llama", "hidden_size": 8}',
    "README.md": b"# tiny\n",
    "model.safetensors": blob(20_000, 1),
    "nested/deeper/weights.gguf": blob(3_000, 2),
    "nested/tokenizer.json": b'{"version": "1.0"}',
    "nested/big.txt": blob(1_500, 3),  # >= 1024 bytes => LFS by size
}
