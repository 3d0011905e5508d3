"""Files and folders only their owner can read, whatever the umask: the SQLite database, the
uploaded evidence and proof files, and backups (which hold password hashes, token digests and
channel URLs with their secrets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folder(path: Path) -> Path:
    """Create `path` and its missing parents as 0700 folders; a folder that exists is left as it is."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # the umask may have taken bits away
    return path


def open_new(path: Path, mode: str = "wb", encoding: str | None = None) -> IO[Any]:
    """Open `path` for writing as a 0600 file (created, or emptied and narrowed); never through a link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        return os.fdopen(descriptor, mode, encoding=encoding)
    except BaseException:
        os.close(descriptor)
        raise


def write_bytes(path: Path, content: bytes) -> None:
    with open_new(path) as handle:
        handle.write(content)


def keep_to_owner(path: Path) -> None:
    """Create `path` as an empty 0600 file, or take group and other access away from the file there."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
