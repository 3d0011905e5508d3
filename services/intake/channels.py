"""Where alerts go: adding, listing and removing channels (administration page and CLI alike).

The notifier sends on them; it reads the same table and parses the URL again before each send.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake import audit
from shared.channels import InvalidChannel, kind_of, parse
from shared.models import Channel, Delivery, District


class ChannelRefused(ValueError):
    """The channel was refused; the message says why."""


def add_channel(
    session: Session, url: str, district: str | None, label: str, actor_id: int | None
) -> Channel:
    """A district's channel (or, without a district, the supervisors'); an existing one is kept.
    The caller commits."""
    url = url.strip()
    try:
        parse(url)
    except InvalidChannel as exc:
        raise ChannelRefused(str(exc)) from None
    if district and session.get(District, district) is None:
        raise ChannelRefused(f"未知区县 / unknown district {district}")
    channel = session.scalar(select(Channel).where(Channel.district_code == district, Channel.url == url))
    if channel is not None:
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


def remove_channel(session: Session, channel_id: int, actor_id: int | None) -> None:
    """Remove a channel that has never been used; one with deliveries stays for the delivery log.
    The caller commits."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise ChannelRefused(f"没有该渠道 / no channel {channel_id}")
    if session.scalar(select(Delivery.id).where(Delivery.channel_id == channel_id).limit(1)) is not None:
        raise ChannelRefused(
            f"渠道 {channel_id} 已有投递记录，不能删除 / channel {channel_id} has deliveries and is kept"
        )
    audit.record(
        session, actor_id, "channel.delete", "channel", str(channel_id), {"district": channel.district_code}
    )
    session.delete(channel)
    try:
        session.flush()
    except IntegrityError:
        raise ChannelRefused(f"渠道 {channel_id} 仍在使用 / channel {channel_id} is in use") from None
