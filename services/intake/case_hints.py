"""Hints for the case library: units a district might write up as a typical case (典型案例).

A hint is a suggestion, never a case: the district decides and writes the case itself. A unit with no
open major problem (重大问题) is suggested when its latest report scores at least the catalogue's
`case_hints.min_score` with `min_exemplary` 成效突出 measures carrying a note (a high score), or when one of
the hint indicators grew by `min_growth` from a base of at least `min_base` against the comparison
round of the effectiveness index (strong growth). The thresholds are catalogue data (docs/SCORING.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import analytics
from shared import kept
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import Case, PilotUnit, Round, Submission

READ_CHUNK = 200  # reports read at a time, best score first, until the best `limit` hints are known


def exemplary_measures(catalogue: Catalogue, measures: dict[str, Any]) -> list[dict[str, str]]:
    """The report's 成效突出 measures that carry a note, in the catalogue's order."""
    out = []
    for code, spec in catalogue.measures.items():
        entry = measures.get(code) or {}
        note = str(entry.get("note") or "").strip()
        if entry.get("status") == "exemplary" and note:
            out.append(
                {"code": code, "name_zh": spec["name_zh"], "name_en": spec.get("name_en", ""), "note": note}
            )
    return out


def grown(
    catalogue: Catalogue, settings: dict[str, Any], now: dict[str, Any], then: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The hint indicators that grew by at least `min_growth` from a base of at least `min_base`."""
    if then is None:
        return []
    out = []
    for code in settings["indicators"]:
        before, after = then.get(code), now.get(code)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after)):
            continue
        if before >= max(settings["min_base"], 1e-9) and (after - before) / before >= settings["min_growth"]:
            spec = catalogue.indicators.get(code, {})
            out.append(
                {
                    "indicator": code,
                    "name_zh": spec.get("name_zh", code),
                    "name_en": spec.get("name_en", ""),
                    "previous": before,
                    "current": after,
                    "change": round((after - before) / before, 4),
                }
            )
    return out


def hints(
    session: Session, round_code: str, district: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The round's hints (of one district, if given; the best `limit` of them, if given), best score
    first; kept until the round, its comparison round or the register changes (shared/kept.py)."""
    round_ = analytics.require_round(session, round_code)
    catalogue = catalogues.get(session, round_.catalogue_version)
    basis = analytics.comparison_round(session, round_, catalogue.effectiveness_index.get("basis", ""))
    return kept.kept(
        session,
        f"hints:{district}:{limit}",
        [round_code, *([basis.code] if basis is not None else [])],
        lambda: _hints(session, round_, catalogue, basis, district, limit),
    )


def settled(found: list[dict[str, Any]], limit: int | None, next_score: float) -> bool:
    """Whether the best `limit` hints are known: `limit` found, and every report still to be read
    scores below the last of them (reports are read best score first; equal scores are ordered by
    credit code, so a report scoring the same could still come before it)."""
    if limit is None or len(found) < limit:
        return False
    return next_score < sorted(p["overall_score"] for p in found)[-limit]


def _hints(
    session: Session,
    round_: Round,
    catalogue: Catalogue,
    basis: Round | None,
    district: str | None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    round_code = round_.code
    settings = catalogue.case_hints
    critical = {
        unit_id
        for unit_id, problems in analytics.problems_by_unit(session, round_code).items()
        if problems.critical
    }
    results = sorted(
        (
            r
            for r in analytics.unit_results(session, round_code).values()
            if r.overall_score is not None
            and r.unit_id not in critical
            and (district is None or r.district_code == district)
        ),
        key=lambda r: -r.overall_score,
    )
    written = dict(
        session.execute(
            select(Case.unit_id, Case.id).where(Case.round_code == round_code).order_by(Case.id)
        ).all()
    )
    out: list[dict[str, Any]] = []
    for start in range(0, len(results), READ_CHUNK):
        if settled(out, limit, results[start].overall_score):
            break
        chunk = results[start : start + READ_CHUNK]
        earlier = (
            analytics.latest_indicators_of(session, basis.code, [r.unit_id for r in chunk])
            if basis is not None
            else {}
        )
        reports = {
            row.id: row
            for row in session.execute(
                select(
                    Submission.id,
                    Submission.measures,
                    Submission.indicators,
                    PilotUnit.id.label("unit_id"),
                    PilotUnit.credit_code,
                    PilotUnit.name,
                    PilotUnit.district_code,
                )
                .join(PilotUnit, PilotUnit.id == Submission.unit_id)
                .where(Submission.id.in_([r.submission_id for r in chunk]))
            )
        }
        for result in chunk:
            report = reports[str(result.submission_id)]
            exemplary = exemplary_measures(catalogue, report.measures or {})
            reasons = []
            if result.overall_score >= settings["min_score"] and len(exemplary) >= settings["min_exemplary"]:
                reasons.append("high_score")
            growth = grown(catalogue, settings, report.indicators or {}, earlier.get(result.unit_id))
            if growth:
                reasons.append("growth")
            if not reasons:
                continue
            out.append(
                {
                    "credit_code": report.credit_code,
                    "name": report.name,
                    "district": report.district_code,
                    "overall_score": result.overall_score,
                    "exemplary_measures": exemplary,
                    "reasons": reasons,
                    "growth": growth,
                    "compared_with": basis.code if basis is not None and growth else None,
                    "case_id": written.get(report.unit_id),
                }
            )
    out.sort(key=lambda p: (-p["overall_score"], p["credit_code"]))
    return out[:limit]
