"""The intake service's administration commands: users and tokens, units, rounds, channels and
catalogues. Each calls the same use case as the administration pages."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import accounts, channels, registry, rounds
from shared import config, db
from shared.catalogue import DEFAULT_VERSION, CatalogueError, read_file
from shared.catalogue import store as catalogues
from shared.channels import mask
from shared.models import ApiToken, CatalogueVersion, PilotUnit, Round, User, utcnow


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"没有该用户 / no user {email}")
    return user


# --- users ---------------------------------------------------------------------------------------


@click.command("create")
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
            raise click.ClickException(str(exc)) from None
        secret = accounts.issue_token(session, user) if token else None
    click.echo(f"created {role} user {user.email}" + (f" of district {district}" if district else ""))
    if secret:
        click.echo("API token (shown only now, keep it safe):")
        click.echo(secret)


@click.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a user: no more logins, and every one of their tokens is revoked."""
    with db.transaction() as session:
        user = find_user(session, email)
        revoked = accounts.set_active(session, user, False, None)
    click.echo(f"已停用 / disabled {user.email}; {revoked} token(s) revoked")


@click.command("reset-password")
@click.argument("email")
@click.option("--password", help="the new password (none: a random one is made and printed once)")
def users_reset_password(email: str, password: str | None) -> None:
    """Set a new password for the web pages."""
    new = password or secrets.token_urlsafe(12)
    with db.transaction() as session:
        try:
            accounts.set_password(session, find_user(session, email), new, None)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已重置密码 / password reset for {email.strip().lower()}")
    if password is None:
        click.echo(f"新密码（仅显示一次）/ new password (shown only now): {new}")


@click.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Lift the lock-out after too many failed logins at this account, from every address."""
    import redis

    from services.intake.throttle import LoginThrottle

    try:
        lifted = LoginThrottle(config.current()).unlock(email)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis 不可用 / Redis is unreachable: {exc}") from None
    click.echo(f"已解锁 / unlocked {email.strip().lower()} ({lifted} address(es) had failed attempts)")


@click.command("set-role")
@click.argument("email")
@click.option("--role", type=click.Choice(["district", "supervisor", "admin"]), required=True)
@click.option("--district", help="district code, for district users")
def users_set_role(email: str, role: str, district: str | None) -> None:
    """Give a user another role or district; their signed-in sessions end."""
    with db.transaction() as session:
        try:
            accounts.set_role(session, find_user(session, email), role, district, None)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{email.strip().lower()} is now {role}" + (f" of district {district}" if district else ""))


@click.command("rotate-token")
@click.argument("email")
def users_rotate_token(email: str) -> None:
    """Revoke every token of a user and issue a new one, printed once."""
    with db.transaction() as session:
        user = find_user(session, email)
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at = utcnow()
        secret = accounts.issue_token(session, user)
    click.echo(f"API token of {user.email} (shown only now, keep it safe):")
    click.echo(secret)


@click.command("tokens")
@click.argument("email", required=False)
def users_tokens(email: str | None) -> None:
    """List API tokens (only their first characters: the rest is stored as a digest)."""
    with db.transaction() as session:
        query = select(ApiToken, User.email).join(User).order_by(ApiToken.id)
        if email:
            query = query.where(User.email == email.strip().lower())
        for token, owner in session.execute(query):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(f"{token.id:>5}  {token.prefix}…  {owner:<40} {token.created_at:%Y-%m-%d}  {state}")


@click.command("revoke-token")
@click.argument("token_id", type=int)
def users_revoke_token(token_id: int) -> None:
    """Revoke one token by its id (see `users tokens`)."""
    with db.transaction() as session:
        try:
            accounts.revoke(session, token_id)
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已吊销 / token {token_id} revoked")


@click.command("list")
def users_list() -> None:
    """Every user with role, district and state."""
    with db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.role, User.email)):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.email:<40} {user.role:<10} {user.district_code or '-':<8} {state}")


# --- units ---------------------------------------------------------------------------------------


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def units_import(path: Path) -> None:
    """Import or update units from a CSV or XLSX with columns credit_code, name, district[, industry, kind,
    batch] (kind: enterprise/企业 or institution/事业单位, enterprise when left out; batch: the pilot batch
    the unit joined with, by number or name such as 3 or 第三批, unchanged when left out)."""
    with db.transaction() as session:
        try:
            done = registry.import_units(session, registry.read_rows(path.read_bytes()), None)
        except registry.RegistryRefused as exc:
            raise click.ClickException("nothing imported:\n" + "\n".join(exc.problems)) from None
    click.echo(
        f"imported {done.added} new and {done.updated} updated units"
        + (f" ({done.reactivated} back in the pilot)" if done.reactivated else "")
    )


@click.command("list")
@click.option("--district", help="only this district")
@click.option("--inactive", is_flag=True, help="also the deactivated units")
def units_list(district: str | None, inactive: bool) -> None:
    """Pilot units: credit code, district, name."""
    with db.transaction() as session:
        query = select(PilotUnit).order_by(PilotUnit.district_code, PilotUnit.credit_code)
        if district:
            query = query.where(PilotUnit.district_code == district)
        if not inactive:
            query = query.where(PilotUnit.active.is_(True))
        units = session.scalars(query).all()
        for unit in units:
            click.echo(
                f"{unit.credit_code}  {unit.district_code:<8} {'' if unit.active else '[停用] '}{unit.name}"
            )
    click.echo(f"{len(units)} unit(s)")


@click.command("deactivate")
@click.argument("credit_code")
def units_deactivate(credit_code: str) -> None:
    """Take a unit out of the pilot: it no longer reports; its history stays."""
    with db.transaction() as session:
        try:
            unit = registry.deactivate(session, credit_code, None)
        except registry.RegistryRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已停用 / unit {unit.credit_code} deactivated")


# --- rounds --------------------------------------------------------------------------------------


@click.command("open")
@click.argument("code")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--grace-days", type=int, default=5, show_default=True, help=f"0 to {rounds.MAX_GRACE_DAYS}")
@click.option("--catalogue", "version", default=DEFAULT_VERSION, show_default=True)
def rounds_open(code: str, due: datetime, grace_days: int, version: str) -> None:
    """Open a round (for example 2023H2) with its due date."""
    with db.transaction() as session:
        try:
            round_ = rounds.open_round(session, code, due.date(), grace_days, version, None)
        except rounds.RoundRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"round {round_.code} is open, due {round_.due_date.isoformat()} with {grace_days} days of grace"
    )


@click.command("close")
@click.argument("code")
def rounds_close(code: str) -> None:
    """Close a round: no more reports are taken."""
    with db.transaction() as session:
        try:
            rounds.close_round(session, code, None)
        except rounds.RoundRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"round {code} is closed")


@click.command("list")
def rounds_list() -> None:
    """Supervision rounds, newest first."""
    with db.transaction() as session:
        for round_ in rounds.all_rounds(session):
            click.echo(
                f"{round_.code:<8} {round_.status:<7} due {round_.due_date.isoformat()} "
                f"+{round_.grace_days}d  catalogue {round_.catalogue_version}"
            )


# --- channels ------------------------------------------------------------------------------------


@click.command("add")
@click.option("--district", help="the district whose alerts go here")
@click.option("--supervisors", is_flag=True, help="a channel of the supervisors (escalations)")
@click.option("--label", default="")
@click.argument("url")
def channels_add(district: str | None, supervisors: bool, label: str, url: str) -> None:
    """Add a channel URL (mailto://, json://, wecombot://, dingtalk://, feishu://, lark://)."""
    if bool(district) == supervisors:
        raise click.UsageError("give either --district CODE or --supervisors")
    with db.transaction() as session:
        try:
            channels.add_channel(session, url, district, label, None)
        except channels.ChannelRefused as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"channel added for {district or 'the supervisors'}: {mask(url)}")


@click.command("list")
@click.option("--district", help="only this district's channels")
def channels_list(district: str | None) -> None:
    """Channels with their secrets masked, their state, and why a broken one cannot be sent on."""
    with db.transaction() as session:
        listed = channels.list_channels(session, district)
        problems = channels.broken(session, listed)
        for channel in listed:
            owner = channel.district_code or "supervisors"
            state = "enabled" if channel.enabled else "disabled"
            broken = problems.get(channel.id)
            click.echo(
                f"{channel.id:>4}  {owner:<12} {channel.kind:<10} {state:<8} {mask(channel.url)}  {channel.label}"
                + (f"\n      无法发送 / broken: {broken}" if broken else "")
            )


@click.command("remove")
@click.argument("channel_id", type=int)
def channels_remove(channel_id: int) -> None:
    """Remove a channel; one that was used is disabled instead, keeping its delivery log."""
    with db.transaction() as session:
        try:
            done = channels.remove_channel(session, channel_id, None)
        except channels.ChannelRefused as exc:
            raise click.ClickException(str(exc)) from None
    if done == "disabled":
        click.echo(f"已停用 / channel {channel_id} has deliveries: disabled, its delivery log is kept")
    else:
        click.echo(f"已删除 / channel {channel_id} removed")


def _set_enabled(channel_id: int, enabled: bool) -> None:
    with db.transaction() as session:
        try:
            channels.set_enabled(session, channel_id, enabled, None)
        except channels.ChannelRefused as exc:
            raise click.ClickException(str(exc)) from None


@click.command("disable")
@click.argument("channel_id", type=int)
def channels_disable(channel_id: int) -> None:
    """Send no more alerts to a channel (its delivery log stays)."""
    _set_enabled(channel_id, False)
    click.echo(f"已停用 / channel {channel_id} disabled")


@click.command("enable")
@click.argument("channel_id", type=int)
def channels_enable(channel_id: int) -> None:
    """Send alerts to a disabled channel again."""
    _set_enabled(channel_id, True)
    click.echo(f"已启用 / channel {channel_id} enabled")


# --- catalogues ----------------------------------------------------------------------------------


@click.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def catalogue_load(path: Path) -> None:
    """Validate a catalogue file and store it as its version; a bad file is refused whole."""
    try:
        data = read_file(path)
    except CatalogueError as exc:
        raise click.ClickException(
            "the catalogue was not loaded:\n" + "\n".join(f"  - {p}" for p in exc.problems)
        ) from None
    with db.transaction() as session:
        catalogues.save(session, data)
    click.echo(
        f"catalogue {data['version']} loaded: {sum(len(a['measures']) for a in data['aspects'])} measures, "
        f"{len(data['indicators'])} indicators, {len(data['rules'])} rules"
    )


@click.command("list")
def catalogue_list() -> None:
    """Loaded catalogue versions and the rounds that use them."""
    with db.transaction() as session:
        used: dict[str, list[str]] = {}
        for code, version in session.execute(select(Round.code, Round.catalogue_version)):
            used.setdefault(version, []).append(code)
        for version in session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.code)):
            data = version.data
            click.echo(
                f"{version.code:<12} {len(data.get('indicators', {})):>3} indicators "
                f"{len(data.get('rules', [])):>3} rules  loaded {version.loaded_at:%Y-%m-%d}  "
                f"rounds: {', '.join(sorted(used.get(version.code, []))) or '-'}"
            )


# --- documents -----------------------------------------------------------------------------------


@click.command("templates")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def documents_templates(folder: Path) -> None:
    """Copy the shipped Word templates (bulletin.docx, problem_list.docx, cases.docx) into FOLDER, to edit
    in Word; then set DOCUMENT_TEMPLATES=FOLDER. A template left out of the folder stays the shipped one."""
    import shutil

    from services.intake import documents

    folder.mkdir(parents=True, exist_ok=True)
    for name in documents.TEMPLATES.values():
        target = folder / name
        if target.exists():
            click.echo(f"kept {target} (already there)")
            continue
        shutil.copy(documents.SHIPPED / name, target)
        click.echo(f"wrote {target}")


COMMANDS: dict[str, list[click.Command]] = {
    "users": [
        users_create,
        users_disable,
        users_reset_password,
        users_unlock,
        users_set_role,
        users_rotate_token,
        users_tokens,
        users_revoke_token,
        users_list,
    ],
    "units": [units_import, units_list, units_deactivate],
    "rounds": [rounds_open, rounds_close, rounds_list],
    "channels": [channels_add, channels_list, channels_remove, channels_disable, channels_enable],
    "catalogue": [catalogue_load, catalogue_list],
    "documents": [documents_templates],
}
