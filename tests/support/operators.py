"""Running the `pilotwatch` command as operators do: a real process with its own environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select

from shared.models import Base

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def pilotwatch(
    env: dict[str, str], *args: str, timeout: float = 120, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    """Run the command as an operator would, under the usual umask unless told otherwise."""
    return subprocess.run(
        [str(BIN / "pilotwatch"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        umask=umask,
    )


def engine_of(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url)


def every_row(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in primary-key order, as plain dicts."""
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [
                dict(row) for row in connection.execute(select(table).order_by(*order)).mappings()
            ]
    return found


def every_file(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
