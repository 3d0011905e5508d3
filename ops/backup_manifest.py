"""What a backup folder must hold, read without following links: the manifest, names inside
`tables/` and `files/` only, and each file's SHA-256 and each table's row count as the manifest says."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared import private

FORMAT = 2  # 2: with the checksum of every file
CHUNK = 1 << 16
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BackupError(RuntimeError):
    """The backup folder or the target database is not fit for the operation."""


def entries(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Everything under `root`, as names relative to it with `/`, without following any link."""
    pending = [""]
    while pending:
        prefix = pending.pop()
        with os.scandir(root / prefix) as found:
            for entry in sorted(found, key=lambda e: e.name):
                name = f"{prefix}/{entry.name}" if prefix else entry.name
                yield name, entry
                if entry.is_dir(follow_symlinks=False):
                    pending.append(name)


def copy_file(root: Path, name: str, target: Path) -> str:
    """Copy the file `name` under `root` to a new 0600 `target`; return the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    with os.fdopen(open_inside(root, name), "rb") as source, private.open_new(target) as copy:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            copy.write(chunk)
    return digest.hexdigest()


def open_inside(root: Path, name: str) -> int:
    """A descriptor to read the regular file `name` under `root`, refusing a link at every step."""
    *folders, last = name.split("/")
    current = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for folder in folders:
            step = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=current)
            os.close(current)
            current = step
        descriptor = os.open(last, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=current)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise BackupError(f"{name} is a link; a backup holds no links") from None
        if exc.errno == errno.ENOENT:
            raise BackupError(f"{name} is in the manifest but not in the backup") from None
        raise BackupError(f"{name} cannot be read: {exc.strerror}") from None
    finally:
        os.close(current)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise BackupError(f"{name} is not a regular file")
    return descriptor


def read_manifest(source: Path) -> dict[str, Any]:
    if not (source / "manifest.json").exists() and not (source / "manifest.json").is_symlink():
        raise BackupError(f"{source} holds no manifest.json: not a Pilotwatch backup")
    with os.fdopen(open_inside(source, "manifest.json"), "rb") as handle:
        try:
            manifest = json.loads(handle.read())
        except ValueError:
            raise BackupError("manifest.json is not JSON: not a Pilotwatch backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(
            f"backup format {found} is not supported (expected {FORMAT}, which carries a checksum "
            "of every file); make a new backup with this version"
        )
    return manifest


def verify(source: Path, manifest: dict[str, Any], known: set[str]) -> None:
    """Check the backup against its manifest (`known`: the tables of the models) before anything is
    written; raise BackupError."""
    checksums, counts = manifest.get("checksums"), manifest.get("tables")
    if not isinstance(checksums, dict) or not isinstance(counts, dict):
        raise BackupError("the manifest has no checksums or no row counts")
    for name, digest in checksums.items():
        _check_name(name)
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise BackupError(f"the manifest's checksum of {name} is not a SHA-256")
    for table in counts:
        if table not in known or f"tables/{table}.jsonl" not in checksums:
            raise BackupError(f"the manifest counts rows of table {table!r}, which is not in this backup")
    present: set[str] = set()
    for name, entry in entries(source):
        if entry.is_symlink():
            raise BackupError(f"{name} is a link; a backup holds no links")
        if entry.is_file(follow_symlinks=False):
            present.add(name)
        elif not entry.is_dir(follow_symlinks=False):
            raise BackupError(f"{name} is not a regular file")
    for name in sorted(present - checksums.keys() - {"manifest.json"}):
        raise BackupError(f"{name} is not in the manifest")
    for name in sorted(checksums.keys() - present):
        raise BackupError(f"{name} is in the manifest but not in the backup")
    for name, digest in sorted(checksums.items()):
        lines = _check_file(source, name, digest)
        table = name.removeprefix("tables/").removesuffix(".jsonl")
        if name.startswith("tables/") and counts.get(table) != lines:
            raise BackupError(
                f"table {table}: the manifest counts {counts.get(table)} rows, the backup holds {lines}"
            )


def _check_name(name: Any) -> None:
    parts = name.split("/") if isinstance(name, str) else []
    table = len(parts) == 2 and parts[1].endswith(".jsonl")
    if (
        len(parts) < 2
        or parts[0] not in ("tables", "files")
        or any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts)
        or (parts[0] == "tables" and not table)
    ):
        raise BackupError(
            f"the manifest names {name!r}, which is not a name inside the backup's tables/ or files/"
        )


def _check_file(source: Path, name: str, expected: str) -> int:
    """Read a file of the backup; raise BackupError unless its SHA-256 is `expected`; return its lines."""
    digest, lines = hashlib.sha256(), 0
    with os.fdopen(open_inside(source, name), "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    if digest.hexdigest() != expected:
        raise BackupError(f"{name}: the checksum does not match the manifest")
    return lines
