"""One walk over a Hugging Face cache folder: repos, blobs, snapshot links, refs, partials, locks.

Plain data, no database and no hashing, so it is cheap enough to run on every page view. Symlinked
directories are never followed: a repo folder, `blobs/` or `snapshots/` that is a symlink is reported
as a problem instead, so nothing built on this scan can be led outside the folder it scanned.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.cache.layout import PARTIAL_SUFFIX, parse_repo_folder_name, within

LOCKS_DIR = ".locks"
# huggingface_hub's per-commit tree listing (`trees/<commit>.json`): the full file list of the commit.
TREES_DIR = "trees"
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class BlobEntry:
    name: str
    size: int
    mtime: float
    escaping: bool = False  # a symlink whose target lies outside the scanned folder


@dataclass
class FileEntry:
    """One file of a snapshot. `kind`: link (to blobs/), dangling (link to a missing blob), file
    (a regular file, not a link), foreign (link elsewhere inside the cache), escaping (link outside)."""

    path: str
    kind: str
    blob: str | None = None
    size: int | None = None


@dataclass
class SnapshotEntry:
    commit: str
    path: Path
    files: dict[str, FileEntry] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)

    @property
    def blob_names(self) -> set[str]:
        return {f.blob for f in self.files.values() if f.blob and f.kind == "link"}

    @property
    def dangling(self) -> list[str]:
        return sorted(p for p, f in self.files.items() if f.kind == "dangling")


@dataclass
class LooseFile:
    """A partial download or a lock file: path, size and modification time."""

    path: Path
    size: int
    mtime: float


@dataclass
class RepoEntry:
    repo_id: str
    repo_type: str
    folder: str
    path: Path
    blobs: dict[str, BlobEntry] = field(default_factory=dict)
    snapshots: dict[str, SnapshotEntry] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # ref name -> commit
    partials: list[LooseFile] = field(default_factory=list)
    locks: list[LooseFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def linked_blobs(self) -> set[str]:
        names: set[str] = set()
        for snap in self.snapshots.values():
            names |= snap.blob_names
        return names

    @property
    def blob_bytes(self) -> int:
        return sum(b.size for b in self.blobs.values())

    @property
    def partial_bytes(self) -> int:
        return sum(p.size for p in self.partials)

    def snapshot_size(self, commit: str) -> int:
        """Bytes a snapshot needs: each blob once, plus regular (non-link) files."""
        snap = self.snapshots[commit]
        total = sum(self.blobs[name].size for name in snap.blob_names if name in self.blobs)
        return total + sum(f.size or 0 for f in snap.files.values() if f.kind in ("file", "foreign"))


@dataclass
class CacheScan:
    root: Path
    exists: bool
    repos: list[RepoEntry] = field(default_factory=list)
    orphan_locks: list[LooseFile] = field(default_factory=list)  # locks of repo folders that are gone
    problems: list[str] = field(default_factory=list)


def scan_cache(root: Path) -> CacheScan:
    """Walk one cache folder (top level: `models--*`, `datasets--*`, `spaces--*`, `.locks`)."""
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        return CacheScan(root, exists=False)
    result = CacheScan(root, exists=True)
    by_folder: dict[str, RepoEntry] = {}
    for entry in _scandir(root, result.problems):
        if entry.name == LOCKS_DIR or parse_repo_folder_name(entry.name) is None:
            continue
        if entry.is_symlink():
            result.problems.append(f"{entry.path}: the repo folder is a symlink; not followed")
            continue
        if entry.is_dir(follow_symlinks=False):
            repo = scan_repo(root, entry.name)
            result.repos.append(repo)
            by_folder[entry.name] = repo
    _scan_locks(root, by_folder, result)
    result.repos.sort(key=lambda r: (r.repo_type, r.repo_id.lower()))
    return result


def scan_repo(root: Path, folder: str) -> RepoEntry:
    """Walk one `<type>s--org--name` folder of a cache."""
    root = Path(os.path.abspath(root))
    parsed = parse_repo_folder_name(folder)
    if parsed is None:
        raise ValueError(f"{folder!r} is not a cache repo folder name")
    repo = RepoEntry(parsed[0], parsed[1], folder, root / folder)
    if repo.path.is_symlink() or not repo.path.is_dir():
        repo.problems.append(f"{repo.path}: missing or a symlink; not followed")
        return repo
    _scan_blobs(root, repo)
    _scan_refs(repo)
    _scan_snapshots(root, repo)
    repo.locks = _lock_files(root / LOCKS_DIR / folder, repo.problems)
    return repo


def _scandir(path: Path, problems: list[str]) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problems.append(f"{path}: {exc.strerror or exc}")
        return []


def _real_dir(path: Path, repo: RepoEntry) -> bool:
    if path.is_symlink():
        repo.problems.append(f"{path} is a symlink; not followed")
        return False
    return path.is_dir()


def _scan_blobs(root: Path, repo: RepoEntry) -> None:
    blobs_dir = repo.path / "blobs"
    if not _real_dir(blobs_dir, repo):
        return
    for entry in _scandir(blobs_dir, repo.problems):
        if entry.name in IGNORED_NAMES or entry.is_dir(follow_symlinks=False):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if entry.name.endswith(PARTIAL_SUFFIX):
            repo.partials.append(LooseFile(Path(entry.path), st.st_size, st.st_mtime))
            continue
        escaping = False
        if entry.is_symlink():  # huggingface_hub's shared Xet store links blobs into <cache>/blobs/
            escaping = not within(entry.path, root)
            try:
                st = entry.stat()
            except OSError:
                repo.problems.append(f"{entry.path}: the blob is a broken symlink")
                continue
        repo.blobs[entry.name] = BlobEntry(entry.name, st.st_size, st.st_mtime, escaping)


def _scan_refs(repo: RepoEntry) -> None:
    refs_dir = repo.path / "refs"
    if not _real_dir(refs_dir, repo):
        return
    for dirpath, _dirnames, filenames in os.walk(refs_dir):
        for name in filenames:
            if name in IGNORED_NAMES or name.startswith("."):
                continue  # RepoCache.write_ref's temp files start with a dot
            path = Path(dirpath) / name
            try:
                commit = path.read_text().strip()
            except (OSError, UnicodeDecodeError):
                continue
            repo.refs[path.relative_to(refs_dir).as_posix()] = commit


def _scan_snapshots(root: Path, repo: RepoEntry) -> None:
    snaps_dir = repo.path / "snapshots"
    if not _real_dir(snaps_dir, repo):
        return
    blobs_dir = os.path.normpath(repo.path / "blobs")
    for entry in _scandir(snaps_dir, repo.problems):
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            if entry.name not in IGNORED_NAMES:
                repo.problems.append(f"{entry.path}: not a snapshot folder")
            continue
        snap = SnapshotEntry(entry.name, Path(entry.path))
        for dirpath, dirnames, filenames in os.walk(entry.path):  # os.walk never follows dir symlinks
            # A symlink to a directory shows up in dirnames; treat it like any other link.
            names = filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            for name in names:
                if name in IGNORED_NAMES:
                    continue
                full = os.path.join(dirpath, name)
                rel = Path(os.path.relpath(full, entry.path)).as_posix()
                snap.files[rel] = _snapshot_file(full, rel, blobs_dir, root, repo)
        snap.refs = sorted(name for name, commit in repo.refs.items() if commit == snap.commit)
        repo.snapshots[snap.commit] = snap


def _snapshot_file(full: str, rel: str, blobs_dir: str, root: Path, repo: RepoEntry) -> FileEntry:
    if not os.path.islink(full):
        try:
            return FileEntry(rel, "file", size=os.stat(full).st_size)
        except OSError:
            return FileEntry(rel, "dangling")
    target = os.path.normpath(os.path.join(os.path.dirname(full), os.readlink(full)))
    if os.path.dirname(target) == blobs_dir:
        name = os.path.basename(target)
        blob = repo.blobs.get(name)
        if blob is None:
            return FileEntry(rel, "dangling", blob=name)
        return FileEntry(rel, "link", blob=name, size=blob.size)
    if not within(full, root):
        return FileEntry(rel, "escaping")
    try:
        return FileEntry(rel, "foreign", size=os.stat(full).st_size)
    except OSError:
        return FileEntry(rel, "dangling")


def _scan_locks(root: Path, by_folder: dict[str, RepoEntry], result: CacheScan) -> None:
    """Lock folders of repos that are gone (the others were read with their repo)."""
    locks_dir = root / LOCKS_DIR
    if locks_dir.is_symlink() or not locks_dir.is_dir():
        return
    for folder_entry in _scandir(locks_dir, result.problems):
        if folder_entry.name not in by_folder:
            result.orphan_locks += _lock_files(Path(folder_entry.path), result.problems)


def _lock_files(folder: Path, problems: list[str]) -> list[LooseFile]:
    if folder.is_symlink() or not folder.is_dir() or folder.parent.is_symlink():
        return []
    locks = []
    for entry in _scandir(folder, problems):
        if entry.is_file(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)
            locks.append(LooseFile(Path(entry.path), st.st_size, st.st_mtime))
    return locks
