"""`pilotwatch backup` then `pilotwatch restore` into an empty database: identical rows, identical files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared import config, db
from shared.catalogue import Catalogue
from shared.models import Channel
from tests.support.evaluated import store_and_evaluate
from tests.support.operators import engine_of, every_file, every_row, pilotwatch
from tests.support.reports import open_round, problem_report, unit_of

GULOU = "350102"


@pytest.fixture
def filled(tokens: dict[str, str], catalogue: Catalogue) -> dict[str, str]:
    """Demo data, tokens, an evaluated report with findings, a channel and evidence files."""
    store_and_evaluate(problem_report(catalogue, unit_of(GULOU), open_round()))
    with db.transaction() as session:
        session.add(
            Channel(district_code=GULOU, kind="json", url="json://127.0.0.1:9/hook", label="鼓楼 hook")
        )
    uploads = config.current().upload_dir
    (uploads / "ab").mkdir(parents=True)
    (uploads / "ab" / "ab12").write_bytes(b"%PDF-1.4\n" + os.urandom(4096))
    (uploads / "cd").mkdir()
    (uploads / "cd" / "cd34").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return dict(config.environ())


def elsewhere(env: dict[str, str], folder: Path) -> dict[str, str]:
    """The environment of a fresh installation: another database and instance folder."""
    return {**env, "DATABASE_URL": f"sqlite:///{folder / 'restored.db'}", "PILOTWATCH_INSTANCE": str(folder)}


def test_it_restores_identical_rows_and_files_into_an_empty_database(
    filled: dict[str, str], tmp_path: Path
) -> None:
    made = pilotwatch(filled, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    target = elsewhere(filled, tmp_path / "fresh")
    restored = pilotwatch(target, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr

    before, after = every_row(engine_of(filled["DATABASE_URL"])), every_row(engine_of(target["DATABASE_URL"]))
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    for name, rows in before.items():
        assert after[name] == rows, f"table {name} differs after restore"
    assert len(before["findings"]) >= 2 and len(before["pilot_units"]) == 428
    original = every_file(config.current().upload_dir)
    assert len(original) == 2
    assert every_file(tmp_path / "fresh" / "uploads") == original


def test_it_refuses_to_restore_over_data(filled: dict[str, str], tmp_path: Path) -> None:
    assert pilotwatch(filled, "backup", str(tmp_path / "backup")).returncode == 0
    again = pilotwatch(filled, "restore", str(tmp_path / "backup"))
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_it_refuses_a_folder_that_is_not_a_backup(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    result = pilotwatch(env, "restore", str(tmp_path / "junk"))
    assert result.returncode == 1
    assert "manifest.json" in result.stderr
