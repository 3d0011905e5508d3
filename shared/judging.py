"""How a stored report is judged: its scores, and what each of the catalogue's report rules made of it
(broken, held, skipped and why, or not evaluated: an error).

Evaluation stores the outcome; the rule preview only counts it. Both judge through here, so a
preview shows what evaluation would do.
"""

from __future__ import annotations

from shared import clock
from shared.catalogue import Catalogue
from shared.models import Round, Submission
from shared.rules import engine, progress, scoring
from shared.rules.expressions import RuleError


def is_late(submission: Submission, round_: Round) -> bool:
    """After the due date where the office is: 23:54 in Beijing on the due date is still on time."""
    return clock.local(submission.submitted_at).date() > round_.due_date


def period_end(round_: Round) -> str:
    """The last day of the half-year a round covers (2026H2: 2026-12-31), else its due date."""
    half = progress.half_of(round_.code)
    if half is None:
        return round_.due_date.isoformat()
    return f"{half[0]}-06-30" if half[1] == 1 else f"{half[0]}-12-31"


def report_of(
    catalogue: Catalogue, submission: Submission, round_: Round, past: tuple[engine.PastReport, ...]
) -> tuple[scoring.Scores, engine.Report]:
    scores = scoring.score(catalogue, submission.measures)
    report = engine.Report(
        submission.measures,
        submission.indicators,
        scores.overall,
        past,
        late=is_late(submission, round_),
        unit_kind=submission.unit.kind,
        round_code=round_.code,
        period_end=period_end(round_),
    )
    return scores, report


def judge(
    catalogue: Catalogue, submission: Submission, round_: Round, past: tuple[engine.PastReport, ...]
) -> tuple[scoring.Scores, list[engine.Outcome]]:
    """The report's scores and what each report rule made of it (broken, held or skipped and why)."""
    scores, report = report_of(catalogue, submission, round_, past)
    return scores, engine.explain(catalogue, report)


def violations(outcomes: list[engine.Outcome]) -> list[engine.Violation]:
    return [v for outcome in outcomes for v in outcome.violations]


def errors(outcomes: list[engine.Outcome]) -> list[RuleError]:
    return engine.errors(outcomes)
