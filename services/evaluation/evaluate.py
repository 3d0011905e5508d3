"""Evaluate submissions: load, score, run the rules, keep the findings ledger up to date.

`evaluate_submissions` handles new reports, one or a batch (an evaluation worker takes the reports
waiting besides the one its event names, so a backlog is read and written a batch at a time);
`reevaluate_units` does a chunk of a round again (after a rule change). Both read a chunk's history,
newest versions and active findings with a handful of queries.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

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


def newest_versions(session: Session, round_code: str, unit_ids: Iterable[int]) -> dict[int, int]:
    """Each unit's newest report version in the round (one query for many units)."""
    return dict(
        session.execute(
            select(Submission.unit_id, func.max(Submission.version))
            .where(Submission.round_code == round_code, Submission.unit_id.in_(list(unit_ids)))
            .group_by(Submission.unit_id)
        ).all()
    )


def _missing_report_findings(
    session: Session, round_code: str, unit_ids: Iterable[int], catalogue: Catalogue
) -> dict[int, list[Finding]]:
    """Per unit, its active "report missing" findings of the round, which a report settles."""
    out: dict[int, list[Finding]] = defaultdict(list)
    for finding in session.scalars(
        select(Finding).where(
            Finding.unit_id.in_(list(unit_ids)),
            Finding.round_code == round_code,
            Finding.active.is_(True),
            Finding.rule_code.in_(catalogue.missing_report_codes),
        )
    ):
        assert finding.unit_id is not None
        out[finding.unit_id].append(finding)
    return out


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
    return evaluate_submissions(session, {submission_id: request_id}, now)


def evaluate_submissions(session: Session, requests: dict[str, str], now: datetime) -> list[OutboxEvent]:
    """Evaluate new reports (submission id -> the request that brought it), with a handful of queries
    per round for all of them: their units' histories, newest versions and active findings are read
    at once. A report already evaluated is left as it is; an older version than the unit's newest is
    scored but does not touch the ledger. Raises SubmissionMissing for an id the database lacks."""
    # the reports with their units, and whether each is evaluated, in one query
    found = session.execute(
        select(Submission, Evaluation.id)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.id.in_(list(requests)))
        .options(joinedload(Submission.unit))
        .order_by(Submission.submitted_at, Submission.version)
    ).all()
    missing = set(requests) - {submission.id for submission, _evaluated in found}
    if missing:
        raise SubmissionMissing(", ".join(sorted(missing)))
    by_round: dict[str, list[Submission]] = defaultdict(list)
    for submission, evaluated in found:
        if evaluated is None:
            by_round[submission.round_code].append(submission)
    produced: list[OutboxEvent] = []
    for round_code, batch in by_round.items():
        round_ = session.get(Round, round_code)
        assert round_ is not None
        produced += _evaluate_round_batch(session, round_, batch, requests, now)
    return produced


def _evaluate_round_batch(
    session: Session, round_: Round, batch: list[Submission], requests: dict[str, str], now: datetime
) -> list[OutboxEvent]:
    catalogue = catalogues.get(session, round_.catalogue_version)
    pasts = history.history(session, round_, {s.unit_id for s in batch})
    # The judging reads only the report and the unit's earlier rounds: done before the write lock.
    judged = {s.id: judging.judge(catalogue, s, round_, pasts.get(s.unit_id, ())) for s in batch}
    batch = still_waiting(session, batch)
    unit_ids = {s.unit_id for s in batch}
    newest = newest_versions(session, round_.code, unit_ids)
    latest = {s.id: s.unit_id for s in batch if newest.get(s.unit_id) == s.version}
    existing = ledger.active_findings(session, round_.code, latest.values(), catalogue.round_rule_codes)
    absent = _missing_report_findings(session, round_.code, latest.values(), catalogue)
    done = ledger.Changes()
    for submission in batch:
        scores, outcomes = judged[submission.id]
        failed = judging.errors(outcomes)
        changes = ledger.Changes()
        if submission.id in latest:
            changes = ledger.apply(
                session,
                submission.unit,
                round_.code,
                submission.id,
                judging.violations(outcomes),
                decided(existing.get(submission.unit_id, {}), failed),
                now,
                "resolved_by_resubmission",
                catalogue,
            )
            for finding in absent.get(submission.unit_id, ()):
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
        done.extend(changes)
    if not batch:
        return []
    # One announcement per district for the batch (the notifier groups them into alerts anyway), under
    # the request that brought the report the event named; a lone report is named in it.
    request_id = next((r for r in requests.values() if r), "")
    named = batch[0].id if len(batch) == 1 else ""
    return ledger.announce(session, round_.code, done, "resolved_by_resubmission", named, request_id)


def still_waiting(session: Session, batch: list[Submission]) -> list[Submission]:
    """Before the ledger is read and written: on SQLite, take the write lock (its driver begins a
    transaction only at the first write, so the active findings read before it could be stale by then,
    and a racing resubmission's problems be missed), then leave out the reports another worker
    evaluated meanwhile. On PostgreSQL the batch's rows are locked already (`waiting`)."""
    if session.get_bind().dialect.name != "sqlite":
        return batch
    driver = session.connection().connection.dbapi_connection
    if driver is not None and not driver.in_transaction:  # type: ignore[attr-defined]
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    evaluated = set(
        session.scalars(
            select(Evaluation.submission_id).where(Evaluation.submission_id.in_([s.id for s in batch]))
        )
    )
    return [s for s in batch if s.id not in evaluated]


class Lately:
    """The reports a worker process evaluated lately (the newest `size`), once their transaction has
    committed: the events of those its batches took along need no database at all (a report is
    evaluated once, and its evaluation is never taken back)."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self.ids: dict[str, None] = {}  # in the order noted

    def __contains__(self, submission_id: object) -> bool:
        return submission_id in self.ids

    def note(self, submission_ids: Iterable[str]) -> None:
        for submission_id in submission_ids:
            self.ids.pop(submission_id, None)
            self.ids[submission_id] = None
        while len(self.ids) > self.size:  # the oldest first: a dict keeps the order noted
            del self.ids[next(iter(self.ids))]


def evaluate_arrived(
    session: Session, submission_id: str, request_id: str, now: datetime, batch: int
) -> tuple[list[OutboxEvent], list[str]]:
    """Evaluate the report an event names, if it still waits, and up to `batch - 1` others that arrived
    after it and still wait: their own events, queued behind this one, then find them evaluated and
    take along what arrived after them in turn. The search starts at the named report, so it walks
    only the reports that arrived since. Returns the events to publish and the reports that are
    evaluated once the transaction commits (the named one among them)."""
    # when it arrived and whether it is evaluated, in one narrow query: the report itself is read
    # with the batch's below
    named = session.execute(
        select(Submission.submitted_at, Evaluation.id)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.id == submission_id)
    ).first()
    if named is None:
        raise SubmissionMissing(submission_id)
    submitted_at, evaluation_id = named
    requests = {} if evaluation_id is not None else {submission_id: request_id}
    found = waiting(session, submitted_at, batch - len(requests), besides=submission_id)
    requests.update(dict.fromkeys(found, ""))
    produced = evaluate_submissions(session, requests, now) if requests else []
    return produced, [submission_id, *found]


def waiting(session: Session, since: datetime, limit: int, besides: str = "") -> list[str]:
    """Reports received since `since` and not yet evaluated, oldest first: what an evaluation worker
    may take along with the report its event names. On PostgreSQL the rows another worker is
    evaluating are skipped."""
    if limit <= 0:
        return []
    query = (
        select(Submission.id)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.submitted_at >= since, Evaluation.id.is_(None), Submission.id != besides)
        .order_by(Submission.submitted_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Submission, skip_locked=True)
    return list(session.scalars(query))


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
