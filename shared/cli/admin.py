"""The rest of the administration commands: users and their tokens, units, rounds, channels, catalogues."""

from __future__ import annotations

import secrets
import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from shared import accounts, db
from shared.models import ApiToken, CatalogueVersion, Channel, PilotUnit, Round, User, utcnow


def fail(message: str) -> None:
    click.echo(f"错误 / error: {message}", err=True)
    sys.exit(1)


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        fail(f"没有该用户 / no user {email}")
    return user


# --- users ---------------------------------------------------------------------------------------


@click.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a user: no more logins, and every one of their tokens is revoked."""
    with db.transaction() as session:
        user = find_user(session, email)
        user.active = False
        revoked = 0
        for token in user.tokens:
            if token.revoked_at is None:
                token.revoked_at, revoked = utcnow(), revoked + 1
    click.echo(f"已停用 / disabled {user.email}; {revoked} token(s) revoked")


@click.command("reset-password")
@click.argument("email")
@click.option("--password", help="the new password (none: a random one is made and printed once)")
def users_reset_password(email: str, password: str | None) -> None:
    """Set a new password for the web pages."""
    if password is not None and len(password) < 8:
        fail("密码至少 8 位 / the password needs at least 8 characters")
    new = password or secrets.token_urlsafe(12)
    with db.transaction() as session:
        find_user(session, email).password_hash = generate_password_hash(new)
    click.echo(f"已重置密码 / password reset for {email.strip().lower()}")
    if password is None:
        click.echo(f"新密码（仅显示一次）/ new password (shown only now): {new}")


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
            fail(str(exc))
    click.echo(f"已吊销 / token {token_id} revoked")


@click.command("list")
def users_list() -> None:
    """Every user with role, district and state."""
    with db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.role, User.email)):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.email:<40} {user.role:<10} {user.district_code or '-':<8} {state}")


# --- units, rounds, channels, catalogues ---------------------------------------------------------


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
        unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == credit_code.strip().upper()))
        if unit is None:
            fail(f"没有该单位 / no unit {credit_code}")
        unit.active = False
    click.echo(f"已停用 / unit {unit.credit_code} deactivated")


@click.command("list")
def rounds_list() -> None:
    """Supervision rounds, newest first."""
    with db.transaction() as session:
        for round_ in session.scalars(select(Round).order_by(Round.due_date.desc())):
            click.echo(
                f"{round_.code:<8} {round_.status:<7} due {round_.due_date.isoformat()} "
                f"+{round_.grace_days}d  catalogue {round_.catalogue_version}"
            )


@click.command("list")
@click.option("--district", help="only this district's channels")
def channels_list(district: str | None) -> None:
    """Channels with their secrets masked."""
    from services.notify.transports import mask

    with db.transaction() as session:
        query = select(Channel).order_by(Channel.district_code, Channel.id)
        if district:
            query = query.where(Channel.district_code == district)
        for channel in session.scalars(query):
            owner = channel.district_code or "supervisors"
            click.echo(
                f"{channel.id:>4}  {owner:<12} {channel.kind:<10} {mask(channel.url)}  {channel.label}"
            )


@click.command("remove")
@click.argument("channel_id", type=int)
def channels_remove(channel_id: int) -> None:
    """Remove a channel that has never been used; one with deliveries is kept for the delivery log."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.transaction() as session:
            channel = session.get(Channel, channel_id)
            if channel is None:
                fail(f"没有该渠道 / no channel {channel_id}")
            session.delete(channel)
    except IntegrityError:
        fail(f"渠道 {channel_id} 已有投递记录，不能删除 / channel {channel_id} has deliveries and is kept")
    click.echo(f"已删除 / channel {channel_id} removed")


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


def register(groups: dict[str, click.Group]) -> None:
    for command in (
        users_disable,
        users_reset_password,
        users_rotate_token,
        users_tokens,
        users_revoke_token,
        users_list,
    ):
        groups["users"].add_command(command)
    groups["units"].add_command(units_list)
    groups["units"].add_command(units_deactivate)
    groups["rounds"].add_command(rounds_list)
    groups["channels"].add_command(channels_list)
    groups["channels"].add_command(channels_remove)
    groups["catalogue"].add_command(catalogue_list)
