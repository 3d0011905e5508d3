"""Backup and restore of the database and the evidence files, for SQLite and PostgreSQL alike.

A backup is a folder: `manifest.json` (format, schema revision, row counts), one JSON-lines file
per table under `tables/`, and a copy of the upload folder under `files/`. Tables are read and
written through SQLAlchemy in dependency order, so a backup of SQLite restores into PostgreSQL and
the other way round. Restore refuses a database that already holds data.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Integer, LargeBinary, Table, func, insert, select, text

from shared import clock, config, db, migrate
from shared.models import Base

FORMAT = 1
BATCH = 1000


class BackupError(RuntimeError):
    """The backup folder or the target database is not fit for the operation."""


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
    (target / "tables").mkdir(parents=True)
    counts: dict[str, int] = {}
    with db.engine().connect() as connection, connection.begin():
        revision = schema_revision(connection)
        for table in tables():
            counts[table.name] = _dump_table(connection, table, target / "tables" / f"{table.name}.jsonl")
    files = _copy_files(config.current().upload_dir, target / "files")
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "schema_revision": revision,
        "tables": counts,
        "files": files,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
    return manifest


def _dump_table(connection: Connection, table: Table, path: Path) -> int:
    kinds = {column.name: _kind(column) for column in table.columns}
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows(connection, table):
            encoded = {name: _encode(value, kinds[name]) for name, value in row.items()}
            handle.write(json.dumps(encoded, ensure_ascii=False) + "\n")
            count += 1
    return count


def _copy_files(source: Path, target: Path) -> int:
    if not source.exists():
        target.mkdir(parents=True)
        return 0
    shutil.copytree(source, target)
    return sum(1 for path in target.rglob("*") if path.is_file())


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / "manifest.json"
    if not path.is_file():
        raise BackupError(f"{source} holds no manifest.json: not a Pilotwatch backup")
    manifest = json.loads(path.read_text("utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not supported (expected {FORMAT})")
    return manifest


def load(source: Path) -> dict[str, Any]:
    """Restore a backup into the configured, empty database and upload folder."""
    manifest = read_manifest(source)
    migrate.upgrade(revision=manifest["schema_revision"])
    uploads = config.current().upload_dir
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"the upload folder {uploads} is not empty")
    with db.engine().connect() as connection, connection.begin():
        _refuse_data(connection)
        for table in tables():
            _load_table(connection, table, source / "tables" / f"{table.name}.jsonl")
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection)
    if (source / "files").exists():
        shutil.copytree(source / "files", uploads, dirs_exist_ok=True)
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


def _load_table(connection: Connection, table: Table, path: Path) -> None:
    if not path.exists():
        return
    if table.name in SEEDED:
        connection.execute(table.delete())
    kinds = {column.name: _kind(column) for column in table.columns}
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            batch.append({name: _decode(value, kinds[name]) for name, value in row.items() if name in kinds})
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                batch = []
    if batch:
        connection.execute(insert(table), batch)


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
