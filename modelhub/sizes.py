"""Human sizes: `10GB`, `500MB`, `1.5GiB`, `0` <-> bytes. Decimal units are powers of 1000 (as the Hub
shows sizes), binary units (KiB, MiB...) powers of 1024."""

import re
from fractions import Fraction

_UNITS = {
    "": 1, "B": 1,
    "K": 1000, "KB": 1000, "M": 1000**2, "MB": 1000**2,
    "G": 1000**3, "GB": 1000**3, "T": 1000**4, "TB": 1000**4,
    "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(value: str | int) -> int:
    """`10GB` -> 10_000_000_000. Raises ValueError with a readable message."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    match = _SIZE.match(str(value))
    unit = match.group(2).upper() if match else None
    if not match or unit not in _UNITS:
        raise ValueError(f"{value!r} is not a size; use a number with an optional unit such as 500MB, 10GB "
                         "or 2GiB")
    # Long numbers stay exact (callers compare them with their column's range and say which option is
    # too large); only absurd lengths stop here, before int() parses megabytes of digits.
    if len(match.group(1)) > 1000:
        raise ValueError(f"{str(value)[:20]!r}... is far too large for a size")
    # Fraction, not float: exact for any number of digits, where float turns a long one into inf
    # (OverflowError) or rounds it.
    return int(Fraction(match.group(1)) * _UNITS[unit])


def format_size(n: int | float | None) -> str:
    if n is None:
        return "—"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
