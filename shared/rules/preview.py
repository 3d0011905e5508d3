"""Rule preview: what a changed rule set would do to a past round, computed without storing anything."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.catalogue import ROUND_KINDS, Catalogue, CatalogueError, parse_catalogue
from shared.catalogue import store as catalogues
from shared.models import Evaluation, Finding, PilotUnit, Round, Submission
from shared.rules import engine, scoring


def candidate(base: Catalogue, raw: Any) -> Catalogue:
    """A whole catalogue, or a file with only `rules:` that replaces the rules of `base`; validated."""
    if isinstance(raw, dict) and "aspects" not in raw and "rules" in raw:
        raw = {**base.data, "rules": raw["rules"]}
    return Catalogue(parse_catalogue(raw))


def read_candidate(base: Catalogue, path: str | Path) -> Catalogue:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError([f"file: not valid YAML or JSON: {exc}"]) from None
    return candidate(base, raw)


def _latest(session: Session, round_code: str) -> list[tuple[Submission, str]]:
    rows = session.execute(
        select(Submission, PilotUnit.district_code)
        .join(PilotUnit, PilotUnit.id == Submission.unit_id)
        .where(Submission.round_code == round_code)
        .order_by(Submission.version)
    ).all()
    return list({s.unit_id: (s, d) for s, d in rows}.values())


def _history(
    session: Session, round_: Round, unit_ids: list[int]
) -> dict[int, tuple[engine.PastReport, ...]]:
    earlier = session.scalars(
        select(Round.code).where(Round.due_date < round_.due_date).order_by(Round.due_date.desc()).limit(2)
    ).all()
    found: dict[tuple[int, str], engine.PastReport] = {}
    for unit_id, code, measures, indicators, score in session.execute(
        select(
            Submission.unit_id,
            Submission.round_code,
            Submission.measures,
            Submission.indicators,
            Evaluation.overall_score,
        )
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.round_code.in_(earlier), Submission.unit_id.in_(unit_ids))
        .order_by(Submission.version)
    ):
        found[(unit_id, code)] = engine.PastReport(code, measures, indicators, score)
    out: dict[int, list[engine.PastReport]] = defaultdict(list)
    for code in earlier:
        for (unit_id, round_code), past in found.items():
            if round_code == code:
                out[unit_id].append(past)
    return {u: tuple(p) for u, p in out.items()}


def preview(session: Session, round_code: str, rules: Catalogue) -> dict[str, Any]:
    """Per district and per rule: how many findings would appear and disappear under `rules`,
    compared with the round's active findings. Reads only."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    round_codes = {r["code"] for r in rules.rules if r.get("kind") in ROUND_KINDS}
    current = catalogues.get(session, round_.catalogue_version)
    round_codes |= {r["code"] for r in current.rules if r.get("kind") in ROUND_KINDS} | {"missing_report"}
    active = set(
        session.execute(
            select(Finding.unit_id, Finding.rule_code).where(
                Finding.round_code == round_code,
                Finding.active.is_(True),
                Finding.rule_code.not_in(round_codes),
            )
        ).all()
    )
    latest = _latest(session, round_code)
    pasts = _history(session, round_, [s.unit_id for s, _ in latest])
    would: set[tuple[int, str]] = set()
    district_of: dict[int, str] = {}
    for submission, district in latest:
        district_of[submission.unit_id] = district
        scores = scoring.score(rules, submission.measures)
        report = engine.Report(
            submission.measures,
            submission.indicators,
            scores.overall,
            pasts.get(submission.unit_id, ()),
            late=submission.submitted_at.date() > round_.due_date,
        )
        would |= {(submission.unit_id, v.rule_code) for v in engine.evaluate(rules, report)}
    return summary(round_code, would - active, active - would, district_of, round_.due_date)


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
