"""What a clerk keeps between visits: report drafts, the files attached to a unit's report, and the
spreadsheets uploaded for the intake worker to check and store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, new_id, utcnow


class Draft(Base):
    """A report being filled in for one unit and round; replaced on each save, removed on submit."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("unit_id", "round_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by every save: a save based on an older revision (another clerk saved meanwhile) is refused.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit = relationship("PilotUnit")


class StoredFile(Base):
    """An evidence file for a measure, a proof of rectification for a finding, or a file of an on-site
    visit or of a case (kept with one of the units it is about).

    The content is checked (PDF, JPEG or PNG by its first bytes) and kept under the upload
    directory by its id; the original name is only shown.
    """

    __tablename__ = "stored_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"))
    purpose: Mapped[str] = mapped_column(String(16))  # evidence | proof | visit | case
    measure_code: Mapped[str] = mapped_column(String(64), default="")
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit = relationship("PilotUnit")


class SheetImport(Base):
    """A filled-in report template, checked and stored by the intake worker, with its progress and its
    outcome for the page that waits: the reports stored, or each problem found (nothing stored)."""

    __tablename__ = "sheet_imports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    # The language of the page that uploaded it: the annotated workbook is written in it.
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    submission_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The first problems as the page lists them (row, unit name, column letter, column title, message);
    # the marked workbook holds every one of the `problem_count`.
    problems: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
