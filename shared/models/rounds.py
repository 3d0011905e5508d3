"""What is reported against: catalogue versions and supervision rounds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow


class CatalogueVersion(Base):
    """The aspects, measures, indicators and rules a round's reports follow, as loaded from a file."""

    __tablename__ = "catalogue_versions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Round(Base):
    """A half-yearly supervision round, such as 2023H2."""

    __tablename__ = "rounds"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    catalogue_version: Mapped[str] = mapped_column(ForeignKey("catalogue_versions.code"))
    due_date: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
