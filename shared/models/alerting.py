"""What the notifier keeps between events: items waiting to be grouped, each finding's alert history,
groups' last sending times and mute windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

# What an alert item is about: a new finding, a reminder that it is still open, an escalation to the
# supervisors past its deadline, its resolution, a daily digest entry, units that have not reported yet,
# a finding returned to the district, or a decision on its request for a later deadline.
ALERT_KINDS = (
    "opened",
    "reminder",
    "escalation",
    "resolved",
    "digest",
    "due_soon",
    "returned",
    "extended",
    "extension_refused",
)


class AlertItem(Base):
    """One thing to tell one audience of one district, waiting to be grouped into an alert."""

    __tablename__ = "alert_items"
    __table_args__ = (
        UniqueConstraint("source_event_id", "finding_id", "audience", "kind"),
        Index("ix_alert_items_pending", "status", "district_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    round_code: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)


class AlertGroup(Base):
    """When a group (district, audience, kind, round) last went out, for `group_interval`."""

    __tablename__ = "alert_groups"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FindingAlertState(Base):
    """A finding's alert history: alerted once, then reminders and escalations at their intervals."""

    __tablename__ = "finding_alert_states"

    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), primary_key=True)
    first_alerted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    resolved_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MuteWindow(Base):
    """A period in which a district (or, without one, every district) gets no non-critical alerts."""

    __tablename__ = "mute_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
