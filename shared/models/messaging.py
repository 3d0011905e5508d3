"""Events waiting to be published, channels, alerts and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, new_id, utcnow


class OutboxEvent(Base):
    """An event written in the same transaction as the change it announces.

    It is published after commit; the relay re-publishes whatever stayed unpublished. `published_at`
    is set by the relay's batched mark of the ids noted as sent (within one relay interval of the send),
    or at once by the publisher when Redis cannot take the note (see shared.outbox).
    """

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task_name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Channel(Base):
    """Where a district's (or the supervisors') alerts go, as an Apprise-style URL."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("district_code", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    audience: Mapped[str] = mapped_column(String(16), default="district")
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    # Whether this channel also wants to hear when its findings are resolved.
    send_resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    # A disabled channel gets no new alerts; it stays for the delivery log of what it was sent.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One message about a batch of findings to one district; made once per source event."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="findings_opened")
    audience: Mapped[str] = mapped_column(String(16), default="district")
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    round_code: Mapped[str] = mapped_column(String(16))
    finding_ids: Mapped[list[int]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="alert")


class Delivery(Base):
    """An alert sent to one channel: pending, delivered, retrying or failed."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    claim: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wall-clock times that let the sweeper find a delivery whose send request died with a worker.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship(back_populates="deliveries")
    channel: Mapped[Channel] = relationship()
    log: Mapped[list[DeliveryAttempt]] = relationship(order_by="DeliveryAttempt.id")


class DeliveryAttempt(Base):
    """One try at a delivery, with its outcome and the error text."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
