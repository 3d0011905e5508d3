"""Reports and what evaluation made of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, new_id, utcnow


class Submission(Base):
    """One version of one unit's report for one round; a resubmission is a new version."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("unit_id", "round_code", "version"),
        UniqueConstraint("submitted_by", "idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    unit_id: Mapped[int] = mapped_column(ForeignKey("pilot_units.id"), index=True)
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)
    indicators: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="api")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    unit = relationship("PilotUnit")
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="submission", uselist=False)


evaluation_findings = Table(
    "evaluation_findings",
    Base.metadata,
    Column("evaluation_id", ForeignKey("evaluations.id"), primary_key=True),
    Column("finding_id", ForeignKey("findings.id"), primary_key=True),
)


class Evaluation(Base):
    """The scores and rule results of one submission; at most one per submission."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    overall_score: Mapped[float] = mapped_column(Float)
    aspect_scores: Mapped[dict[str, float]] = mapped_column(JSON)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The report rules that did not apply to this report, with the reason (kind, guard, round, blank).
    skipped: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The rules that could not be evaluated on this report: [{"rule_code", "reason", "detail"}].
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    submission: Mapped[Submission] = relationship(back_populates="evaluation")
    findings: Mapped[list[Finding]] = relationship(secondary=evaluation_findings, order_by="Finding.id")


# A finding's life (every move is in shared/ledger.py): open → acknowledged → rectification_reported
# (the district reports, or a resubmission no longer shows a shortfall that needs verifying) → closed
# (a supervisor verified it) or returned (sent back, with a reason). The district may explain why it
# does not apply (explained → waived, or returned); a data error a corrected report removes is
# resolved. A record (a late report) is a fact, not a problem: it is never acted on.
FINDING_STATUSES = (
    "open",
    "acknowledged",
    "rectification_reported",
    "returned",
    "explained",
    "closed",
    "resolved",
    "waived",
    "recorded",
)
# The statuses of a problem still to deal with: what the open-problem counts, reminders and escalations see.
ACTIVE_STATUSES = ("open", "acknowledged", "rectification_reported", "returned", "explained")


class Finding(Base):
    """A problem found in a unit's report for a round, tracked until it is closed.

    Its fingerprint (unit, round, rule) keeps one active finding per problem across resubmissions.
    """

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_district_status", "district_code", "status"),
        # a round's findings by state (the dashboard, the home page's counts, the district table)
        Index("ix_findings_round_status", "round_code", "status"),
        # a round's problems due by a date (the red and yellow lights)
        Index("ix_findings_round_due", "round_code", "due_date"),
        # the ledger, newest first, of every district and of one
        Index("ix_findings_opened", "opened_at", "id"),
        Index("ix_findings_district_opened", "district_code", "opened_at", "id"),
        # the findings a report settled (a round's re-evaluation reads them a chunk at a time)
        Index("ix_findings_last_submission_id", "last_submission_id"),
        # a unit's findings of a round (whether it has open problems: the report states)
        Index("ix_findings_unit_round", "unit_id", "round_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("pilot_units.id"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    round_code: Mapped[str] = mapped_column(ForeignKey("rounds.code"))
    rule_code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text, default="")
    action_zh: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(200), default="")
    # What kind of problem (完整性, 数据一致性, 政策落实, ...), as the rule's category says.
    category: Mapped[str] = mapped_column(String(64), default="")
    # The measure a finding is about (a stagnant measure; a problem raised by hand), when it is one.
    measure_code: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24), default="open")
    # Current for its fingerprint: the one finding kept across resubmissions (records included).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How it ends: `auto` when a corrected report no longer shows it, `verify` only by a supervisor.
    resolution_mode: Mapped[str] = mapped_column(String(8), default="auto")
    proof_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Raised by hand by a supervisor (from a visit, a call, a document), else by a rule.
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The on-site visit it was found on, when it was raised from one.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    # A later deadline the district asked for, waiting for a supervisor's decision.
    extension_until: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    # Bumped by every change of state: a ledger action applies only to the version it was shown.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Every ORM UPDATE of a finding checks and bumps `version`: a change made meanwhile by anyone else
    # makes it fail (StaleDataError) instead of overwriting it.
    __mapper_args__ = {"version_id_col": version}
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_date: Mapped[date | None] = mapped_column(Date)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(String(64), default="")
    last_submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))

    unit = relationship("PilotUnit")


# Only one active finding per fingerprint: a resubmission that still breaks the rule keeps it. The
# condition is plain SQL that both SQLite and PostgreSQL accept (the migration is generated on SQLite).
Index(
    "uq_findings_active_fingerprint",
    Finding.fingerprint,
    unique=True,
    sqlite_where=text("active"),
    postgresql_where=text("active"),
)
