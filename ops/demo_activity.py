"""Demo activity on top of the demo registry (ops/demo.py), so that a newcomer finds every page filled:
the two earlier pilot batches, reports of both demo rounds evaluated in-process by the evaluation
service's own functions, problems rectified and verified, on-site visits with problems raised from
them, and cases at every step of the case library. Deterministic, idempotent, a few seconds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ops import demo
from services.evaluation.evaluate import reevaluate_units
from services.intake import audit
from shared import clock, ledger
from shared.catalogue import DEFAULT_VERSION, Catalogue
from shared.catalogue import store as catalogues
from shared.models import (
    Case,
    District,
    Finding,
    OutboxEvent,
    PilotUnit,
    Round,
    Submission,
    User,
    Visit,
)

EARLIER_BATCHES = ((1, 30), (2, 34))  # the 64 units of the first two batches (DOMAIN.md)
NOTES = {
    "P2-M2": "建立“师带徒”结对机制，一线职工年人均培训不少于 40 学时。",
    "P2-M5": "劳模创新工作室牵头攻关 6 项工艺难题，形成 3 项专利。",
    "P4-M1": "开展企业技能等级自主评价，当年新取证人数同比增长四成。",
    "P1-M4": "职代会审议通过薪酬分配方案，厂务公开栏按月更新。",
    "P4-M3": "技能津贴与等级挂钩，高级技师月津贴 1500 元。",
}


def earlier_batches(session: Session) -> int:
    """The first two batches' units (64, DOMAIN.md), added once."""
    known = set(session.scalars(select(PilotUnit.credit_code)))
    added = 0
    units = demo.synthetic_units(count=sum(n for _, n in EARLIER_BATCHES), seed=2020)
    numbers = [b for b, n in EARLIER_BATCHES for _ in range(n)]
    for unit, batch in zip(units, numbers, strict=True):
        if unit["credit_code"] in known:
            continue
        session.add(
            PilotUnit(
                credit_code=unit["credit_code"],
                name=unit["name"].replace("有限公司", "股份有限公司", 1),
                district_code=unit["district"],
                industry=unit["industry"],
                kind=unit["kind"],
                batch=batch,
            )
        )
        added += 1
    session.flush()
    return added


def baseline(rng: random.Random, size: float) -> dict[str, Any]:
    """A unit's consistent indicators for a half-year; `size` scales its workforce."""
    total = int(rng.randint(120, 1800) * size)
    skilled = int(total * rng.uniform(0.35, 0.6))
    highly = int(skilled * rng.uniform(0.22, 0.4))
    top = [int(highly * share) for share in (0.6, 0.25, 0.1, 0.04)]
    levels = {
        "level_3": top[0],
        "level_2": top[1],
        "level_1": top[2],
        "level_special": top[3],
        "level_chief": highly - sum(top),
    }
    rest = skilled - highly
    level_4 = int(rest * 0.55)
    payroll = round(total * rng.uniform(4.0, 6.5), 1)
    extracted = round(payroll * rng.choice([0.012, 0.016, 0.018, 0.02, 0.022, 0.025]), 1)
    used = round(extracted * rng.uniform(0.8, 0.98), 1)
    representatives = max(30, int(total * 0.08)) if total >= 100 else 0
    return {
        "workers_total": total,
        "frontline_workers": int(total * rng.uniform(0.55, 0.8)),
        "skilled_workers": skilled,
        "highly_skilled_workers": highly,
        "level_apprentice": int(total * 0.02),
        "level_5": rest - level_4,
        "level_4": level_4,
        **levels,
        "new_certificates": int(total * rng.uniform(0.03, 0.08)),
        "training_person_times": int(total * rng.uniform(1.0, 2.2)),
        "apprentices": int(total * 0.015),
        "competitions_held": rng.randint(1, 6),
        "competition_participants": int(total * rng.uniform(0.2, 0.5)),
        "proposals_submitted": int(total * rng.uniform(0.05, 0.15)),
        "proposals_adopted": 0,
        "studios_national": 1 if rng.random() < 0.05 else 0,
        "studios_provincial": rng.choice([0, 0, 1]),
        "studios_municipal": rng.choice([0, 1, 1, 2]),
        "new_party_members_frontline": rng.randint(0, 6),
        "online_platform_users": int(total * rng.uniform(0.4, 0.9)),
        "payroll_total": payroll,
        "education_fund_extracted": extracted,
        "education_fund_used": used,
        "frontline_training_spend": round(used * rng.choice([0.5, 0.65, 0.7, 0.75]), 1),
        "congress_held": rng.random() > 0.08,
        "worker_representatives": representatives,
        "frontline_representatives": int(representatives * rng.uniform(0.45, 0.7)),
        "collective_contract": True,
    }


def grown(rng: random.Random, before: dict[str, Any], momentum: float) -> dict[str, Any]:
    """The next half-year of the same unit: the district's momentum moves its outcomes."""
    after = dict(before)
    extra = max(int(before["skilled_workers"] * rng.uniform(-0.02, 0.03) * momentum), 0)
    after["highly_skilled_workers"] = before["highly_skilled_workers"] + extra
    after["level_3"] = before["level_3"] + extra
    after["level_4"] = max(before["level_4"] - extra, 0)
    after["level_5"] = before["skilled_workers"] - after["highly_skilled_workers"] - after["level_4"]
    for code, low, high in (
        ("new_certificates", 0.75, 1.35),
        ("training_person_times", 0.8, 1.25),
        ("proposals_submitted", 0.85, 1.3),
    ):
        after[code] = int(before[code] * (1 + (rng.uniform(low, high) - 1) * momentum))
    if rng.random() < 0.15 * momentum:
        after["studios_municipal"] = before["studios_municipal"] + 1
    return after


def measures(rng: random.Random, catalogue: Catalogue, done: float) -> dict[str, dict[str, str]]:
    """Statuses with `done` the chance of a measure being implemented; a few of those are exemplary."""
    out = {}
    for code in catalogue.measures:
        roll = rng.random()
        if roll < done:
            exemplary = rng.random() < 0.08 * done
            status = "exemplary" if exemplary else "implemented"
            note = (
                NOTES.get(code, "做法成熟，成效明显，形成制度文件。")
                if exemplary
                else "已按方案落实，有台账可查。"
            )
        elif roll < done + 0.6 * (1 - done):
            status, note = "in_progress", ""
        else:
            status, note = "not_started", ""
        out[code] = {"status": status, "note": note}
    return out


def reports(
    session: Session, round_: Round, catalogue: Catalogue, share: float, earlier: Round | None
) -> int:
    """One evaluated report for `share` of the active units (none if the round already has reports)."""
    if session.scalar(
        select(func.count()).select_from(Submission).where(Submission.round_code == round_.code)
    ):
        return 0
    rng = random.Random(f"demo-{round_.code}")
    before = (
        {
            s.unit_id: s
            for s in session.scalars(select(Submission).where(Submission.round_code == earlier.code))
        }
        if earlier
        else {}
    )
    units = list(session.scalars(select(PilotUnit).where(PilotUnit.active.is_(True)).order_by(PilotUnit.id)))
    # each district moves at its own pace, so that the districts' outcomes differ
    momentum = {
        code: 0.4 + 1.2 * (sum(map(ord, code)) * 7 % 10) / 10 for code in {u.district_code for u in units}
    }
    due = datetime.combine(round_.due_date, time(10), tzinfo=UTC)
    made: list[int] = []
    for unit in units:
        if rng.random() > share:
            continue
        unit_rng = random.Random(f"{unit.credit_code}-{round_.code}")
        past = before.get(unit.id)
        indicators = (
            grown(unit_rng, past.indicators, momentum[unit.district_code])
            if past
            else baseline(unit_rng, 0.6 if unit.kind == "institution" else 1.0)
        )
        indicators["proposals_adopted"] = int(indicators["proposals_submitted"] * unit_rng.uniform(0.3, 0.6))
        if unit_rng.random() < 0.03:  # a typing error the rules catch
            indicators["proposals_adopted"] = indicators["proposals_submitted"] + 5
        late = unit_rng.random() < 0.08 and round_.status != "open"
        at = due + (
            timedelta(days=unit_rng.randint(1, 4)) if late else -timedelta(days=unit_rng.randint(1, 40))
        )
        progress = min(0.45 + 0.2 * momentum[unit.district_code] + (0.1 if past else 0.0), 0.95)
        session.add(
            Submission(
                unit_id=unit.id,
                round_code=round_.code,
                version=1,
                measures=measures(unit_rng, catalogue, progress),
                indicators=indicators,
                channel="form",
                submitted_at=min(at, clock.now()),
            )
        )
        made.append(unit.id)
    session.flush()
    for start in range(0, len(made), 200):
        reevaluate_units(session, round_.code, made[start : start + 200], clock.now())
    return len(made)


def rectify(session: Session, round_: Round, supervisor: User, share: float) -> int:
    """A share of the round's problems that need verifying: reported rectified, verified and closed."""
    rng = random.Random(f"rectify-{round_.code}")
    found = session.scalars(
        select(Finding)
        .where(
            Finding.round_code == round_.code, Finding.status == "open", Finding.resolution_mode == "verify"
        )
        .order_by(Finding.id)
    ).all()
    closed = 0
    now = clock.now()
    for finding in found:
        if rng.random() > share:
            continue
        finding.status = "rectification_reported"
        session.flush()
        request = ledger.Request("close", comment="佐证材料齐全，核实无误。")
        ledger.apply(session, supervisor, finding, ledger.ACTIONS["close"], request, now)
        closed += 1
    return closed


VISITS = (
    (
        "350102",
        "实地查看创新工作室和培训台账；与一线职工座谈。",
        "职工教育经费使用台账不完整，请 30 日内补齐。",
    ),
    (
        "350104",
        "查阅职代会会议记录和集体合同文本。",
        "个别单位职代会记录不规范，请对照《企业民主管理规定》整改。",
    ),
    ("350181", "实地查看技能等级自主评价考场。", "自主评价做法可总结提炼，作为典型案例推荐。"),
    ("350103", "座谈了解新型学徒制推进情况。", "学徒制覆盖面偏小，请制定扩面计划。"),
)


def visits(session: Session, round_: Round, supervisor: User) -> int:
    """On-site visits of the open round, with problems raised from two of them."""
    if session.scalar(select(func.count()).select_from(Visit).where(Visit.round_code == round_.code)):
        return 0
    today = clock.today()
    for number, (district, summary, opinion) in enumerate(VISITS):
        units = list(
            session.scalars(
                select(PilotUnit).where(PilotUnit.district_code == district).order_by(PilotUnit.id).limit(3)
            )
        )
        visit = Visit(
            round_code=round_.code,
            district_code=district,
            visited_on=today - timedelta(days=10 + 7 * number),
            team="市产改办督导组（王明、李华）",
            methods=["site", "interview", "documents"][: 1 + number % 3],
            summary=summary,
            opinion=opinion,
            recorded_by=supervisor.id,
            recorded_at=clock.now(),
            units=units,
        )
        session.add(visit)
        session.flush()
        audit.record(session, supervisor.id, "visit.record", "visit", str(visit.id), {"district": district})
        if number < 2:
            raised = ledger.Raised(
                unit=units[0],
                round_code=round_.code,
                description=opinion,
                requirement="按督导意见整改，并上传整改佐证材料。",
                severity="warning",
                due_date=today + timedelta(days=30),
                source="督导检查",
                visit_id=visit.id,
            )
            ledger.raise_finding(session, supervisor, raised, clock.now())
    return len(VISITS)


CASES = (
    ("selected", "“师带徒”结对培养高技能人才", ["P2-M2", "P2-M3"]),
    ("selected", "劳模创新工作室带动一线攻关", ["P2-M5"]),
    ("recommended", "企业技能等级自主评价打通成长通道", ["P4-M1", "P4-M2"]),
    ("returned", "职代会审议薪酬分配方案", ["P1-M4"]),
    ("draft", "技能津贴与等级挂钩", ["P4-M3"]),
)


def cases(session: Session, round_: Round, supervisor: User) -> int:
    """Cases of the round at every step: selected (published), recommended, returned, a draft."""
    if session.scalar(select(func.count()).select_from(Case).where(Case.round_code == round_.code)):
        return 0
    districts = [d for d in session.scalars(select(District.code).order_by(District.code))]
    now = clock.now()
    for number, (status, title, codes) in enumerate(CASES):
        district = "350102" if number % 2 == 0 else districts[(number * 3) % len(districts)]
        unit = session.scalars(
            select(PilotUnit).where(PilotUnit.district_code == district).order_by(PilotUnit.id).offset(number)
        ).first()
        if unit is None:
            continue
        case = Case(
            round_code=round_.code,
            unit_id=unit.id,
            district_code=district,
            title=title,
            measures=codes,
            practice="一是建立制度，明确责任部门和工作台账。\n二是以项目为载体，一线职工全员参与。\n三是定期评估，结果与薪酬挂钩。",
            results="一线职工参与率达 90% 以上，相关指标同比明显提高。",
            figures=[
                {"label": "高技能人才占比", "value": "由 28% 提高到 34%"},
                {"label": "新取得技能等级证书", "value": "同比增长 41%"},
            ],
            status=status,
            review_reason="请补充成效数据的来源和对比口径。" if status == "returned" else "",
            created_at=now,
            recommended_at=now if status != "draft" else None,
            reviewed_by=supervisor.id if status in ("selected", "returned") else None,
            reviewed_at=now if status in ("selected", "returned") else None,
        )
        session.add(case)
        session.flush()
        audit.record(session, None, "case.draft", "case", str(case.id), {"to": "draft"})
        if status in ("selected", "returned"):
            action = "case.select" if status == "selected" else "case.return"
            audit.record(
                session, supervisor.id, action, "case", str(case.id), {"to": status}, case.review_reason
            )
    return len(CASES)


def load(session: Session) -> dict[str, int]:
    """Fill the demo rounds (after ops.demo.load); what already exists is left as it is."""
    catalogue = catalogues.get(session, DEFAULT_VERSION)
    supervisor = session.scalar(select(User).where(User.email == "supervisor@pilotwatch.example"))
    assert supervisor is not None, "load the demo registry first (ops.demo.load)"
    waiting = set(session.scalars(select(OutboxEvent.id).where(OutboxEvent.published_at.is_(None))))
    every = list(session.scalars(select(Round).order_by(Round.due_date)))
    closed = [r for r in every if r.status != "open"]
    current = next((r for r in reversed(every) if r.status == "open"), None)
    done = {"units": earlier_batches(session)}
    previous = closed[-1] if closed else None
    if previous is not None:
        done["reports_previous"] = reports(session, previous, catalogue, 0.95, None)
        if done["reports_previous"]:  # once, with the reports
            done["closed"] = rectify(session, previous, supervisor, 0.6)
        done["cases_previous"] = cases(session, previous, supervisor)
    if current is not None:
        done["reports_current"] = reports(session, current, catalogue, 0.7, previous)
        if done["reports_current"]:
            done["closed_current"] = rectify(session, current, supervisor, 0.3)
        done["visits"] = visits(session, current, supervisor)
        done["cases"] = cases(session, current, supervisor)
    # The demo's history was announced in its own time: none of its events goes out now, so a district
    # that adds a channel after `make run` hears only of what happens from then on.
    session.flush()
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.published_at.is_(None), OutboxEvent.id.not_in(waiting))
        .values(published_at=clock.now())
    )
    return done
