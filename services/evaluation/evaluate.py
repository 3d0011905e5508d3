"""Evaluate one stored submission: load, score, run the rules, keep the findings ledger up to date."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.evaluation import rules, scoring
from shared import config, events, outbox, tasks
from shared.catalogue import store as catalogues
from shared.models import Evaluation, Finding, OutboxEvent, Round, Submission


class SubmissionMissing(LookupError):
    """The event names a submission the database does not have."""


def fingerprint(credit_code: str, round_code: str, rule_code: str) -> str:
    return f"{credit_code}:{round_code}:{rule_code}"


def previous_report(session: Session, submission: Submission, current: Round) -> Submission | None:
    """The unit's latest submission in the latest earlier round."""
    return session.scalars(
        select(Submission).join(Round, Round.code == Submission.round_code)
        .where(Submission.unit_id == submission.unit_id, Round.due_date < current.due_date)
        .order_by(Round.due_date.desc(), Submission.version.desc()).limit(1)
    ).first()


def is_latest(session: Session, submission: Submission) -> bool:
    newest = session.scalar(
        select(Submission.version).where(Submission.unit_id == submission.unit_id,
                                         Submission.round_code == submission.round_code)
        .order_by(Submission.version.desc()).limit(1)
    )
    return newest == submission.version


def apply_findings(session: Session, submission: Submission, violations: list[rules.Violation],
                   now: datetime) -> tuple[list[Finding], list[Finding]]:
    """Open, keep or resolve the unit's findings for this round; return (current, newly opened)."""
    unit = submission.unit
    existing = {f.rule_code: f for f in session.scalars(
        select(Finding).where(Finding.unit_id == unit.id, Finding.round_code == submission.round_code,
                              Finding.active.is_(True), Finding.rule_code.not_in(("missing_report",)))
    )}
    due = (now + timedelta(days=config.current().rectification_days)).date()
    current, opened = [], []
    for v in violations:
        finding = existing.pop(v.rule_code, None)
        if finding is None:
            finding = Finding(
                fingerprint=fingerprint(unit.credit_code, submission.round_code, v.rule_code),
                unit_id=unit.id, district_code=unit.district_code, round_code=submission.round_code,
                rule_code=v.rule_code, opened_at=now, due_date=due,
            )
            session.add(finding)
            opened.append(finding)
        finding.severity, finding.message_zh, finding.message_en = v.severity, v.message_zh, v.message_en
        finding.action_zh, finding.source, finding.evidence = v.action_zh, v.source, v.evidence
        finding.last_submission_id = submission.id
        current.append(finding)
    for finding in existing.values():
        finding.status, finding.active = "resolved", False
        finding.resolved_at, finding.resolution = now, "resolved_by_resubmission"
    return current, opened


def evaluate_submission(session: Session, submission_id: str, now: datetime,
                        request_id: str = "") -> list[OutboxEvent]:
    """Evaluate once; a redelivered event finds the evaluation stored and changes nothing."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise SubmissionMissing(submission_id)
    if submission.evaluation is not None:
        return []
    round_ = session.get(Round, submission.round_code)
    assert round_ is not None
    catalogue = catalogues.get(session, round_.catalogue_version)
    scores = scoring.score(catalogue, submission.measures)
    previous = previous_report(session, submission, round_)
    report = rules.Report(submission.measures, submission.indicators, scores.overall,
                          previous.measures if previous else None)
    violations = rules.evaluate(catalogue, report)
    current: list[Finding] = []
    opened: list[Finding] = []
    if is_latest(session, submission):
        current, opened = apply_findings(session, submission, violations, now)
    session.add(Evaluation(submission_id=submission.id, overall_score=scores.overall,
                           aspect_scores=scores.aspects, evaluated_at=now,
                           late=submission.submitted_at.date() > round_.due_date, findings=current))
    session.flush()
    if not opened:
        return []
    payload = events.FindingsOpened().load(events.envelope(
        district_code=submission.unit.district_code, round_code=submission.round_code,
        finding_ids=[f.id for f in opened], submission_id=submission.id, request_id=request_id,
    ))
    return [outbox.add(session, tasks.NOTIFY_FINDINGS_OPENED, payload)]
