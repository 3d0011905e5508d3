"""`pilotwatch backup DIR`, `pilotwatch restore DIR` and `pilotwatch doctor`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shared import backup, doctor


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Copy the database (every table) and the evidence files into a new folder."""
    try:
        manifest = backup.dump(folder)
    except backup.BackupError as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"备份完成 / backup written to {folder}: {sum(manifest['tables'].values())} rows in "
        f"{len(manifest['tables'])} tables, {manifest['files']} file(s), schema {manifest['schema_revision']}"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup into an empty database (migrated here if needed) and an empty upload folder."""
    try:
        manifest = backup.load(folder)
    except backup.BackupError as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"恢复完成 / restored {sum(manifest['tables'].values())} rows and {manifest['files']} file(s) "
        f"from the backup of {manifest['created_at']}; now run `pilotwatch db upgrade`"
    )


@click.command("doctor")
def doctor_command() -> None:
    """Check configuration, database, Redis, queues and mail servers; say what to fix."""
    results = doctor.run()
    for check in results:
        mark = "正常 / ok   " if check.ok else "故障 / FAULT"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            click.echo(f"               → {check.fix}")
    faults = [check for check in results if not check.ok]
    if faults:
        click.echo(f"{len(faults)} 个问题 / problem(s) found", err=True)
        sys.exit(1)
    click.echo("一切正常 / all checks passed")
