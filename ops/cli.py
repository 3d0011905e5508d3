"""`pilotwatch`: the administration command line. Each service registers its own commands
(services/*/cli.py); this module assembles them and adds the operators' own (database, demo data,
the local stack, backup, restore, doctor)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from services.evaluation import cli as evaluation_cli
from services.intake import cli as intake_cli
from services.notify import cli as notify_cli
from shared import config, db
from shared.models import PilotUnit

GROUPS = {
    "users": "People and their API tokens.",
    "units": "The pilot units registry.",
    "rounds": "Supervision rounds.",
    "channels": "Where alerts go.",
    "catalogue": "Catalogue versions (aspects, measures, indicators, rules).",
    "rules": "Rule sets: try a changed one on a past round.",
    "documents": "The office's Word documents: the templates to edit.",
}


@click.group()
def cli() -> None:
    """Pilotwatch: supervision of the industrial workers' reform pilot."""
    config.current_or_exit()


@cli.group("db")
def db_group() -> None:
    """The database."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration."""
    from shared import migrate

    migrate.upgrade()
    click.echo(f"database is up to date: {config.mask_credentials(config.current().database_url)}")


@cli.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@click.option("--registry-only", is_flag=True, help="only districts, units, rounds and users: no reports")
def demo_load(registry_only: bool) -> None:
    """Load the 13 Fuzhou districts, 428 synthetic pilot units of the third batch and 64 of the first two,
    two rounds with evaluated reports, visits, cases and demo users."""
    from ops import demo, demo_activity

    with db.transaction() as session:
        made = demo.load(session)
        done = {} if registry_only else demo_activity.load(session)
        units = session.scalar(select(func.count()).select_from(PilotUnit))
    click.echo(f"demo data loaded: {len(demo.DISTRICTS)} districts, {units} pilot units")
    if done:
        click.echo("  " + ", ".join(f"{what}: {count}" for what, count in done.items()))
    for email, role, password in made:
        click.echo(f"  {role:<10} {email}  password: {password}")


@cli.command("up")
@click.option("--no-demo", is_flag=True, help="don't load the demo data")
def up(no_demo: bool) -> None:
    """Run the whole stack locally (what `make run` does)."""
    from ops import devstack

    sys.exit(devstack.run(load_demo=not no_demo))


@cli.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Copy the database (every table) and the evidence files into a new folder, readable by its owner only."""
    from ops import backup

    try:
        manifest = backup.dump(folder)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"备份完成 / backup written to {folder}: {sum(manifest['tables'].values())} rows in "
        f"{len(manifest['tables'])} tables, {manifest['files']} file(s), schema {manifest['schema_revision']}"
    )
    for name in manifest["skipped"]:
        click.echo(f"未备份 / not copied (a link or not a regular file): uploads/{name}", err=True)


@cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup into an empty database (migrated here if needed) and an empty upload folder,
    once every file's checksum and every table's row count match the manifest."""
    from ops import backup

    try:
        manifest = backup.load(folder)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"恢复完成 / restored {sum(manifest['tables'].values())} rows and {manifest['files']} file(s) "
        f"from the backup of {manifest['created_at']}; now run `pilotwatch db upgrade`"
    )


@cli.command("doctor")
def doctor_command() -> None:
    """Check configuration, database, Redis, queues and mail servers; say what to fix."""
    from ops import doctor

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


def assemble(root: click.Group, *registries: dict[str, list[click.Command]]) -> None:
    """Add each service's commands to the root or to a group named after what they manage."""
    for commands in registries:
        for group_name, group_commands in commands.items():
            target = root if not group_name else root.commands.get(group_name)
            if target is None:
                target = click.Group(group_name, help=GROUPS.get(group_name, ""))
                root.add_command(target)
            assert isinstance(target, click.Group)
            for command in group_commands:
                target.add_command(command)


assemble(cli, intake_cli.COMMANDS, evaluation_cli.COMMANDS, notify_cli.COMMANDS)

if __name__ == "__main__":
    cli()
