"""What every format check returns, and the plumbing the header checks share."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FormatResult:
    check: str        # "gguf" | "safetensors" | "json" | "index"
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


class Invalid(Exception):
    """A definite format violation; its message becomes the FormatResult detail."""


def unreadable(check: str, path: pathlib.Path, exc: OSError) -> FormatResult:
    return FormatResult(check, False, f"cannot read {path}: {exc.strerror or exc}")


def run_header_check(check: str, path: pathlib.Path, parse: Callable[[BinaryIO, int], str],
                     buffering: int = -1) -> FormatResult:
    """Open the file, hand it and its size to `parse`; an Invalid or OSError becomes a failed result."""
    try:
        with open(path, "rb", buffering=buffering) as f:
            size = f.seek(0, 2)
            f.seek(0)
            return FormatResult(check, True, parse(f, size))
    except Invalid as exc:
        return FormatResult(check, False, str(exc))
    except OSError as exc:
        return unreadable(check, path, exc)
