"""Rules over a unit's progress across rounds: a report compared with the unit's earlier reports."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from shared.catalogue import STATUSES, Catalogue, Rule

if TYPE_CHECKING:
    from shared.rules.engine import PastReport, Report

RANK = {status: i for i, status in enumerate(STATUSES)}
RANK["exemplary"] = RANK["implemented"] + 1
DONE = ("implemented", "exemplary")
HALF_YEAR = re.compile(r"^(\d{4})H([12])$")


def half_of(round_code: str) -> tuple[int, int] | None:
    """(year, half) of a round written like 2026H2; None for a round code of another form."""
    found = HALF_YEAR.match(round_code)
    return (int(found.group(1)), int(found.group(2))) if found else None


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
    """Each measure not implemented yet whose status has not moved over the last `rounds` half-years
    (this report and the `rounds` before it all say the same); None when the history is too short."""
    if len(report.history) < rule.rounds:
        return None
    snapshots = [past.measures for past in report.history[: rule.rounds]]
    return [
        c
        for c in catalogue.measures
        if _status(report.measures, c) not in DONE
        and _status(report.measures, c)
        and all(_status(s, c) == _status(report.measures, c) for s in snapshots)
    ]


def compared_with(rule: Rule, report: Report) -> PastReport | None:
    """The earlier report an activity is compared with: the previous one, or the same half of the
    previous year (同比) for seasonal activities such as training."""
    if rule.compare != "same_half_last_year":
        return report.history[0] if report.history else None
    now = half_of(report.round_code)
    if now is None:
        return None
    return next((p for p in report.history if half_of(p.round_code) == (now[0] - 1, now[1])), None)


def dropped(rule: Rule, report: Report, before: PastReport) -> list[dict[str, Any]]:
    """Indicators that fell below `ratio` of their earlier value (a fall of more than half by default)."""
    falls = []
    for code in rule.indicators:
        old, new = before.indicators.get(code), report.indicators.get(code)
        if (
            isinstance(old, int | float)
            and isinstance(new, int | float)
            and old > 0
            and new < old * rule.ratio
        ):
            falls.append(
                {"indicator": code, "previous": old, "current": new, "compared_with": before.round_code}
            )
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
