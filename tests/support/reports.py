"""Reports for tests: a clean one, and the classic one with two problems."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared import db
from shared.catalogue import Catalogue
from shared.models import PilotUnit, Round


def clean_report(catalogue: Catalogue, unit: str, round_code: str) -> dict[str, Any]:
    """A report that breaks no rule: every measure implemented with a note, consistent numbers."""
    indicators: dict[str, Any] = {
        "workers_total": 800,
        "frontline_workers": 600,
        "skilled_workers": 400,
        "highly_skilled_workers": 150,
        "level_apprentice": 20,
        "level_5": 100,
        "level_4": 130,
        "level_3": 100,
        "level_2": 30,
        "level_1": 15,
        "level_special": 4,
        "level_chief": 1,
        "new_certificates": 60,
        "training_person_times": 1200,
        "apprentices": 12,
        "competitions_held": 3,
        "competition_participants": 240,
        "proposals_submitted": 80,
        "proposals_adopted": 30,
        "studios_national": 0,
        "studios_provincial": 1,
        "studios_municipal": 2,
        "new_party_members_frontline": 4,
        "online_platform_users": 500,
        "payroll_total": 8000.0,
        "education_fund_extracted": 160.0,
        "education_fund_used": 150.0,
        "frontline_training_spend": 100.0,
        "congress_held": True,
        "worker_representatives": 60,
        "frontline_representatives": 35,
        "collective_contract": True,
    }
    return {
        "unit": unit,
        "round": round_code,
        "measures": {
            code: {"status": "implemented", "note": "已按方案落实，有台账可查。"}
            for code in catalogue.measures
        },
        "indicators": {k: v for k, v in indicators.items() if k in catalogue.indicators},
    }


def problem_report(catalogue: Catalogue, unit: str, round_code: str) -> dict[str, Any]:
    """The education fund below 1.5% of payroll, and more proposals adopted than submitted."""
    report = clean_report(catalogue, unit, round_code)
    report["indicators"].update(
        payroll_total=1000.0, education_fund_extracted=10.0, proposals_submitted=5, proposals_adopted=9
    )
    return report


def unit_of(district: str, index: int = 0, kind: str = "enterprise") -> str:
    """The credit code of a district's unit of this kind (the policy rules bind enterprises only)."""
    with db.transaction() as session:
        codes = session.scalars(
            select(PilotUnit.credit_code)
            .where(PilotUnit.district_code == district, PilotUnit.kind == kind)
            .order_by(PilotUnit.id)
        ).all()
    return codes[index]


def open_round() -> str:
    with db.transaction() as session:
        return session.scalars(select(Round.code).where(Round.status == "open")).one()
