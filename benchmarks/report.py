"""Rows of the result table (with PASS/MISS against targets) and the machine description."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.harness import MB, REPO_ROOT, tool


@dataclass
class Row:
    group: str
    name: str
    result: str
    target: str = ""
    status: str = ""  # PASS, MISS, ERROR, N/A or "" (information only)

    def as_dict(self) -> dict:
        return asdict(self)


def check(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def secs(t: float | None) -> str:
    return "—" if t is None else (f"{t:.2f} s" if t >= 0.1 else f"{t * 1000:.1f} ms")


def rate(nbytes: int, t: float | None) -> str:
    return "" if not t else f"{nbytes / t / MB:,.0f} MB/s"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def mb(n: int | float | None) -> str:
    return "—" if n is None else f"{n / MB:,.1f} MB"


MAX_RESULT = 64


def _cell(text: str) -> str:
    return text if len(text) <= MAX_RESULT else text[: MAX_RESULT - 1] + "…"


def render(rows: list[Row]) -> str:
    widths = [max(len(r.name) for r in rows), max(len(_cell(r.result)) for r in rows),
              max(len(r.target) for r in rows)]
    widths = [max(w, len(h)) for w, h in zip(widths, ("Measurement", "Result", "Target"), strict=True)]
    line = f"  {{:<{widths[0]}}}  {{:<{widths[1]}}}  {{:<{widths[2]}}}  {{}}"
    out, group = [], None
    out.append(line.format("Measurement", "Result", "Target", "Status"))
    out.append("  " + "-" * (sum(widths) + 12))
    for r in rows:
        if r.group != group:
            group = r.group
            out.append(group)
        out.append(line.format(r.name, _cell(r.result), r.target, r.status).rstrip())
    return "\n".join(out)


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    extra = [f for f in ("sha_ni", "avx2", "avx512f") if flags and f in flags.group(1).split()]
    return (m.group(1).strip() if m else "unknown") + (f" ({', '.join(extra)})" if extra else "")


def _mem_total() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        return f"{kb / 1024**2:.1f} GiB"
    except (OSError, AttributeError):
        return "unknown"


def machine(tmp: Path) -> dict:
    import django
    import huggingface_hub
    import requests

    du = shutil.disk_usage(tmp)
    git = _first_line(["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%h %s"])
    dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram": _mem_total(),
        "disk_free": f"{du.free / 1024**3:.0f} GiB free of {du.total / 1024**3:.0f} GiB ({tmp})",
        "load": contention(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.__version__,
        "huggingface_hub": f"{huggingface_hub.__version__} (hf CLI: {tool('hf')})",
        "requests": requests.__version__,
        "curl": _first_line(["curl", "--version"]).split(" (")[0],
        "openssl": _first_line(["openssl", "version"]),
        "modelhub": git + (" (+ uncommitted changes)" if dirty else ""),
    }


def render_machine(info: dict) -> str:
    return "\n".join(f"  {k:<16} {v}" for k, v in info.items())


def cpu_pressure() -> float | None:
    """Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), in %."""
    try:
        m = re.search(r"^some .*avg60=([\d.]+)", Path("/proc/pressure/cpu").read_text(), re.M)
        return float(m.group(1)) if m else None
    except OSError:
        return None


def contention() -> str:
    psi = cpu_pressure()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load average {load}" + (f"; CPU pressure (PSI some avg60) {psi:.0f}%" if psi is not None else "")
