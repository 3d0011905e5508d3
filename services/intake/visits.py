"""On-site supervision (督导检查): recording a visit, its files, the problems raised from it, and who sees
which visits (pages and API alike). A supervisor records; a district sees the visits to its own units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from services.intake import audit, files
from shared.credit_code import normalise
from shared.models import VISIT_METHODS, Finding, PilotUnit, Round, StoredFile, User, Visit

SUPERVISORS = ("supervisor", "admin")


class VisitRefused(ValueError):
    """The visit cannot be recorded as given; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class VisitForm:
    """What a supervisor writes down about a visit."""

    round_code: str
    district_code: str
    unit_codes: list[str]
    visited_on: date | None
    team: str = ""
    methods: list[str] = field(default_factory=list)
    summary: str = ""
    opinion: str = ""


def _units(session: Session, district: str, codes: list[str]) -> tuple[list[PilotUnit], list[str]]:
    wanted = list(dict.fromkeys(normalise(c) for c in codes if c.strip()))
    found = {
        u.credit_code: u
        for u in session.scalars(select(PilotUnit).where(PilotUnit.credit_code.in_(wanted)))
        if u.district_code == district
    }
    return [found[c] for c in wanted if c in found], [c for c in wanted if c not in found]


def check(session: Session, form: VisitForm, today: date) -> tuple[Round | None, list[PilotUnit]]:
    """The round and units of a visit, or VisitRefused naming each field that is wrong."""
    problems: dict[str, str] = {}
    round_ = session.get(Round, form.round_code)
    if round_ is None:
        problems["round"] = _("请选择督导轮次")
    units, unknown = _units(session, form.district_code, form.unit_codes)
    if unknown:
        problems["units"] = _("以下单位不属于所选县（市）区：%(units)s", units=_("、").join(unknown))
    elif not units:
        problems["units"] = _("请选择检查的试点单位")
    if form.visited_on is None:
        problems["visited_on"] = _("请填写检查日期，如 2026-05-20")
    elif form.visited_on > today:
        problems["visited_on"] = _("检查日期不能晚于今天")
    if not form.methods or set(form.methods) - set(VISIT_METHODS):
        problems["methods"] = _("请选择检查方式")
    if not form.summary.strip():
        problems["summary"] = _("请填写检查情况")
    if problems:
        raise VisitRefused(problems)
    return round_, units


def record_visit(session: Session, user: User, form: VisitForm, now: datetime) -> Visit:
    """Record a visit (supervisors only). The caller commits."""
    if user.role not in SUPERVISORS:
        raise VisitRefused({"role": _("仅市产改办可以记录督导检查")})
    _round, units = check(session, form, now.date())
    visit = Visit(
        round_code=form.round_code,
        district_code=form.district_code,
        visited_on=form.visited_on,
        team=form.team.strip()[:2000],
        methods=[m for m in VISIT_METHODS if m in form.methods],
        summary=form.summary.strip()[:8000],
        opinion=form.opinion.strip()[:8000],
        recorded_by=user.id,
        recorded_at=now,
        units=units,
    )
    session.add(visit)
    session.flush()
    audit.record(
        session,
        user.id,
        "visit.record",
        "visit",
        str(visit.id),
        {"district": visit.district_code, "round": visit.round_code, "units": [u.credit_code for u in units]},
    )
    return visit


def visible(user: User) -> Select[tuple[Visit]]:
    """The visits this user may see: a district the visits to its own units, supervisors all."""
    query = select(Visit).options(selectinload(Visit.units), selectinload(Visit.district))
    if user.role == "district":
        query = query.where(Visit.district_code == user.district_code)
    return query


def listed(
    session: Session, user: User, round_code: str | None = None, district: str | None = None
) -> list[Visit]:
    query = visible(user).order_by(Visit.visited_on.desc(), Visit.id.desc())
    if round_code:
        query = query.where(Visit.round_code == round_code)
    if district and user.role != "district":
        query = query.where(Visit.district_code == district)
    return list(session.scalars(query))


def find(session: Session, user: User, visit_id: int) -> Visit | None:
    """The visit if this user may see it (None otherwise: a district never learns of another's)."""
    return session.scalar(visible(user).where(Visit.id == visit_id))


def attach(
    session: Session, user: User, visit: Visit, content: bytes, content_type: str, filename: str
) -> StoredFile:
    """Keep a checked file (a photo, the minutes of an interview) with the visit. The caller commits."""
    if user.role not in SUPERVISORS:
        raise VisitRefused({"file": _("仅市产改办可以上传检查材料")})
    stored = files.store(
        session, user, visit.units[0], visit.round_code, "visit", content, content_type, filename
    )
    stored.visit_id = visit.id
    return stored


def files_of(session: Session, visit: Visit) -> list[StoredFile]:
    return list(
        session.scalars(
            select(StoredFile).where(StoredFile.visit_id == visit.id).order_by(StoredFile.uploaded_at)
        )
    )


def problems_of(session: Session, visit: Visit) -> list[Finding]:
    """The problems raised from the visit, the newest first."""
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.visit_id == visit.id)
            .options(selectinload(Finding.unit))
            .order_by(Finding.id.desc())
        )
    )


def for_raising(session: Session, visit_id: int, unit: PilotUnit | None, round_code: str) -> Visit:
    """The visit a problem is raised from, which must be of the problem's round and the unit's district."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise VisitRefused({"visit": _("没有该督导检查记录")})
    if visit.round_code != round_code:
        raise VisitRefused({"round": _("问题应属于该次检查的督导轮次")})
    if unit is not None and unit.district_code != visit.district_code:
        raise VisitRefused({"unit": _("该单位不属于本次检查的县（市）区")})
    return visit
