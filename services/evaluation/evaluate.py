"""Evaluate submissions: load, score, run the rules, keep the findings ledger up to date.

`evaluate_submission` handles one new report; `reevaluate_units` does a chunk of a round again
(after a rule change) with a handful of queries for the whole chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.evaluation import ledger
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import Evaluation, Finding, OutboxEvent, PilotUnit, Round, Submission
from shared.rules import engine, scoring

HISTORY_ROUNDS = 2


class SubmissionMissing(LookupError):
    """The event names a submission the database does not have."""


def history(
    session: Session, round_: Round, unit_ids: Iterable[int]
) -> dict[int, tuple[engine.PastReport, ...]]:
    """Per unit, its latest report of each of the last earlier rounds, newest first."""
    earlier = session.scalars(
        select(Round.code)
        .where(Round.due_date < round_.due_date)
        .order_by(Round.due_date.desc())
        .limit(HISTORY_ROUNDS)
    ).all()
    if not earlier:
        return {}
    order = {code: i for i, code in enumerate(earlier)}
    latest: dict[tuple[int, str], engine.PastReport] = {}
    rows = session.execute(
        select(
            Submission.unit_id,
            Submission.round_code,
            Submission.measures,
            Submission.indicators,
            Evaluation.overall_score,
        )
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.unit_id.in_(list(unit_ids)), Submission.round_code.in_(earlier))
        .order_by(Submission.version)
    ).all()
    for unit_id, round_code, measures, indicators, score in rows:
        latest[(unit_id, round_code)] = engine.PastReport(round_code, measures, indicators, score)
    out: dict[int, list[engine.PastReport]] = defaultdict(list)
    for (unit_id, _round), past in sorted(latest.items(), key=lambda kv: order[kv[0][1]]):
        out[unit_id].append(past)
    return {unit_id: tuple(pasts) for unit_id, pasts in out.items()}


def is_late(submission: Submission, round_: Round) -> bool:
    return submission.submitted_at.date() > round_.due_date


def judge(
    catalogue: Catalogue, submission: Submission, round_: Round, past: tuple[engine.PastReport, ...]
) -> tuple[scoring.Scores, list[engine.Violation]]:
    scores = scoring.score(catalogue, submission.measures)
    report = engine.Report(
        submission.measures, submission.indicators, scores.overall, past, late=is_late(submission, round_)
    )
    return scores, engine.evaluate(catalogue, report)


def is_latest(session: Session, submission: Submission) -> bool:
    newest = session.scalar(
        select(Submission.version)
        .where(Submission.unit_id == submission.unit_id, Submission.round_code == submission.round_code)
        .order_by(Submission.version.desc())
        .limit(1)
    )
    return newest == submission.version


def _missing_report_findings(session: Session, submission: Submission, catalogue: Catalogue) -> list[Finding]:
    codes = {r["code"] for r in catalogue.rules if r.get("kind") == "missing_report"} | {"missing_report"}
    return list(
        session.scalars(
            select(Finding).where(
                Finding.unit_id == submission.unit_id,
                Finding.round_code == submission.round_code,
                Finding.active.is_(True),
                Finding.rule_code.in_(codes),
            )
        )
    )


def evaluate_submission(
    session: Session, submission_id: str, now: datetime, request_id: str = ""
) -> list[OutboxEvent]:
    """Evaluate once; a redelivered event finds the evaluation stored and changes nothing."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise SubmissionMissing(submission_id)
    if submission.evaluation is not None:
        return []
    round_ = session.get(Round, submission.round_code)
    assert round_ is not None
    catalogue = catalogues.get(session, round_.catalogue_version)
    past = history(session, round_, [submission.unit_id]).get(submission.unit_id, ())
    scores, violations = judge(catalogue, submission, round_, past)
    changes = ledger.Changes()
    if is_latest(session, submission):
        existing = ledger.active_findings(
            session, round_.code, [submission.unit_id], ledger.round_rule_codes(catalogue)
        ).get(submission.unit_id, {})
        changes = ledger.apply(
            session,
            submission.unit,
            round_.code,
            submission.id,
            violations,
            existing,
            now,
            "resolved_by_resubmission",
        )
        for finding in _missing_report_findings(session, submission, catalogue):
            ledger.resolve(finding, now, "resolved_by_resubmission")
            changes.resolved.append(finding)
    session.add(
        Evaluation(
            submission_id=submission.id,
            overall_score=scores.overall,
            aspect_scores=scores.aspects,
            evaluated_at=now,
            late=is_late(submission, round_),
            findings=changes.current,
        )
    )
    return ledger.announce(
        session, round_.code, changes, "resolved_by_resubmission", submission.id, request_id
    )


def latest_submissions(session: Session, round_code: str, unit_ids: Iterable[int]) -> list[Submission]:
    rows = session.scalars(
        select(Submission)
        .where(Submission.round_code == round_code, Submission.unit_id.in_(list(unit_ids)))
        .options(selectinload(Submission.unit), selectinload(Submission.evaluation))
        .order_by(Submission.unit_id, Submission.version)
    ).all()
    return list({s.unit_id: s for s in rows}.values())


def _closed_for(session: Session, submissions: list[Submission]) -> set[tuple[int, str]]:
    """(unit, rule) of findings a supervisor closed on the very report being re-evaluated: not reopened."""
    return set(
        session.execute(
            select(Finding.unit_id, Finding.rule_code).where(
                Finding.status == "closed", Finding.last_submission_id.in_([s.id for s in submissions])
            )
        ).all()
    )


def reevaluate_units(
    session: Session, round_code: str, unit_ids: list[int], now: datetime
) -> list[OutboxEvent]:
    """Evaluate the units' latest reports of the round again with the round's current catalogue."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    catalogue = catalogues.get(session, round_.catalogue_version)
    submissions = latest_submissions(session, round_code, unit_ids)
    ids = [s.unit_id for s in submissions]
    pasts = history(session, round_, ids)
    existing = ledger.active_findings(session, round_code, ids, ledger.round_rule_codes(catalogue))
    closed = _closed_for(session, submissions)
    changes = ledger.Changes()
    for submission in submissions:
        scores, violations = judge(catalogue, submission, round_, pasts.get(submission.unit_id, ()))
        violations = [v for v in violations if (submission.unit_id, v.rule_code) not in closed]
        unit: PilotUnit = submission.unit
        done = ledger.apply(
            session,
            unit,
            round_code,
            submission.id,
            violations,
            existing.get(unit.id, {}),
            now,
            "resolved_by_reevaluation",
        )
        changes.extend(done)
        evaluation = submission.evaluation
        if evaluation is None:
            evaluation = Evaluation(submission_id=submission.id, late=is_late(submission, round_))
            session.add(evaluation)
        evaluation.overall_score, evaluation.aspect_scores = scores.overall, scores.aspects
        evaluation.evaluated_at, evaluation.findings = now, done.current
    return ledger.announce(session, round_code, changes, "resolved_by_reevaluation")
