"""Supervision rounds: which are open, opening and closing them (pages, API and CLI alike)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.intake import audit
from shared import clock
from shared.catalogue import DEFAULT_VERSION
from shared.catalogue import store as catalogues
from shared.models import CatalogueVersion, PilotUnit, Round, Submission

CODE = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")
MAX_GRACE_DAYS = 90


class RoundRefused(ValueError):
    """The round cannot be opened or closed as asked; the message says why."""


def open_rounds(session: Session) -> list[Round]:
    """The open rounds, the one due last first."""
    return list(session.scalars(select(Round).where(Round.status == "open").order_by(Round.due_date.desc())))


def latest_open(session: Session) -> Round | None:
    return next(iter(open_rounds(session)), None)


def all_rounds(session: Session) -> list[Round]:
    return list(session.scalars(select(Round).order_by(Round.due_date.desc())))


def open_round(
    session: Session, code: str, due: date, grace_days: int, version: str, actor_id: int | None
) -> Round:
    """Open a round (or reopen one with new dates); the starter catalogue is loaded when it is named
    and not there yet. The caller commits."""
    code = code.strip()
    check_opening(session, code, grace_days, version)
    if session.get(CatalogueVersion, version) is None:
        catalogues.ensure_default(session)
    round_ = session.get(Round, code)
    if round_ is None:
        round_ = Round(code=code, catalogue_version=version)
        session.add(round_)
    round_.due_date, round_.grace_days, round_.status, round_.closed_at = due, grace_days, "open", None
    audit.record(
        session,
        actor_id,
        "round.open",
        "round",
        code,
        {"due_date": due.isoformat(), "grace_days": grace_days},
    )
    return round_


def check_opening(session: Session, code: str, grace_days: int, version: str) -> None:
    """Refuse a round that cannot be opened as asked, with the reason."""
    if not CODE.match(code.strip()):
        raise RoundRefused(_("轮次代码应为 1–16 位字母、数字或 -_（例如 2026H2）"))
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise RoundRefused(_("宽限天数应在 0–%(most)d 之间", most=MAX_GRACE_DAYS))
    if session.get(CatalogueVersion, version) is None and version != DEFAULT_VERSION:
        raise RoundRefused(_("目录版本 %(version)s 尚未载入", version=version))


def close_round(session: Session, code: str, actor_id: int | None) -> Round:
    """Close a round: no more reports are taken. The caller commits."""
    round_ = session.get(Round, code)
    if round_ is None:
        raise RoundRefused(_("没有该督导轮次：%(code)s", code=code))
    round_.status, round_.closed_at = "closed", clock.now()
    audit.record(session, actor_id, "round.close", "round", code)
    return round_


def others_open(session: Session, code: str) -> list[Round]:
    """The open rounds other than `code`: opening it too leaves several rounds open at once."""
    return [r for r in open_rounds(session) if r.code != code.strip()]


def unreported(session: Session, code: str) -> int:
    """Active units with no report in the round."""
    reported = select(Submission.unit_id).where(Submission.round_code == code)
    return (
        session.scalar(
            select(func.count(PilotUnit.id)).where(PilotUnit.active.is_(True), PilotUnit.id.not_in(reported))
        )
        or 0
    )
