"""Per-file and per-variant checks, producing plain data for `DownloadJob.verification`.

A file passes when it is present, has the Hub's size and checksum (from the download stream, or a
re-read), and its format check (if any) passes. A variant passes when every file does and its
selection satisfies the completeness rule of its kind. Nothing here touches the database.
"""

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.cache.layout import RepoCache
from engine.verify import formats
from engine.verify.completeness import check_completeness
from engine.verify.hashing import hash_file


@dataclass
class FileCheck:
    path: str
    size_expected: int
    size_actual: int | None
    algo: str
    hash_expected: str
    hash_actual: str | None
    hash_source: str | None  # stream | rehash | fingerprint
    format: dict | None
    ok: bool
    reason: str = ""


def _format_checks(snapshot: Path, paths: list[str]) -> dict[str, dict | None]:
    results: dict[str, dict | None] = {}
    available = set(paths)
    for path in paths:
        local = snapshot / path
        if formats.is_shard_index(path):
            results[path] = formats.check_shard_index(local, path, available).as_dict()
            if results[path]["ok"]:
                json_result = formats.check_json(local)
                if not json_result.ok:
                    results[path] = json_result.as_dict()
        else:
            result = formats.check_file(local, path)
            results[path] = result.as_dict() if result else None
    return results


def _format_only(c: FileCheck) -> bool:
    """Failed only its format check: the bytes are the Hub's, so downloading them again cannot help."""
    return (bool(c.format) and not c.format["ok"] and c.size_actual == c.size_expected
            and c.hash_actual in (None, c.hash_expected))


def _shard_gap(c: FileCheck) -> bool:
    """An index naming shards that are not here: the selection (or the repo) lacks them."""
    return (_format_only(c) and c.format["check"] == "index"
            and c.format["detail"].startswith("missing shards"))


def failure_of(checks: list[FileCheck], completeness: dict) -> str:
    """Why a report failed, most fixable first: "files" (missing, truncated or wrong bytes: a new
    download can fix it), "format" (the Hub's own bytes are broken), "completeness" (the selection
    is not a whole model); "" when it passed."""
    failed = [c for c in checks if not c.ok]
    if any(not _format_only(c) for c in failed):
        return "files"
    if any(not _shard_gap(c) for c in failed):
        return "format"
    return "completeness" if failed or not completeness["ok"] else ""


def build_report(mode: str, checks: list[FileCheck], completeness: dict, kind: dict | None = None) -> dict:
    bad = [c.path for c in checks if not c.ok]
    ok = not bad and completeness["ok"]
    if ok:
        summary = f"{len(checks)} file(s) verified ({mode})"
    else:
        parts = []
        if bad:
            parts.append(f"{len(bad)} bad file(s): {', '.join(bad[:5])}{'…' if len(bad) > 5 else ''}")
        if not completeness["ok"]:
            parts.append(completeness["detail"])
        summary = "; ".join(parts)
    return {
        "ok": ok,
        "failure": failure_of(checks, completeness),
        "mode": mode,
        "kind": kind or {},
        "checked_at": datetime.now(UTC).isoformat(),
        "summary": summary,
        "failed_files": bad,
        "completeness": completeness,
        "files": [asdict(c) for c in checks],
    }


def _completeness(snapshot: Path, paths: list[str], kind: dict, repo_type: str, overrides: dict | None,
                  listed: list[str] | None) -> dict:
    return check_completeness(paths, kind["kind"], repo_type, overrides, listed=listed,
                              model_index=_model_index(snapshot, paths))


def _model_index(snapshot: Path, paths: list[str]) -> dict | None:
    """A diffusers pipeline's index (which components it needs), when selected; None if unreadable
    (its own format check reports that)."""
    if "model_index.json" not in paths:
        return None
    try:
        with open(snapshot / "model_index.json", "rb") as fh:
            value = json.loads(fh.read(1 << 20))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def verify_streamed(cache: RepoCache, commit: str, outcomes: list, *, kind: dict, repo_type: str,
                    overrides: dict | None = None, extra: list[FileCheck] | None = None,
                    listed: list[str] | None = None) -> dict:
    """After a download: hashes come from the stream (no second pass), plus format checks."""
    snapshot = cache.snapshot_dir(commit)
    paths = [o.path for o in outcomes] + [c.path for c in extra or []]
    fmt = _format_checks(snapshot, paths)
    checks = []
    for o in outcomes:
        size_actual = _size(snapshot / o.path)
        reasons = []
        if size_actual != o.size:
            reasons.append(f"size {size_actual} on disk, expected {o.size}")
        if o.actual != o.expected:
            reasons.append(f"{o.algo} mismatch")
        if fmt[o.path] and not fmt[o.path]["ok"]:
            reasons.append(f"{fmt[o.path]['check']}: {fmt[o.path]['detail']}")
        source = {"downloaded": "stream", "present": "rehash", "trusted": "fingerprint"}[o.how]
        checks.append(FileCheck(o.path, o.size, size_actual, o.algo, o.expected, o.actual, source,
                                fmt[o.path], not reasons, "; ".join(reasons)))
    for c in extra or []:
        if fmt.get(c.path) and not fmt[c.path]["ok"]:
            c.ok = False
            c.reason = "; ".join(filter(None, [c.reason, f"{fmt[c.path]['check']}: {fmt[c.path]['detail']}"]))
        c.format = fmt.get(c.path)
        checks.append(c)
    checks.sort(key=lambda c: c.path)
    completeness = _completeness(snapshot, paths, kind, repo_type, overrides, listed)
    return build_report("download", checks, completeness, kind)


def check_installed_file(snapshot: Path, path: str, record: dict, *, full: bool,
                         cancel: threading.Event | None = None,
                         on_bytes: Callable[[int], None] | None = None) -> tuple[FileCheck, dict | None]:
    """Re-check one installed file against its manifest record.

    Returns the check and, when the file was re-hashed and matched, a fresh fingerprint to store.
    Fast mode trusts an unchanged (size, mtime) fingerprint; a changed one triggers a re-hash so a
    mere `touch` is not reported as corruption, but an edit is.
    """
    algo = "sha256" if record.get("sha256") else "git-sha1"
    expected = record.get("sha256") or record["git_sha1"]
    local = snapshot / path
    size = record["size"]
    try:
        st = local.stat()  # follows the snapshot symlink to the blob
    except OSError:
        reason = "missing: the snapshot link or its blob is gone"
        return FileCheck(path, size, None, algo, expected, None, None, None, False, reason), None
    if st.st_size != size:
        word = "truncated" if st.st_size < size else "larger than expected"
        reason = f"{word}: {st.st_size:,} bytes on disk, the Hub says {size:,}"
        return FileCheck(path, size, st.st_size, algo, expected, None, None, None, False, reason), None
    fp = record.get("fingerprint") or {}
    if not full and fp.get("size") == st.st_size and fp.get("mtime_ns") == st.st_mtime_ns:
        return FileCheck(path, size, st.st_size, algo, expected, None, "fingerprint", None, True), None
    actual = hash_file(local, algo, size, cancel=cancel, on_bytes=on_bytes)
    if actual != expected:
        why = "changed on disk since it was verified" if fp and not full else "checksum mismatch"
        return FileCheck(path, size, st.st_size, algo, expected, actual, "rehash", None, False,
                         f"{why}: {algo} {actual[:12]}…, the Hub says {expected[:12]}…"), None
    return (FileCheck(path, size, st.st_size, algo, expected, actual, "rehash", None, True),
            fingerprint(local))


def verify_installed(cache: RepoCache, commit: str, manifest_files: dict, *, kind: dict, repo_type: str,
                     full: bool, overrides: dict | None = None, cancel: threading.Event | None = None,
                     on_bytes: Callable[[int], None] | None = None) -> tuple[dict, dict]:
    """Standalone verify of an installed variant. Returns (report, {path: new fingerprint})."""
    snapshot = cache.snapshot_dir(commit)
    paths = sorted(manifest_files)
    # hashlib releases the GIL: one thread per core keeps both cores busy on several large files.
    workers = max(1, min(len(paths), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
        results = list(pool.map(
            lambda p: check_installed_file(snapshot, p, manifest_files[p], full=full, cancel=cancel,
                                           on_bytes=on_bytes),
            paths,
        ))
    checks = [r[0] for r in results]
    new_fps = {c.path: r[1] for c, r in zip(checks, results, strict=True) if r[1]}
    present = [c.path for c in checks if c.size_actual is not None]
    fmt = _format_checks(snapshot, present)
    for c in checks:
        c.format = fmt.get(c.path)
        if c.format and not c.format["ok"]:
            c.ok = False
            c.reason = "; ".join(filter(None, [c.reason, f"{c.format['check']}: {c.format['detail']}"]))
    report = build_report("full" if full else "fast", checks,
                          _completeness(snapshot, paths, kind, repo_type, overrides, None), kind)
    return report, new_fps


def fingerprint(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "hashed_at": datetime.now(UTC).isoformat()}


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
