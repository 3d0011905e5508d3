"""Rule preview: what a changed rule set would do to a past round, computed without storing anything."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import history, judging
from shared.catalogue import Catalogue, parse_catalogue
from shared.catalogue import store as catalogues
from shared.catalogue.schema import load_yaml
from shared.models import Finding, PilotUnit, Round, Submission, utcnow
from shared.rules import engine
from shared.rules.expressions import RuleError


def candidate(base: Catalogue, raw: Any) -> Catalogue:
    """A whole catalogue, or a file with only `rules:` that replaces the rules of `base`; validated."""
    if isinstance(raw, dict) and "aspects" not in raw and "rules" in raw:
        raw = {**base.data, "rules": raw["rules"]}
    return Catalogue(parse_catalogue(raw))


def read_candidate(base: Catalogue, path: str | Path) -> Catalogue:
    return candidate(base, load_yaml(Path(path).read_text(encoding="utf-8")))


def preview(session: Session, round_code: str, rules: Catalogue) -> dict[str, Any]:
    """Per district and per rule: how many findings would appear and disappear under `rules`,
    compared with the round's active findings. Reads only."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    current = catalogues.get(session, round_.catalogue_version)
    round_codes = rules.round_rule_codes | current.round_rule_codes
    active = set(
        session.execute(
            select(Finding.unit_id, Finding.rule_code).where(
                Finding.round_code == round_code,
                Finding.active.is_(True),
                Finding.rule_code.not_in(round_codes),
            )
        ).all()
    )
    latest = history.latest_submissions(session, round_code)
    pasts = history.history(session, round_, [s.unit_id for s in latest])
    would: set[tuple[int, str]] = set()
    district_of: dict[int, str] = {}
    failures: list[RuleError] = []
    undecided: set[tuple[int, str]] = set()
    for submission in latest:
        district_of[submission.unit_id] = submission.unit.district_code
        _scores, outcomes = judging.judge(rules, submission, round_, pasts.get(submission.unit_id, ()))
        would |= {(submission.unit_id, v.rule_code) for v in judging.violations(outcomes)}
        failed = judging.errors(outcomes)
        failures += failed
        undecided |= {(submission.unit_id, e.rule_code) for e in failed}
    disappear = active - would - undecided  # a rule that could not be evaluated resolves nothing
    result = summary(round_code, would - active, disappear, district_of, round_.due_date)
    return {**result, "errors": errors(failures)}


def errors(failures: list[RuleError]) -> list[dict[str, Any]]:
    """Per rule and reason: on how many reports the rule could not be evaluated, with one example."""
    counts = Counter((f.rule_code, f.reason) for f in failures)
    example = {(f.rule_code, f.reason): f.detail for f in failures}
    return [
        {
            "rule_code": code,
            "reason": reason,
            "detail": example[(code, reason)],
            "reports": counts[(code, reason)],
        }
        for code, reason in sorted(counts)
    ]


def summary(
    round_code: str,
    appear: set[tuple[int, str]],
    disappear: set[tuple[int, str]],
    district_of: dict[int, str],
    due: date,
) -> dict[str, Any]:
    def count(pairs: set[tuple[int, str]], key: int) -> Counter[str]:
        return Counter(district_of.get(p[0], "?") if key == 0 else p[1] for p in pairs)

    by_district = [
        {"district_code": d, "appear": count(appear, 0)[d], "disappear": count(disappear, 0)[d]}
        for d in sorted(set(count(appear, 0)) | set(count(disappear, 0)))
    ]
    by_rule = [
        {"rule_code": r, "appear": count(appear, 1)[r], "disappear": count(disappear, 1)[r]}
        for r in sorted(set(count(appear, 1)) | set(count(disappear, 1)))
    ]
    return {
        "round": round_code,
        "due_date": due.isoformat(),
        "reports": len(district_of),
        "appear": len(appear),
        "disappear": len(disappear),
        "districts": by_district,
        "rules": by_rule,
    }


def explain_report(session: Session, rules: Catalogue, report: dict[str, Any]) -> list[dict[str, Any]]:
    """For one sample report ({unit, round, measures, indicators}, as the API takes it): what each
    report rule makes of it — broken, held, or skipped and why (the unit's kind, a guard, the round,
    a blank value). Reads only."""
    unit = session.scalar(
        select(PilotUnit).where(PilotUnit.credit_code == str(report.get("unit", "")).strip().upper())
    )
    round_ = session.get(Round, str(report.get("round", "")))
    if round_ is None:
        raise LookupError(f"no round {report.get('round')}")
    measures, indicators = report.get("measures"), report.get("indicators")
    submission = Submission(
        unit=unit,
        unit_id=unit.id if unit else None,
        round_code=round_.code,
        # only what a stored report could hold: values of another shape are left out
        measures={k: v for k, v in measures.items() if isinstance(v, dict)}
        if isinstance(measures, dict)
        else {},
        indicators={
            k: v
            for k, v in (indicators.items() if isinstance(indicators, dict) else ())
            if k in rules.indicators and isinstance(v, int | float | bool)
        },
        submitted_at=utcnow(),
    )
    if unit is None:  # a unit not in the registry: judged as an enterprise with no history
        submission.unit = PilotUnit(kind=str(report.get("kind") or "enterprise"))
    past = history.history(session, round_, [unit.id]).get(unit.id, ()) if unit else ()
    _scores, outcomes = judging.judge(rules, submission, round_, past)
    return [
        {
            "rule_code": o.rule_code,
            "name_zh": rules.rule_name(o.rule_code, "zh"),
            "name_en": rules.rule_name(o.rule_code, "en"),
            "result": o.result,
            "reason_zh": reason(o, rules, "zh"),
            "reason_en": reason(o, rules, "en"),
            "messages_zh": [v.message_zh for v in o.violations],
        }
        for o in outcomes
    ]


def reason(outcome: engine.Outcome, rules: Catalogue, locale: str) -> str:
    """Why a rule did not judge the report: skipped (in words), or not evaluated (the error)."""
    if outcome.skip:
        return engine.describe({"reason": outcome.skip.reason, **outcome.skip.detail}, rules, locale)
    if outcome.error:
        return ("未能评估：" if locale == "zh" else "could not be evaluated: ") + outcome.error.detail
    return ""
