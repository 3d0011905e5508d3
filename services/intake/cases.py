"""The case library (典型案例 / 可复制可推广经验): a district drafts a case and recommends it (推荐); the city
reviews it (审核): selects it (入选: published to every district) or returns it for changes (退回修改, with
a reason). One function per use case, called by the pages and the API alike; each change is audited.

A case is a practice, not a unit: its title, the unit, the measures it belongs to, what was done, the
results with their figures and the evidence files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from services.intake import audit, files
from shared.catalogue import store as catalogues
from shared.credit_code import normalise
from shared.models import Case, PilotUnit, Round, StoredFile, User

SUPERVISORS = ("supervisor", "admin")
EDITABLE = ("draft", "returned")
FIGURES = 6


class CaseRefused(ValueError):
    """The change was refused; `problems` maps each field to what is wrong (Chinese first)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass
class CaseForm:
    """What a district writes about a case."""

    round_code: str
    unit_code: str
    title: str
    measures: list[str] = field(default_factory=list)
    practice: str = ""
    results: str = ""
    figures: list[dict[str, str]] = field(default_factory=list)


def _checked(session: Session, user: User, form: CaseForm) -> PilotUnit:
    problems: dict[str, str] = {}
    round_ = session.get(Round, form.round_code)
    if round_ is None:
        problems["round"] = _("请选择督导轮次")
    unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == normalise(form.unit_code)))
    if unit is None or unit.district_code != user.district_code:
        problems["unit"] = _("请选择本县（市）区的试点单位")
    if not form.title.strip():
        problems["title"] = _("请填写案例标题")
    if round_ is not None:
        known = catalogues.get(session, round_.catalogue_version).measures
        if set(form.measures) - set(known):
            problems["measures"] = _("请选择目录中的改革举措")
    if problems:
        raise CaseRefused(problems)
    assert unit is not None
    return unit


def _figures(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    kept = [
        {"label": r.get("label", "").strip()[:100], "value": r.get("value", "").strip()[:100]}
        for r in rows
        if r.get("label", "").strip() or r.get("value", "").strip()
    ]
    return kept[:FIGURES]


def _fill(case: Case, form: CaseForm, unit: PilotUnit) -> None:
    case.round_code, case.unit_id, case.district_code = form.round_code, unit.id, unit.district_code
    case.title = form.title.strip()[:200]
    case.measures = list(dict.fromkeys(form.measures))
    case.practice, case.results = form.practice.strip()[:20000], form.results.strip()[:20000]
    case.figures = _figures(form.figures)


def draft(session: Session, user: User, form: CaseForm, now: datetime) -> Case:
    """A district starts a case about one of its units. The caller commits."""
    if user.role != "district":
        raise CaseRefused({"role": _("案例由县（市）区撰写和推荐")})
    unit = _checked(session, user, form)
    case = Case(status="draft", created_by=user.id, created_at=now)
    _fill(case, form, unit)
    session.add(case)
    session.flush()
    audit.record(session, user.id, "case.draft", "case", str(case.id), {"to": "draft"})
    return case


def edit(session: Session, user: User, case: Case, form: CaseForm, now: datetime) -> Case:
    """The district edits its draft, or a case the city returned. The caller commits."""
    if not can_edit(user, case):
        raise CaseRefused({"status": _("当前状态下不能修改该案例")})
    _fill(case, form, _checked(session, user, form))
    audit.record(session, user.id, "case.edit", "case", str(case.id), {"status": case.status})
    return case


def can_edit(user: User, case: Case) -> bool:
    return user.role == "district" and user.district_code == case.district_code and case.status in EDITABLE


def recommend(session: Session, user: User, case: Case, now: datetime) -> Case:
    """The district recommends the case to the city (推荐). The caller commits."""
    if not can_edit(user, case):
        raise CaseRefused({"status": _("当前状态下不能推荐该案例")})
    missing = {
        key: message
        for key, message in (
            ("practice", _("请填写主要做法")),
            ("results", _("请填写取得成效")),
        )
        if not getattr(case, key).strip()
    }
    if not case.measures:
        missing["measures"] = _("请选择案例所属的改革举措")
    if missing:
        raise CaseRefused(missing)
    before = case.status
    case.status, case.recommended_at = "recommended", now
    audit.record(
        session, user.id, "case.recommend", "case", str(case.id), {"from": before, "to": "recommended"}
    )
    return case


def review(session: Session, user: User, case: Case, decision: str, reason: str, now: datetime) -> Case:
    """The city selects a recommended case (入选, published) or returns it with a reason (退回修改)."""
    if user.role not in SUPERVISORS:
        raise CaseRefused({"role": _("案例由市产改办审核")})
    if case.status != "recommended":
        raise CaseRefused({"status": _("只能审核已推荐的案例")})
    if decision not in ("select", "return"):
        raise CaseRefused({"decision": _("请选择入选或退回修改")})
    if decision == "return" and not reason.strip():
        raise CaseRefused({"reason": _("请填写退回修改的理由")})
    to = "selected" if decision == "select" else "returned"
    case.status, case.review_reason = to, reason.strip()[:4000]
    case.reviewed_by, case.reviewed_at = user.id, now
    audit.record(
        session, user.id, f"case.{decision}", "case", str(case.id), {"from": "recommended", "to": to}, reason
    )
    return case


def visible(user: User) -> Select[tuple[Case]]:
    """Selected cases are published to everyone; a district also sees its own cases, the city every
    case that was recommended to it (not the districts' drafts)."""
    query = select(Case).options(selectinload(Case.unit))
    if user.role == "district":
        return query.where(or_(Case.status == "selected", Case.district_code == user.district_code))
    return query.where(Case.status != "draft")


def library(
    session: Session,
    user: User,
    round_code: str | None = None,
    status: str | None = None,
    district: str | None = None,
) -> list[Case]:
    query = visible(user).order_by(Case.round_code.desc(), Case.id.desc())
    if round_code:
        query = query.where(Case.round_code == round_code)
    if status:
        query = query.where(Case.status == status)
    if district:
        query = query.where(Case.district_code == district)
    return list(session.scalars(query))


def find(session: Session, user: User, case_id: int) -> Case | None:
    return session.scalar(visible(user).where(Case.id == case_id))


def selected(session: Session, round_code: str) -> list[Case]:
    """The round's published cases, by district then title (the 案例汇编)."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.round_code == round_code, Case.status == "selected")
            .options(selectinload(Case.unit))
            .order_by(Case.district_code, Case.title)
        )
    )


def attach(
    session: Session, user: User, case: Case, content: bytes, content_type: str, filename: str
) -> StoredFile:
    """Keep a checked evidence file with the case (its district, while it can be edited)."""
    if not can_edit(user, case):
        raise CaseRefused({"file": _("当前状态下不能上传佐证材料")})
    stored = files.store(session, user, case.unit, case.round_code, "case", content, content_type, filename)
    stored.case_id = case.id
    return stored


def evidence_of(session: Session, case: Case) -> list[StoredFile]:
    return list(
        session.scalars(
            select(StoredFile).where(StoredFile.case_id == case.id).order_by(StoredFile.uploaded_at)
        )
    )


def as_dict(case: Case, catalogue_measures: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A case as the API and the documents give it."""
    measures = catalogue_measures or {}
    return {
        "id": case.id,
        "round": case.round_code,
        "district": case.district_code,
        "unit": case.unit.credit_code,
        "unit_name": case.unit.name,
        "title": case.title,
        "measures": [
            {
                "code": code,
                "name_zh": measures.get(code, {}).get("name_zh", code),
                "name_en": measures.get(code, {}).get("name_en", ""),
            }
            for code in case.measures
        ],
        "practice": case.practice,
        "results": case.results,
        "figures": case.figures,
        "status": case.status,
        "review_reason": case.review_reason,
    }
