"""Evaluate submissions: load, score, run the rules, keep the findings ledger up to date.

`evaluate_submission` handles one new report; `reevaluate_units` does a chunk of a round again
(after a rule change) with a handful of queries for the whole chunk.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.evaluation import ledger
from shared import history, judging
from shared import ledger as finding_states
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import Evaluation, Finding, OutboxEvent, PilotUnit, Round, Submission
from shared.rules import engine
from shared.rules.expressions import RuleError

log = logging.getLogger(__name__)


class SubmissionMissing(LookupError):
    """The event names a submission the database does not have."""


def is_latest(session: Session, submission: Submission) -> bool:
    newest = session.scalar(
        select(Submission.version)
        .where(Submission.unit_id == submission.unit_id, Submission.round_code == submission.round_code)
        .order_by(Submission.version.desc())
        .limit(1)
    )
    return newest == submission.version


def _missing_report_findings(session: Session, submission: Submission, catalogue: Catalogue) -> list[Finding]:
    codes = catalogue.missing_report_codes
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


def decided(existing: dict[ledger.Key, Finding], errors: list[RuleError]) -> dict[ledger.Key, Finding]:
    """The active findings this evaluation decides on: a rule that could not be evaluated says
    nothing, so its findings are left as they are (neither kept as current nor resolved)."""
    failed = {error.rule_code for error in errors}
    return {key: finding for key, finding in existing.items() if key[0] not in failed}


def recorded(submission: Submission, errors: list[RuleError]) -> list[dict[str, str]]:
    """The rules that could not be evaluated, as stored on the evaluation; each is logged."""
    for error in errors:
        log.warning(
            "rule %s not evaluated on submission %s: %s (%s)",
            error.rule_code,
            submission.id,
            error.reason,
            error.detail,
        )
    return [asdict(error) for error in errors]


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
    past = history.history(session, round_, [submission.unit_id]).get(submission.unit_id, ())
    scores, outcomes = judging.judge(catalogue, submission, round_, past)
    failed = judging.errors(outcomes)
    changes = ledger.Changes()
    if is_latest(session, submission):
        existing = ledger.active_findings(
            session, round_.code, [submission.unit_id], catalogue.round_rule_codes
        ).get(submission.unit_id, {})
        changes = ledger.apply(
            session,
            submission.unit,
            round_.code,
            submission.id,
            judging.violations(outcomes),
            decided(existing, failed),
            now,
            "resolved_by_resubmission",
            catalogue,
        )
        for finding in _missing_report_findings(session, submission, catalogue):
            finding_states.resolve(finding, now, "resolved_by_resubmission")
            changes.resolved.append(finding)
    session.add(
        Evaluation(
            submission_id=submission.id,
            overall_score=scores.overall,
            aspect_scores=scores.aspects,
            evaluated_at=now,
            late=judging.is_late(submission, round_),
            skipped=engine.skipped(outcomes),
            findings=changes.current,
            errors=recorded(submission, failed),
        )
    )
    return ledger.announce(
        session, round_.code, changes, "resolved_by_resubmission", submission.id, request_id
    )


def _closed_for(session: Session, submissions: list[Submission]) -> set[tuple[int, str, str]]:
    """(unit, rule, measure) of findings a supervisor closed or accepted as not applying on the very
    report being re-evaluated: not reopened."""
    return set(
        session.execute(
            select(Finding.unit_id, Finding.rule_code, Finding.measure_code).where(
                Finding.status.in_(("closed", "waived")),
                Finding.last_submission_id.in_([s.id for s in submissions]),
            )
        ).all()
    )


def _with_findings(session: Session, submissions: list[Submission]) -> None:
    """Load the findings of the submissions' evaluations in one query: each is replaced below, and
    replacing a collection not loaded yet would read it first, a query (and a flush) per report."""
    ids = [s.evaluation.id for s in submissions if s.evaluation is not None]
    if ids:
        session.scalars(
            select(Evaluation).where(Evaluation.id.in_(ids)).options(selectinload(Evaluation.findings))
        ).all()


def reevaluate_units(
    session: Session, round_code: str, unit_ids: list[int], now: datetime
) -> list[OutboxEvent]:
    """Evaluate the units' latest reports of the round again with the round's current catalogue."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    catalogue = catalogues.get(session, round_.catalogue_version)
    submissions = history.latest_submissions(session, round_code, unit_ids)
    _with_findings(session, submissions)
    ids = [s.unit_id for s in submissions]
    pasts = history.history(session, round_, ids)
    existing = ledger.active_findings(session, round_code, ids, catalogue.round_rule_codes)
    closed = _closed_for(session, submissions)
    changes = ledger.Changes()
    for submission in submissions:
        scores, outcomes = judging.judge(catalogue, submission, round_, pasts.get(submission.unit_id, ()))
        failed = judging.errors(outcomes)
        violations = [
            v
            for v in judging.violations(outcomes)
            if (submission.unit_id, v.rule_code, v.subject) not in closed
        ]
        unit: PilotUnit = submission.unit
        done = ledger.apply(
            session,
            unit,
            round_code,
            submission.id,
            violations,
            decided(existing.get(unit.id, {}), failed),
            now,
            "resolved_by_reevaluation",
            catalogue,
        )
        changes.extend(done)
        evaluation = submission.evaluation
        if evaluation is None:
            evaluation = Evaluation(submission_id=submission.id, late=judging.is_late(submission, round_))
            session.add(evaluation)
        evaluation.overall_score, evaluation.aspect_scores = scores.overall, scores.aspects
        evaluation.skipped = engine.skipped(outcomes)
        evaluation.evaluated_at, evaluation.findings = now, done.current
        evaluation.errors = recorded(submission, failed)
    return ledger.announce(session, round_code, changes, "resolved_by_reevaluation")
