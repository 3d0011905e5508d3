"""Backup and restore of the database and the evidence files, for SQLite and PostgreSQL alike.

A backup is a folder: `manifest.json` (format, schema revision, row counts and the SHA-256 of every
other file), one JSON-lines file per table under `tables/`, and a copy of the upload folder under
`files/`. All of it is written 0600 in 0700 folders, whatever the umask: it holds password hashes,
token digests and channel URLs with their secrets. Tables are read and written through SQLAlchemy
in dependency order, so a backup of SQLite restores into PostgreSQL and the other way round.

Restore checks the whole backup before it writes anything: no links, no name outside `tables/` and
`files/`, every file of the manifest there and nothing else, each file's checksum and each table's
row count as the manifest says. It refuses a database or an upload folder that already holds data.
The rows go in one transaction that checks the counts again, and the files through a staging
folder, so a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Integer, LargeBinary, Table, func, insert, select, text

from ops.backup_manifest import FORMAT, BackupError, copy_file, entries, open_inside, read_manifest, verify
from shared import caches, clock, config, db, kept, migrate, private
from shared.models import Base

BATCH = 1000


def _kind(column: Any) -> str:
    kind = getattr(column.type, "impl", column.type)
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, LargeBinary):
        return "bytes"
    return "plain"


def _encode(value: Any, kind: str) -> Any:
    if value is None or kind == "plain":
        return value
    if kind == "bytes":
        return base64.b64encode(value).decode()
    return value.isoformat()


def _decode(value: Any, kind: str) -> Any:
    if value is None or kind == "plain":
        return value
    if kind == "bytes":
        return base64.b64decode(value)
    return datetime.fromisoformat(value) if kind == "datetime" else date.fromisoformat(value)


def tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(Base.metadata.sorted_tables)


def rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
        select(table).order_by(*order)
    )
    for row in result.mappings():
        yield dict(row)


def schema_revision(connection: Connection) -> str:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def dump(target: Path) -> dict[str, Any]:
    """Write a backup into `target` (created; it must be empty) and return its manifest."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; give a new folder")
    private.make_folder(target / "tables")
    os.chmod(target, private.FOLDER_MODE)  # given empty, it may have been made under any umask
    counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    with db.engine().connect() as connection, connection.begin():
        revision = schema_revision(connection)
        for table in tables():
            name = f"tables/{table.name}.jsonl"
            counts[table.name], checksums[name] = _dump_table(connection, table, target / name)
    skipped: list[str] = []
    files = _copy_files(config.current().upload_dir, target, skipped)
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "schema_revision": revision,
        "tables": counts,
        "files": len(files),
        "checksums": {**checksums, **files},
        "skipped": skipped,
    }
    with private.open_new(target / "manifest.json", "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _dump_table(connection: Connection, table: Table, path: Path) -> tuple[int, str]:
    kinds = {column.name: _kind(column) for column in table.columns}
    count, digest = 0, hashlib.sha256()
    with private.open_new(path) as handle:
        for row in rows(connection, table):
            encoded = {name: _encode(value, kinds[name]) for name, value in row.items()}
            line = (json.dumps(encoded, ensure_ascii=False) + "\n").encode()
            handle.write(line)
            digest.update(line)
            count += 1
    return count, digest.hexdigest()


def _copy_files(source: Path, target: Path, skipped: list[str]) -> dict[str, str]:
    """Copy the upload folder's regular files into `files/` (links and the like are skipped and
    listed); return their checksums by name in the backup."""
    private.make_folder(target / "files")
    if not source.is_dir():
        return {}
    checksums: dict[str, str] = {}
    for name, entry in entries(source):
        if entry.is_dir(follow_symlinks=False):
            continue
        if not entry.is_file(follow_symlinks=False):
            skipped.append(name)
            continue
        copy = target / "files" / name
        private.make_folder(copy.parent)
        checksums[f"files/{name}"] = copy_file(source, name, copy)
    return checksums


def load(source: Path) -> dict[str, Any]:
    """Restore a checked backup into the configured, empty database and upload folder."""
    manifest = read_manifest(source)
    verify(source, manifest, {table.name for table in tables()})
    uploads = config.current().upload_dir
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"the upload folder {uploads} is not empty")
    migrate.upgrade(revision=manifest["schema_revision"])
    staging = uploads.parent / f".{uploads.name}.restoring"
    try:
        with db.engine().connect() as connection, connection.begin():
            _refuse_data(connection)
            for table in tables():
                _load_table(connection, table, source, manifest["checksums"])
            _check_counts(connection, manifest["tables"])
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection)
            _stage_files(source, manifest["checksums"], staging)
        # the rows went in past the ORM: every process's caches and kept figures start over
        caches.changed()
        kept.changed([kept.ALL, ""])
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging)
        raise
    try:
        _move(staging, uploads)
    except OSError as exc:
        raise BackupError(
            f"the rows are restored but the files could not be moved into {uploads} ({exc.strerror}): "
            f"they are in {staging}; move them there by hand"
        ) from None
    return manifest


# Rows the migrations themselves write (the pilot batches): a fresh database has them, and the backup's
# own rows replace them.
SEEDED = ("pilot_batches",)


def _refuse_data(connection: Connection) -> None:
    for table in tables():
        if table.name in SEEDED:
            continue
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise BackupError(
                f"the database is not empty (table {table.name} has rows); restore needs an empty database"
            )


def _load_table(connection: Connection, table: Table, source: Path, checksums: dict[str, str]) -> None:
    """Insert a table's rows, checking the file's checksum again as it is read (the transaction is
    rolled back if the file changed since it was verified)."""
    name = f"tables/{table.name}.jsonl"
    if name not in checksums:
        return
    if table.name in SEEDED:
        connection.execute(table.delete())
    kinds = {column.name: _kind(column) for column in table.columns}
    batch: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    with os.fdopen(open_inside(source, name), "rb") as handle:
        for number, line in enumerate(handle, start=1):
            digest.update(line)
            try:
                row = json.loads(line)
                batch.append({key: _decode(value, kinds[key]) for key, value in row.items() if key in kinds})
            except (ValueError, TypeError, AttributeError) as exc:
                raise BackupError(f"{name}: line {number} is not a row of {table.name}: {exc}") from None
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                batch = []
    if batch:
        connection.execute(insert(table), batch)
    if digest.hexdigest() != checksums[name]:
        raise BackupError(f"{name}: the checksum does not match the manifest")


def _check_counts(connection: Connection, counts: dict[str, int]) -> None:
    for table in tables():
        restored = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if restored != counts.get(table.name, 0):
            raise BackupError(
                f"table {table.name}: {restored} rows restored, the manifest counts {counts.get(table.name, 0)}"
            )


def _stage_files(source: Path, checksums: dict[str, str], staging: Path) -> None:
    """Copy the backup's files into `staging` (0600 in 0700 folders), checking each checksum again."""
    if staging.exists():
        shutil.rmtree(staging)  # left by a restore that was killed
    private.make_folder(staging)
    for name, expected in sorted(checksums.items()):
        if not name.startswith("files/"):
            continue
        copy = staging / name.removeprefix("files/")
        private.make_folder(copy.parent)
        if copy_file(source, name, copy) != expected:
            raise BackupError(f"{name}: the checksum does not match the manifest")


def _move(staging: Path, uploads: Path) -> None:
    """Put the staged files in place: the staging folder becomes the upload folder, or, when that
    folder exists (empty: checked), its content moves in."""
    if not uploads.exists():
        staging.rename(uploads)
        return
    for child in staging.iterdir():
        child.rename(uploads / child.name)
    staging.rmdir()


def _reset_sequences(connection: Connection) -> None:
    """Explicit ids were inserted: move each serial's sequence past the largest one."""
    for table in tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )
