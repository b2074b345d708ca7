"""Is what is on disk what the Hub published: hashes, format checks, completeness."""

from engine.verify.completeness import DEFAULT_RULES, check_completeness
from engine.verify.hashing import HASH_READ_CHUNK, StreamHasher, hash_file, new_hasher
from engine.verify.kinds import AUTO, KINDS, resolve_kind
from engine.verify.report import (
    FileCheck,
    check_installed_file,
    fingerprint,
    verify_installed,
    verify_streamed,
)

__all__ = [
    "AUTO",
    "DEFAULT_RULES",
    "KINDS",
    "HASH_READ_CHUNK",
    "FileCheck",
    "StreamHasher",
    "check_completeness",
    "check_installed_file",
    "fingerprint",
    "hash_file",
    "new_hasher",
    "resolve_kind",
    "verify_installed",
    "verify_streamed",
]
