"""The notify service's commands: `pilotwatch channels test URL` (try a channel now) and
`pilotwatch mutes ...` (silence alerts for a while)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from sqlalchemy import select

from services.notify.messages import channel_test_message
from services.notify.registry import transport_for
from services.notify.transports import TransportError
from shared import clock, config, db
from shared.channels import InvalidChannel, mask
from shared.models import District, MuteWindow


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO date or time: {text!r} (例如 2030-02-10 或 2030-02-10T08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("test")
@click.option("--locale", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.argument("url")
def channels_test(url: str, locale: str) -> None:
    """Send a test message to a channel URL now and print the outcome."""
    try:
        detail = transport_for(url, config.current().http_timeout).notify(channel_test_message(locale))
    except InvalidChannel as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(2)
    except TransportError as exc:
        kind = "永久失败 / permanent failure" if exc.permanent else "暂时失败 / temporary failure"
        click.echo(f"{kind}: {mask(url)}: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"已送达 / delivered: {mask(url)}: {detail}")


@click.group("mutes")
def mutes() -> None:
    """Mute windows: no non-critical alerts for a period; what waited goes out when it ends."""


@mutes.command("add")
@click.option("--district", help="the district to mute (none: every district)")
@click.option("--from", "starts", required=True, help="start, ISO date or time (UTC unless it has an offset)")
@click.option("--until", "ends", required=True, help="end, ISO date or time")
@click.option("--reason", default="")
def mutes_add(district: str | None, starts: str, ends: str, reason: str) -> None:
    """Add a mute window, for example for a public holiday."""
    start, end = _moment(starts), _moment(ends)
    if end <= start:
        raise click.BadParameter("--until must be after --from")
    with db.transaction() as session:
        if district and session.get(District, district) is None:
            raise click.BadParameter(f"unknown district {district}")
        window = MuteWindow(district_code=district, starts_at=start, ends_at=end, reason=reason)
        session.add(window)
        session.flush()
        made = window.id
    click.echo(
        f"mute window {made}: {district or '全部区县 / every district'} {start.isoformat()} → {end.isoformat()}"
    )


@mutes.command("list")
def mutes_list() -> None:
    """Mute windows that have not ended."""
    with db.transaction() as session:
        windows = session.scalars(
            select(MuteWindow).where(MuteWindow.ends_at > clock.now()).order_by(MuteWindow.starts_at)
        ).all()
        for w in windows:
            click.echo(
                f"{w.id}\t{w.district_code or '*'}\t{w.starts_at.isoformat()}\t{w.ends_at.isoformat()}\t{w.reason}"
            )
    if not windows:
        click.echo("no mute window / 没有静默时段")


@mutes.command("end")
@click.argument("window_id", type=int)
def mutes_end(window_id: int) -> None:
    """End a mute window now; what it held goes out with the next flush."""
    with db.transaction() as session:
        window = session.get(MuteWindow, window_id)
        if window is None:
            raise click.BadParameter(f"no mute window {window_id}")
        window.ends_at = min(window.ends_at, clock.now())
    click.echo(f"mute window {window_id} ended")


COMMANDS: dict[str, list[click.Command]] = {"channels": [channels_test], "": [mutes]}
