"""`pilotwatch`: administration from the command line (users, units, rounds, channels, the stack)."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select

from shared import accounts, config, db, demo
from shared.catalogue import CatalogueError, read_file
from shared.catalogue import store as catalogues
from shared.credit_code import normalise, problem
from shared.models import CatalogueVersion, Channel, District, PilotUnit, Round


def fail(message: str) -> None:
    click.echo(f"错误 / error: {message}", err=True)
    sys.exit(1)


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
    click.echo(f"database is up to date: {mask_url(config.current().database_url)}")


def mask_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@cli.group()
def users() -> None:
    """People and their API tokens."""


@users.command("create")
@click.option("--role", type=click.Choice(["district", "supervisor", "admin"]), required=True)
@click.option("--district", help="district code, for district users")
@click.option("--email", required=True)
@click.option("--password", help="a password for the web pages (none: API only)")
@click.option("--token", is_flag=True, help="also issue an API token and print it once")
def users_create(role: str, district: str | None, email: str, password: str | None, token: bool) -> None:
    """Create a user."""
    with db.transaction() as session:
        try:
            user = accounts.create_user(session, email, role, district, password)
        except accounts.AccountError as exc:
            fail(str(exc))
        secret = accounts.issue_token(session, user) if token else None
    click.echo(f"created {role} user {user.email}" + (f" of district {district}" if district else ""))
    if secret:
        click.echo("API token (shown only now, keep it safe):")
        click.echo(secret)


@cli.group()
def units() -> None:
    """The pilot units registry."""


@units.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import(path: Path) -> None:
    """Import or update units from a CSV with columns credit_code, name, district[, industry]."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    problems, added, updated = [], 0, 0
    with db.transaction() as session:
        districts = set(session.scalars(select(District.code)))
        for line, row in enumerate(rows, start=2):
            code = normalise(row.get("credit_code") or "")
            error = problem(code) or (None if (row.get("name") or "").strip() else "name is empty")
            if not error and (row.get("district") or "").strip() not in districts:
                error = f"unknown district {row.get('district')!r}"
            if error:
                problems.append(f"line {line}: {error}")
                continue
            unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == code))
            if unit is None:
                unit = PilotUnit(credit_code=code)
                session.add(unit)
                added += 1
            else:
                updated += 1
            unit.name, unit.district_code = row["name"].strip(), row["district"].strip()
            unit.industry = (row.get("industry") or "").strip()
        if problems:
            session.rollback()
            fail("nothing imported:\n" + "\n".join(problems))
    click.echo(f"imported {added} new and {updated} updated units")


@cli.group()
def rounds() -> None:
    """Supervision rounds."""


@rounds.command("open")
@click.argument("code")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--grace-days", type=click.IntRange(0, 90), default=5, show_default=True)
@click.option("--catalogue", "version", default=demo.DEFAULT_VERSION, show_default=True)
def rounds_open(code: str, due: object, grace_days: int, version: str) -> None:
    """Open a round (for example 2023H2) with its due date."""
    due_date: date = due.date()  # type: ignore[attr-defined]
    with db.transaction() as session:
        if session.get(CatalogueVersion, version) is None:
            if version != demo.DEFAULT_VERSION:
                fail(f"catalogue version {version} is not loaded")
            demo.ensure_catalogue(session)
        round_ = session.get(Round, code)
        if round_ is None:
            session.add(Round(code=code, catalogue_version=version, due_date=due_date, grace_days=grace_days))
        else:
            round_.due_date, round_.grace_days, round_.status = due_date, grace_days, "open"
    click.echo(f"round {code} is open, due {due_date.isoformat()} with {grace_days} days of grace")


@rounds.command("close")
@click.argument("code")
def rounds_close(code: str) -> None:
    """Close a round: no more reports are taken."""
    with db.transaction() as session:
        round_ = session.get(Round, code)
        if round_ is None:
            fail(f"no round {code}")
        round_.status = "closed"
    click.echo(f"round {code} is closed")


@cli.group()
def channels() -> None:
    """Where alerts go."""


@channels.command("add")
@click.option("--district", help="the district whose alerts go here")
@click.option("--supervisors", is_flag=True, help="a channel of the supervisors (escalations)")
@click.option("--label", default="")
@click.argument("url")
def channels_add(district: str | None, supervisors: bool, label: str, url: str) -> None:
    """Add an Apprise-style channel URL (mailto://, json://, wecombot://, dingtalk://, ...)."""
    from services.notify.transports import InvalidChannel, kind_of, mask, parse

    if bool(district) == supervisors:
        fail("give either --district CODE or --supervisors")
    try:
        parse(url)
    except InvalidChannel as exc:
        fail(str(exc))
    with db.transaction() as session:
        if district and session.get(District, district) is None:
            fail(f"unknown district {district}")
        exists = session.scalar(
            select(Channel.id).where(Channel.district_code == district, Channel.url == url)
        )
        if exists is None:
            session.add(
                Channel(
                    district_code=district,
                    audience="supervisor" if supervisors else "district",
                    kind=kind_of(url),
                    url=url,
                    label=label,
                )
            )
    click.echo(f"channel added for {district or 'the supervisors'}: {mask(url)}")


@cli.group()
def catalogue() -> None:
    """Catalogue versions (aspects, measures, indicators, rules)."""


@catalogue.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalogue_load(path: Path) -> None:
    """Validate a catalogue file and store it as its version; a bad file is refused whole."""
    try:
        data = read_file(path)
    except CatalogueError as exc:
        fail("the catalogue was not loaded:\n" + "\n".join(f"  - {p}" for p in exc.problems))
    with db.transaction() as session:
        catalogues.save(session, data)
    click.echo(
        f"catalogue {data['version']} loaded: {sum(len(a['measures']) for a in data['aspects'])} measures, "
        f"{len(data['indicators'])} indicators, {len(data['rules'])} rules"
    )


@cli.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
def demo_load() -> None:
    """Load the 13 Fuzhou districts, 428 synthetic pilot units, rounds and demo users."""
    with db.transaction() as session:
        made = demo.load(session)
    click.echo(f"demo data loaded: {len(demo.DISTRICTS)} districts, {demo.UNIT_COUNT} pilot units")
    for email, role, password in made:
        click.echo(f"  {role:<10} {email}  password: {password}")


@cli.command("up")
@click.option("--no-demo", is_flag=True, help="don't load the demo data")
def up(no_demo: bool) -> None:
    """Run the whole stack locally (what `make run` does)."""
    from shared import devstack

    sys.exit(devstack.run(load_demo=not no_demo))


def _register_evaluation() -> None:
    from shared.cli.evaluation import rounds_reevaluate, rules_group

    cli.add_command(rules_group)
    rounds.add_command(rounds_reevaluate)


_register_evaluation()


def _register_notify() -> None:
    from shared.cli.notify import channels_test, mutes

    channels.add_command(channels_test)
    cli.add_command(mutes)


_register_notify()


def _register_operations() -> None:
    from shared.cli import admin
    from shared.cli.ops import backup_command, doctor_command, restore_command

    admin.register(
        {"users": users, "units": units, "rounds": rounds, "channels": channels, "catalogue": catalogue}
    )
    cli.add_command(backup_command)
    cli.add_command(restore_command)
    cli.add_command(doctor_command)


_register_operations()

if __name__ == "__main__":
    cli()
