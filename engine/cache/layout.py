"""Paths of the standard Hugging Face cache, and the atomic steps that publish a file into it.

    <storage>/models--org--name/blobs/<etag>              verified contents
    <storage>/models--org--name/blobs/<etag>.incomplete   partial download (resumable, no uuid, so
                                                          another process can pick it up)
    <storage>/models--org--name/snapshots/<commit>/<path> relative symlink to ../../blobs/<etag>
    <storage>/models--org--name/refs/<branch>             commit sha the branch pointed to
    <storage>/.locks/models--org--name/<etag>.lock        who is writing that blob

Publishing order (partial -> blob -> snapshot link -> ref) means a reader never sees a link to
unverified bytes, and a crash at any point leaves either a resumable partial or a valid blob.
"""

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine.errors import ErrorCode, JobError

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
PARTIAL_SUFFIX = ".incomplete"
TREE_FORMAT_VERSION = 1  # huggingface_hub._tree_cache


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    return f"{repo_type}s--" + repo_id.replace("/", "--")


def parse_repo_folder_name(folder: str) -> tuple[str, str] | None:
    """`models--org--name` -> ("org/name", "model"); None for anything else."""
    for prefix, repo_type in (("models--", "model"), ("datasets--", "dataset"), ("spaces--", "space")):
        if folder.startswith(prefix):
            return folder[len(prefix):].replace("--", "/"), repo_type
    return None


def check_repo_path(path: str) -> str | None:
    """Why a repo file path is unsafe to write under a snapshot folder, or None when it is fine."""
    if not path or "\x00" in path:
        return "empty path or NUL byte"
    if path.startswith("/") or path.startswith("\\") or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    if "\\" in path:
        return "backslash in path"
    parts = PurePosixPath(path).parts
    if any(p in ("..", ".", "") for p in path.split("/")) or not parts:
        return "'..' or empty component"
    if parts[0] in (".git",):
        return "writes into .git"
    return None


def is_commit(revision: str) -> bool:
    return bool(COMMIT_RE.match(revision))


def plain_name(value: str, what: str) -> str:
    """`value` if it is one file name (a blob id, a commit): never a path, so it cannot climb out of
    its folder. downloads.hub_answers checks the exact shapes first; this is the backstop for every
    path built here, whoever passes the value."""
    if not value or value in (".", "..") or "/" in value or "\\" in value or "\x00" in value:
        raise JobError(ErrorCode.UNSAFE_PATH, f"Refusing {what} {value!r}: it is not a plain file name",
                       value=repr(value))
    return value


def within(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when `path` (resolved, symlinks followed) lies inside `root` (resolved)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class RepoCache:
    storage_dir: Path
    repo_id: str
    repo_type: str = "model"
    # Folders already checked to resolve inside storage during this object's life (a job's), so the
    # per-file cost of the check is one set lookup.
    _checked: set = field(default_factory=set, compare=False, hash=False, repr=False)

    @property
    def folder(self) -> str:
        return repo_folder_name(self.repo_id, self.repo_type)

    @property
    def root(self) -> Path:
        return self.storage_dir / self.folder

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def lock_dir(self) -> Path:
        return self.storage_dir / ".locks" / self.folder

    def blob_path(self, etag: str) -> Path:
        return self.blobs_dir / plain_name(etag, "blob id")

    def partial_path(self, etag: str) -> Path:
        return self.blobs_dir / f"{plain_name(etag, 'blob id')}{PARTIAL_SUFFIX}"

    def lock_path(self, etag: str) -> Path:
        return self.lock_dir / f"{plain_name(etag, 'blob id')}.lock"

    def snapshot_dir(self, commit: str) -> Path:
        return self.root / "snapshots" / plain_name(commit, "commit")

    def check_inside(self, folder: Path) -> None:
        """Refuse to write into `folder` when a symlink on the way leads out of the storage folder."""
        if folder in self._checked:
            return
        if not within(folder, self.storage_dir):
            raise JobError(ErrorCode.UNSAFE_PATH, f"Refusing to write into {folder}: it resolves to "
                           f"{os.path.realpath(folder)}, outside the storage folder {self.storage_dir}",
                           value=str(folder), files=[str(folder)])
        self._checked.add(folder)

    def snapshot_file(self, commit: str, repo_path: str) -> Path:
        """The snapshot path of a repo file, refusing any path that would land outside the snapshot."""
        reason = check_repo_path(repo_path)
        target = (self.snapshot_dir(commit) / repo_path)
        if reason is None:
            base = os.path.abspath(self.snapshot_dir(commit))
            if not os.path.abspath(target).startswith(base + os.sep):
                reason = "resolves outside the snapshot folder"
        if reason:
            raise JobError(ErrorCode.UNSAFE_PATH, f"Refusing unsafe path {repo_path!r}: {reason}",
                           files=[repo_path])
        return target

    def ensure_dirs(self) -> None:
        for d in (self.blobs_dir, self.root / "snapshots", self.root / "refs", self.lock_dir):
            d.mkdir(parents=True, exist_ok=True)
            self.check_inside(d)

    def link(self, commit: str, repo_path: str, etag: str) -> Path:
        """Point snapshots/<commit>/<path> at the blob with a relative symlink (atomic replace)."""
        target = self.snapshot_file(commit, repo_path)
        # From snapshots/<commit>/<dirs of path>/ up to the repo folder, then into blobs/ (as hf does).
        relative = "../" * (repo_path.count("/") + 2) + f"blobs/{etag}"
        try:
            if os.readlink(target) == relative:
                return target
        except OSError:  # no link there yet (or not a link: replaced below)
            pass
        # A short temporary name, not one derived from the file's: a name already near the file
        # system's limit must still fit. Unique per thread, so concurrent linkers never collide.
        tmp = target.with_name(f".{os.getpid()}.{threading.get_native_id()}.tmp-link")
        if target.parent not in self._checked:  # first file of this folder
            target.parent.mkdir(parents=True, exist_ok=True)
            self.check_inside(target.parent)
        try:
            os.symlink(relative, tmp)
        except FileExistsError:  # left by a crash of this pid's predecessor
            os.unlink(tmp)
            os.symlink(relative, tmp)
        os.replace(tmp, target)
        return target

    def write_ref(self, revision: str, commit: str) -> None:
        """refs/<revision> for branches and tags (a commit revision needs no ref), atomically."""
        if is_commit(revision) or check_repo_path(revision):
            return
        ref = self.root / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        self.check_inside(ref.parent)
        tmp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
        tmp.write_text(commit)
        os.replace(tmp, ref)

    def tree_path(self, commit: str) -> Path:
        return self.root / "trees" / f"{plain_name(commit, 'commit')}.json"

    def write_tree(self, commit: str, files) -> None:
        """trees/<commit>.json: the commit's whole file list, in the format huggingface_hub 2.x writes
        (`get_cached_repo_tree`), so offline loads know what the commit holds and which of its files
        are not here (`IncompleteSnapshotError`). A commit never changes: a listing there is kept."""
        path = self.tree_path(commit)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.check_inside(path.parent)
        entries = {}
        for f in sorted(files, key=lambda f: f.path):
            entries[f.path] = {"size": f.size, "blob_id": f.git_sha1}
            if f.sha256:
                entries[f.path].update(lfs_sha256=f.sha256, lfs_size=f.size)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_native_id()}.tmp")
        tmp.write_text(json.dumps({"format_version": TREE_FORMAT_VERSION, "files": entries}, indent=2))
        os.replace(tmp, path)
