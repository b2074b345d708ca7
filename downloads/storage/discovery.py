"""Finding snapshots in Hugging Face caches that could be registered as variants.

Looks in the storage folder, the caches huggingface_hub uses by default (`$HF_HUB_CACHE`,
`$HF_HOME/hub`, `~/.cache/huggingface/hub`...) and any folder a person names. Each snapshot's
expected checksums come from its blob names (sha256 for LFS files, git-sha1 otherwise) or, better,
from huggingface_hub's cached tree listing (`trees/<commit>.json`), which also tells whether the
snapshot holds every file of its commit or only a subset.
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from downloads.models import ModelVariant
from downloads.storage.overview import storage_dir
from engine.cache.layout import repo_folder_name
from engine.cache.scan import TREES_DIR, CacheScan, RepoEntry, SnapshotEntry, scan_cache

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
KEY_SEP = "::"


@dataclass
class FoundFile:
    path: str
    kind: str  # as storage_scan.FileEntry.kind
    blob: str | None
    size: int | None
    sha256: str | None = None
    git_sha1: str | None = None

    @property
    def etag(self) -> str | None:
        """The blob name this file has (or gets) in a cache."""
        return self.blob if self.kind == "link" else (self.sha256 or self.git_sha1)

    def manifest_record(self) -> dict:
        return {"size": self.size or 0, "git_sha1": self.git_sha1 or "", "sha256": self.sha256,
                "fingerprint": None}


@dataclass
class FoundSnapshot:
    location: Path
    repo_id: str
    repo_type: str
    commit: str
    refs: list[str]
    files: dict[str, FoundFile]
    size: int
    complete: bool | None  # every file of the commit is here (known only from a cached tree listing)
    is_storage: bool
    problems: list[str] = field(default_factory=list)  # why it cannot be imported
    registered: ModelVariant | None = None

    @property
    def key(self) -> str:
        return KEY_SEP.join((str(self.location), self.repo_type, self.repo_id, self.commit))

    @property
    def folder(self) -> str:
        return repo_folder_name(self.repo_id, self.repo_type)

    @property
    def snapshot_path(self) -> Path:
        return self.location / self.folder / "snapshots" / self.commit

    def as_dict(self) -> dict:
        return {"key": self.key, "location": str(self.location), "repo_id": self.repo_id,
                "repo_type": self.repo_type, "commit": self.commit, "refs": self.refs,
                "files": len(self.files), "size": self.size, "complete": self.complete,
                "in_storage": self.is_storage,
                "problems": self.problems,
                "registered_variant_id": self.registered.pk if self.registered else None}


def default_cache_dirs() -> list[Path]:
    """The caches huggingface_hub would use here, read from the environment now (not at import)."""
    env = os.environ
    paths = [Path(env[name]) for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE") if env.get(name)]
    if env.get("HF_HOME"):
        paths.append(Path(env["HF_HOME"]) / "hub")
    if env.get("XDG_CACHE_HOME"):
        paths.append(Path(env["XDG_CACHE_HOME"]) / "huggingface" / "hub")
    paths.append(Path.home() / ".cache" / "huggingface" / "hub")
    return [p for p in _unique(paths) if p.is_dir()]


CACHE_PREFIXES = ("models--", "datasets--", "spaces--")


def typed_folder_problem(value: str) -> str:
    """Why a folder someone typed to import from cannot hold anything to import, or "" when it is a
    Hugging Face cache (a folder of models--*/datasets--* folders)."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        return f"{value} is not an absolute path: type the whole path, e.g. /home/me/.cache/huggingface/hub."
    if not path.exists():
        return f"{path} does not exist on this server."
    if not path.is_dir():
        return f"{path} is a file, not a folder."
    try:
        names = [entry.name for entry in os.scandir(path)]
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}."
    if any(name.startswith(CACHE_PREFIXES) for name in names):
        return ""
    inner = path / "hub"
    hint = (f" Did you mean {inner}? It is one." if inner.is_dir() and not typed_folder_problem(str(inner))
            else " A cache is the folder holding those, often ~/.cache/huggingface/hub.")
    return f"{path} is not a Hugging Face cache: it has no models--* or datasets--* folders.{hint}"


def scan_locations(extra=(), *, include_defaults: bool = True) -> list[Path]:
    """The storage folder first, then the default caches and `extra`, each once."""
    paths = [storage_dir()] + (default_cache_dirs() if include_defaults else [])
    paths += [Path(p).expanduser() for p in extra if str(p).strip()]
    return _unique(paths)


def find_snapshots(extra_locations=(), *, include_defaults: bool = True) -> list[FoundSnapshot]:
    scans = [scan_cache(p) for p in scan_locations(extra_locations, include_defaults=include_defaults)]
    return snapshots_in(scans)


def snapshots_in(scans: list[CacheScan]) -> list[FoundSnapshot]:
    """Every snapshot of already walked caches, marked with the variant that registers it, if any."""
    storage = storage_dir()
    found = [_found(scan.root, repo, snap, is_storage=_same(scan.root, storage))
             for scan in scans for repo in scan.repos for snap in repo.snapshots.values()]
    mark_registered(found)
    return found


def find_by_keys(keys, extra_locations=()) -> list[FoundSnapshot]:
    """The snapshots named by `FoundSnapshot.key`, re-scanned now (a form may be minutes old)."""
    wanted = [k.rsplit(KEY_SEP, 3) for k in keys if k.count(KEY_SEP) >= 3]
    locations = {w[0] for w in wanted}
    found = find_snapshots([*extra_locations, *locations])
    by_key = {(os.path.realpath(f.location), f.repo_type, f.repo_id, f.commit): f for f in found}
    return [f for w in wanted if (f := by_key.get((os.path.realpath(w[0]), w[1], w[2], w[3]))) is not None]


def _found(root: Path, repo: RepoEntry, snap: SnapshotEntry, *, is_storage: bool) -> FoundSnapshot:
    tree = _tree_listing(repo.path / TREES_DIR / f"{snap.commit}.json")
    files, problems = {}, []
    for path, entry in sorted(snap.files.items()):
        item = FoundFile(path, entry.kind, entry.blob, entry.size)
        listed = (tree or {}).get(path)
        if listed:
            item.git_sha1 = listed.get("blob_id") or None
            item.sha256 = listed.get("lfs_sha256") or None
            item.size = listed.get("lfs_size") or listed.get("size") or item.size
        elif entry.blob and SHA256_RE.match(entry.blob):
            item.sha256 = entry.blob
        elif entry.blob and SHA1_RE.match(entry.blob):
            item.git_sha1 = entry.blob
        if not (item.sha256 or item.git_sha1):
            why = f"blob name {entry.blob!r} is not a checksum" if entry.blob else "is not a link to a blob"
            problems.append(f"{path}: {why}, so it cannot be verified")
        files[path] = item
    if repo.repo_type not in ("model", "dataset"):
        problems.append(f"{repo.repo_type} repos are not supported")
    if not files:
        problems.append("the snapshot folder is empty")
    complete = None if tree is None else set(tree) == set(files)
    return FoundSnapshot(root, repo.repo_id, repo.repo_type, snap.commit, snap.refs, files,
                         repo.snapshot_size(snap.commit), complete, is_storage, problems)


def _tree_listing(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) and data.get("format_version") == 1 else None


def mark_registered(found: list[FoundSnapshot]) -> None:
    """Registered: a variant of the repo at that commit already lists every file of the snapshot."""
    repos = {(f.repo_type, f.repo_id) for f in found}
    variants: dict[tuple[str, str, str], list[ModelVariant]] = {}
    for v in ModelVariant.objects.filter(repo_id__in={r[1] for r in repos}):
        commit = v.installed_commit
        if commit and (v.repo_type, v.repo_id) in repos:
            variants.setdefault((v.repo_type, v.repo_id, commit), []).append(v)
    for f in found:
        for v in variants.get((f.repo_type, f.repo_id, f.commit), []):
            if set(f.files) <= set(v.installed_files):
                f.registered = v
                break


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _unique(paths) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        real = os.path.realpath(Path(p).expanduser())
        if real not in seen:
            seen.add(real)
            out.append(Path(os.path.abspath(Path(p).expanduser())))
    return out
