"""`pilotwatch backup` then `pilotwatch restore` into an empty database: identical rows, identical files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from services.intake import files
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


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of `folder` and of everything under it (links not followed)."""
    return {
        str(path.relative_to(folder.parent)): path.lstat().st_mode & 0o777
        for path in [folder, *sorted(folder.rglob("*"))]
    }


def not_private(folder: Path) -> dict[str, str]:
    """What under `folder` someone other than its owner could read: folders not 0700, files not 0600."""
    return {
        name: oct(mode)
        for name, mode in modes(folder).items()
        if mode != (0o700 if (folder.parent / name).is_dir() else 0o600)
    }


def test_it_writes_a_backup_only_its_owner_can_read_whatever_the_umask(
    filled: dict[str, str], tmp_path: Path
) -> None:
    made = pilotwatch(filled, "backup", str(tmp_path / "backup"), umask=0o002)
    assert made.returncode == 0, made.stderr
    assert len(modes(tmp_path / "backup")) >= 30  # the folder, tables/, files/, every table, both files
    assert not_private(tmp_path / "backup") == {}


def test_it_creates_the_database_and_the_uploads_only_their_owner_can_read(
    env: dict[str, str], tmp_path: Path
) -> None:
    fresh = elsewhere(env, tmp_path / "fresh")
    assert pilotwatch(fresh, "db", "upgrade", umask=0).returncode == 0
    assert not_private(tmp_path / "fresh") == {}
    assert (tmp_path / "fresh" / "restored.db").stat().st_mode & 0o777 == 0o600

    earlier = tmp_path / "earlier" / "restored.db"  # a database made before, under the usual umask
    earlier.parent.mkdir()
    earlier.touch(mode=0o644)
    assert pilotwatch(elsewhere(env, earlier.parent), "db", "upgrade").returncode == 0
    assert earlier.stat().st_mode & 0o777 == 0o600

    previous = os.umask(0)
    try:
        files.save("ef56", b"%PDF-1.4\n")
    finally:
        os.umask(previous)
    uploads = config.current().upload_dir
    assert not_private(uploads) == {}
    assert (uploads / "ef" / "ef56").read_bytes() == b"%PDF-1.4\n"


def test_it_restores_a_database_and_files_only_their_owner_can_read(
    filled: dict[str, str], tmp_path: Path
) -> None:
    assert pilotwatch(filled, "backup", str(tmp_path / "backup")).returncode == 0
    for folder in (tmp_path / "fresh", tmp_path / "fresh" / "uploads"):  # an empty volume, mounted
        folder.mkdir()
        folder.chmod(0o700)
    restored = pilotwatch(elsewhere(filled, tmp_path / "fresh"), "restore", str(tmp_path / "backup"), umask=0)
    assert restored.returncode == 0, restored.stderr
    assert not_private(tmp_path / "fresh") == {}
    assert every_file(tmp_path / "fresh" / "uploads") == every_file(config.current().upload_dir)
    assert not (tmp_path / "fresh" / ".uploads.restoring").exists()


def test_it_leaves_a_link_in_the_upload_folder_out_of_the_backup(
    filled: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("another instance's private key", "utf-8")
    (config.current().upload_dir / "ab" / "ab99").symlink_to(secret)
    made = pilotwatch(filled, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert "not copied (a link or not a regular file): uploads/ab/ab99" in made.stderr
    assert not (tmp_path / "backup" / "files" / "ab" / "ab99").exists()
    assert read_manifest(tmp_path / "backup")["files"] == 2


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text("utf-8"))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def an_uploaded_file(folder: Path) -> Path:
    return next(p for p in sorted((folder / "files").rglob("*")) if p.is_file())


def _file_is_a_link_outside(folder: Path, secret: Path) -> None:
    victim = an_uploaded_file(folder)
    victim.unlink()
    victim.symlink_to(secret)


def _folder_is_a_link_outside(folder: Path, secret: Path) -> None:
    victim = an_uploaded_file(folder)
    outside = secret.parent / "outside"
    outside.mkdir()
    (outside / victim.name).symlink_to(secret)
    shutil.rmtree(victim.parent)
    victim.parent.symlink_to(outside, target_is_directory=True)


def _table_is_a_link_outside(folder: Path, secret: Path) -> None:
    (folder / "tables" / "districts.jsonl").unlink()
    (folder / "tables" / "districts.jsonl").symlink_to(secret)


def _absolute_name(folder: Path, secret: Path) -> None:
    manifest = read_manifest(folder)
    manifest["checksums"][str(secret)] = "0" * 64
    write_manifest(folder, manifest)


def _name_outside(folder: Path, secret: Path) -> None:
    manifest = read_manifest(folder)
    manifest["checksums"]["files/../../secret.txt"] = "0" * 64
    write_manifest(folder, manifest)


def _count_off_by_two(folder: Path, _secret: Path) -> None:
    manifest = read_manifest(folder)
    manifest["tables"]["pilot_units"] += 2
    write_manifest(folder, manifest)


def _row_removed(folder: Path, _secret: Path) -> None:
    table = folder / "tables" / "pilot_units.jsonl"
    table.write_text("".join(table.read_text("utf-8").splitlines(keepends=True)[:-1]), "utf-8")
    manifest = read_manifest(folder)
    manifest["tables"]["pilot_units"] -= 1
    write_manifest(folder, manifest)


def _file_changed(folder: Path, _secret: Path) -> None:
    victim = an_uploaded_file(folder)
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")


def _file_added(folder: Path, secret: Path) -> None:
    (folder / "files" / "zz").mkdir()
    (folder / "files" / "zz" / "zz99").write_bytes(secret.read_bytes())


def _file_missing(folder: Path, _secret: Path) -> None:
    an_uploaded_file(folder).unlink()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_file_is_a_link_outside, "is a link; a backup holds no links"),
        (_folder_is_a_link_outside, "is a link; a backup holds no links"),
        (_table_is_a_link_outside, "tables/districts.jsonl is a link; a backup holds no links"),
        (_absolute_name, "secret.txt', which is not a name inside the backup's tables/ or files/"),
        (_name_outside, "names 'files/../../secret.txt', which is not a name inside the backup's tables/"),
        (_count_off_by_two, "table pilot_units: the manifest counts 430 rows, the backup holds 428"),
        (_row_removed, "tables/pilot_units.jsonl: the checksum does not match the manifest"),
        (_file_changed, ": the checksum does not match the manifest"),
        (_file_added, "files/zz/zz99 is not in the manifest"),
        (_file_missing, "is in the manifest but not in the backup"),
    ],
)
def test_it_refuses_a_backup_that_does_not_match_its_manifest_and_writes_nothing(
    filled: dict[str, str], tmp_path: Path, spoil: Any, message: str
) -> None:
    folder = tmp_path / "backup"
    assert pilotwatch(filled, "backup", str(folder)).returncode == 0
    secret = tmp_path / "secret.txt"
    secret.write_text("another instance's private key", "utf-8")
    spoil(folder, secret)
    restored = pilotwatch(elsewhere(filled, tmp_path / "fresh"), "restore", str(folder))
    assert restored.returncode == 1, restored.stdout
    assert message in restored.stderr and "Traceback" not in restored.stderr
    assert not (tmp_path / "fresh" / "restored.db").exists()
    assert not (tmp_path / "fresh" / "uploads").exists()
