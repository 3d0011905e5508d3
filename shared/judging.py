"""How a stored report is judged: its scores, the violations of the catalogue's report rules and the
rules that could not be evaluated on it.

Evaluation stores the outcome; the rule preview only counts it. Both judge through here, so a
preview shows what evaluation would do.
"""

from __future__ import annotations

from shared.catalogue import Catalogue
from shared.models import Round, Submission
from shared.rules import engine, scoring


def is_late(submission: Submission, round_: Round) -> bool:
    return submission.submitted_at.date() > round_.due_date


def judge(
    catalogue: Catalogue, submission: Submission, round_: Round, past: tuple[engine.PastReport, ...]
) -> tuple[scoring.Scores, engine.Outcome]:
    scores = scoring.score(catalogue, submission.measures)
    report = engine.Report(
        submission.measures, submission.indicators, scores.overall, past, late=is_late(submission, round_)
    )
    return scores, engine.outcome(catalogue, report)
