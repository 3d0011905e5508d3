"""Rules over a unit's progress across rounds: a report compared with the unit's earlier reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.catalogue import STATUSES, Catalogue, Rule

if TYPE_CHECKING:
    from shared.rules.engine import Report

RANK = {status: i for i, status in enumerate(STATUSES)}
RANK["exemplary"] = RANK["implemented"] + 1
DONE = ("implemented", "exemplary")


def _status(measures: dict[str, Any] | None, code: str) -> str:
    return str(((measures or {}).get(code) or {}).get("status") or "")


def regressed(catalogue: Catalogue, report: Report) -> list[str] | None:
    """Measures whose status went down since the previous report; None without a previous report."""
    if not report.history:
        return None
    before = report.history[0].measures
    return [
        c
        for c in catalogue.measures
        if RANK.get(_status(report.measures, c), -1) < RANK.get(_status(before, c), -1)
    ]


def stagnant(rule: Rule, catalogue: Catalogue, report: Report) -> list[str] | None:
    """The measures not implemented yet when no measure's status moved over `rounds` reports
    (this one included); None (no finding) when something moved or the history is too short."""
    reports = rule.rounds
    if len(report.history) < reports - 1:
        return None
    snapshots = [report.measures] + [past.measures for past in report.history[: reports - 1]]
    if any(_status(s, c) != _status(report.measures, c) for s in snapshots for c in catalogue.measures):
        return None
    return [c for c in catalogue.measures if _status(report.measures, c) not in DONE]


def dropped(rule: Rule, report: Report) -> list[dict[str, Any]] | None:
    """Indicators that fell below `ratio` of their previous value (a fall of more than half by default)."""
    if not report.history:
        return None
    before = report.history[0].indicators
    ratio = rule.ratio
    falls = []
    for code in rule.indicators:
        old, new = before.get(code), report.indicators.get(code)
        if isinstance(old, int | float) and isinstance(new, int | float) and old > 0 and new < old * ratio:
            falls.append({"indicator": code, "previous": old, "current": new})
    return falls


def score_fall(rule: Rule, report: Report) -> tuple[float, float] | None:
    """(previous, current) overall score when it fell by the rule's threshold or more."""
    if not report.history or report.history[0].overall_score is None:
        return None
    previous = report.history[0].overall_score
    assert rule.threshold is not None
    if previous - report.overall_score >= rule.threshold:
        return previous, report.overall_score
    return None
