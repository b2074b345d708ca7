"""Which folders may hold the model storage: the one check for the Settings form and `configure`.

ModelHub writes, locks and (on request) deletes below the storage folder, and often runs as root in a
container, where "is it writable" says nothing. So a folder is refused for what it is, not for
whether writing there happens to work: blank (it would mean the process's current folder, i.e. the
code checkout), the root, system folders, and the project checkout itself or a folder containing it.
"""

from pathlib import Path

# Refused together with everything below them: operating-system files.
SYSTEM_TREES = tuple(Path(p) for p in (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin", "/sys", "/usr",
))
# Refused themselves, while a folder below is fine (/var/lib/modelhub, /run/media/<user>/<disk>,
# /home/<user>/models): models would land between other programs' or users' folders.
SYSTEM_FOLDERS = tuple(Path(p) for p in ("/", "/home", "/root", "/run", "/var"))

RESET_WORD = "default"  # `configure --storage-dir default`: back to MODELHUB_STORAGE_DIR


def project_dir() -> Path:
    # From this file, not from django.conf.settings: modelhub/settings.py checks
    # MODELHUB_STORAGE_DIR with this module while the settings are still being read.
    return Path(__file__).resolve().parent.parent


def absolute_storage_path(value: str) -> Path:
    """`~` expanded; a relative folder is taken from the project folder, never from wherever the
    process happens to run; symlinks resolved, since what matters is where the files land."""
    path = Path(value.strip()).expanduser()
    return (path if path.is_absolute() else project_dir() / path).resolve()


def check_storage_dir(value: str) -> Path:
    """The absolute folder for a storage folder typed by a person, or ValueError saying why not."""
    if not (value or "").strip():
        raise ValueError("The storage folder is empty. An empty path would mean the current folder; to go "
                         f"back to the default (MODELHUB_STORAGE_DIR), use `--storage-dir {RESET_WORD}` with "
                         "configure, or leave the field empty on the Settings page.")
    path = absolute_storage_path(value)
    shown = f"{value.strip()!r}" + (f" (that is {path})" if str(path) != value.strip() else "")
    if path in SYSTEM_FOLDERS or any(path == tree or tree in path.parents for tree in SYSTEM_TREES):
        raise ValueError(f"The storage folder {shown} is a system folder. Use a folder of its own, "
                         "e.g. /var/lib/modelhub or /srv/models.")
    project = project_dir()
    if path == project or path in project.parents:
        raise ValueError(f"The storage folder {shown} is or contains the ModelHub code checkout ({project}). "
                         f"Use a folder of its own, e.g. {project / 'models' / 'hub'}.")
    return path
