"""A clerk's drafts: what the report form holds between sittings, saved on every change, never
overwriting another clerk's newer save, and a start from the unit's last report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import reportforms
from shared import clock
from shared.models import Draft, PilotUnit, Round, Submission, User


class DraftChanged(Exception):
    """Someone saved the draft after this form loaded it: the later save would overwrite that."""

    def __init__(self, by: str, at: datetime):
        super().__init__(f"draft changed by {by} at {at.isoformat()}")
        self.by, self.at = by, at


def find(session: Session, unit: PilotUnit, round_code: str) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.unit_id == unit.id, Draft.round_code == round_code))


def save(
    session: Session,
    user: User,
    unit: PilotUnit,
    round_code: str,
    fields: dict[str, str],
    revision: int | None,
) -> Draft:
    """Save the form's fields as the unit's draft. `revision` is the draft's revision the form was
    loaded with (0: there was none); a draft saved meanwhile by someone else is not overwritten.
    The caller commits."""
    draft = find(session, unit, round_code)
    if draft is None:
        if revision not in (None, 0):
            raise DraftChanged("", clock.now())  # it was submitted or removed meanwhile
        draft = Draft(unit_id=unit.id, round_code=round_code, revision=0)
        session.add(draft)
    elif revision is not None and revision != draft.revision:
        by = session.get(User, draft.saved_by) if draft.saved_by else None
        raise DraftChanged(by.email if by else "", draft.saved_at)
    draft.fields, draft.saved_by, draft.saved_at = fields, user.id, clock.now()
    draft.revision = (draft.revision or 0) + 1
    session.flush()
    return draft


def carried_over(session: Session, unit: PilotUnit, round_: Round) -> dict[str, str]:
    """The unit's latest report of an earlier round as the form's values, to start from: the
    statuses, notes and figures a clerk then changes where they moved."""
    last = session.scalar(
        select(Submission)
        .join(Round, Round.code == Submission.round_code)
        .where(Submission.unit_id == unit.id, Round.due_date < round_.due_date)
        .order_by(Round.due_date.desc(), Submission.version.desc())
        .limit(1)
    )
    if last is None:
        return {}
    return reportforms.report_to_form(last.measures, last.indicators)


def fields_of(form: Any) -> dict[str, str]:
    return reportforms.draft_fields(form)
