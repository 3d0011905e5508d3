"""Where alerts go: adding, listing, enabling, disabling and removing channels (administration page
and CLI alike).

The notifier sends on them; it reads the same table and parses the URL again before each send.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.intake import audit
from services.intake.speech import say
from shared import config
from shared.channels import Allowed, InvalidChannel, check_destination, from_webhook, kind_of, parse
from shared.models import Channel, Delivery, District


class ChannelRefused(ValueError):
    """The channel was refused; the message says why."""


def problem(url: str, check_address: bool = True) -> str | None:
    """Why the notifier could not send on this URL (it does not parse or, with `check_address`, it
    resolves to an address channels may not reach), or None."""
    try:
        parse(url)
        if check_address:
            check_destination(url, Allowed.of(config.current().channel_allowed_internal))
    except InvalidChannel as exc:
        return say(exc.args[0]) if exc.args else str(exc)
    return None


def broken(session: Session, channel_list: list[Channel]) -> dict[int, str]:
    """Why each broken channel cannot be sent on: its URL does not parse, or its latest delivery
    failed for good (refused address, unloadable channel, a permanent refusal by the server)."""
    latest = (
        select(func.max(Delivery.id))
        .where(Delivery.channel_id.in_([c.id for c in channel_list]))
        .group_by(Delivery.channel_id)
    )
    failed = {
        channel_id: error
        for channel_id, error in session.execute(
            select(Delivery.channel_id, Delivery.last_error).where(
                Delivery.id.in_(latest), Delivery.status == "failed"
            )
        )
    }
    out = {}
    for channel in channel_list:
        reason = problem(channel.url, check_address=False) or failed.get(channel.id)
        if reason:
            out[channel.id] = reason
    return out


def add_channel(
    session: Session, url: str, district: str | None, label: str, actor_id: int | None
) -> Channel:
    """A district's channel (or, without a district, the supervisors'); an existing one is kept (and
    enabled again). A robot's https webhook as WeCom, DingTalk or Feishu gives it is stored as its
    Apprise URL. The caller commits."""
    url = from_webhook(url)
    refused = problem(url)
    if refused:
        raise ChannelRefused(refused)
    if district and session.get(District, district) is None:
        raise ChannelRefused(_("未知县（市）区：%(value)s", value=district))
    channel = session.scalar(select(Channel).where(Channel.district_code == district, Channel.url == url))
    if channel is not None:
        if not channel.enabled:
            set_enabled(session, channel.id, True, actor_id)
        return channel
    channel = Channel(
        district_code=district,
        audience="district" if district else "supervisor",
        kind=kind_of(url),
        url=url,
        label=label.strip()[:200],
    )
    session.add(channel)
    session.flush()
    audit.record(session, actor_id, "channel.add", "channel", str(channel.id), {"kind": channel.kind})
    return channel


def list_channels(session: Session, district: str | None = None) -> list[Channel]:
    query = select(Channel).order_by(Channel.district_code, Channel.id)
    if district:
        query = query.where(Channel.district_code == district)
    return list(session.scalars(query))


def set_enabled(session: Session, channel_id: int, enabled: bool, actor_id: int | None) -> Channel:
    """Stop sending new alerts to a channel, or start again. The caller commits."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise ChannelRefused(_("没有该渠道：%(id)s", id=channel_id))
    channel.enabled = enabled
    audit.record(
        session, actor_id, "channel.enable" if enabled else "channel.disable", "channel", str(channel_id)
    )
    return channel


def remove_channel(session: Session, channel_id: int, actor_id: int | None) -> str:
    """Remove a channel that has never been used; one with deliveries is disabled instead, so the
    delivery log keeps its history. Returns "removed" or "disabled". The caller commits."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise ChannelRefused(_("没有该渠道：%(id)s", id=channel_id))
    if session.scalar(select(Delivery.id).where(Delivery.channel_id == channel_id).limit(1)) is not None:
        set_enabled(session, channel_id, False, actor_id)
        return "disabled"
    audit.record(
        session, actor_id, "channel.delete", "channel", str(channel_id), {"district": channel.district_code}
    )
    session.delete(channel)
    session.flush()
    return "removed"
