"""What the evaluation's round-level jobs did: reminders sent, re-evaluations and their progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, new_id, utcnow


class ReminderSent(Base):
    """A due-date reminder sent to a district for a round, once per threshold (days before the due date)."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("round_code", "district_code", "days_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    days_before: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=0)
    event_id: Mapped[str] = mapped_column(String(32), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReevaluationJob(Base):
    """A round evaluated again across the workers, chunk by chunk; `done` counts the units finished."""

    __tablename__ = "reevaluation_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
