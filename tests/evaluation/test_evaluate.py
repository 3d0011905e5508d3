"""New reports evaluated one at a time or a batch at a time: the same ledger either way, a handful
of queries and one announcement per district for a whole batch, and a worker that takes the waiting
reports along with its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from services.evaluation.evaluate import Lately, evaluate_submissions, waiting
from shared import clock, db, tasks
from shared.catalogue import Catalogue
from shared.models import Evaluation, Finding, OutboxEvent, Submission
from tests.support.evaluated import send_to_worker, store_for_worker
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, problem_report, unit_of


@contextmanager
def selects() -> Iterator[list[str]]:
    """The SELECT statements run on the database while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def opened() -> list[dict[str, Any]]:
    with db.transaction() as session:
        return [
            e.payload
            for e in session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.task_name == tasks.NOTIFY_FINDINGS_OPENED)
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        ]


def announced() -> list[int]:
    """The ids of the findings announced as opened, each as often as it was announced."""
    return sorted(i for event in opened() for i in event["finding_ids"])


def stored(catalogue: Catalogue, count: int, start: int = 1) -> list[str]:
    round_code = open_round()
    return [
        store_for_worker(
            problem_report(catalogue, unit_of("350102", i), round_code), round_code, clock.now()
        )[0]
        for i in range(start, start + count)
    ]


def test_a_batch_reads_the_same_few_times_whatever_its_size(
    seeded: dict[str, str], catalogue: Catalogue
) -> None:
    warm, small, large = stored(catalogue, 1, start=20), stored(catalogue, 2), stored(catalogue, 12, start=3)
    counts = []
    for ids in (warm, small, large):
        with selects() as seen, db.transaction() as session:
            evaluate_submissions(session, dict.fromkeys(ids, ""), clock.now())
        counts.append(len(seen))
    assert counts[1] == counts[2]  # not one query per report (the first batch also read the catalogue)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Evaluation)) == 15
        # each unit's problems are its own findings, announced once per report
        assert session.scalar(select(func.count()).select_from(Finding)) == 2 * 15
        assert announced() == sorted(session.scalars(select(Finding.id)))  # each finding once
        # one announcement for the district per batch; a lone report is named in its own
        assert [e["submission_id"] for e in opened()] == [*warm, "", ""]


def test_only_a_units_newest_report_in_the_batch_touches_the_ledger(
    seeded: dict[str, str], catalogue: Catalogue
) -> None:
    unit, round_code = unit_of("350102", 2), open_round()
    first, _ = store_for_worker(problem_report(catalogue, unit, round_code), round_code, clock.now())
    second, _ = store_for_worker(clean_report(catalogue, unit, round_code), round_code, clock.now())
    with db.transaction() as session:
        evaluate_submissions(session, {first: "r1", second: "r2"}, clock.now())
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Evaluation)) == 2  # both scored
        assert session.scalars(select(Finding)).all() == []  # the corrected report is the one that counts
        assert waiting(session, clock.now().replace(year=2000), 10) == []


def test_a_worker_takes_the_waiting_reports_and_their_own_events_change_nothing(
    stack: Stack, catalogue: Catalogue
) -> None:
    round_code = open_round()
    sent = [
        store_for_worker(problem_report(catalogue, unit_of("350102", i), round_code), round_code, clock.now())
        for i in range(1, 9)
    ]
    stack.start("evaluation")
    send_to_worker(sent[0][1])  # one event: the worker evaluates all eight waiting reports

    def evaluated() -> int:
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(Evaluation)) or 0

    wait_until(lambda: evaluated() == 8, 30, "the eight reports evaluated")
    assert stack.services["evaluation"].output().count("evaluation.evaluate_submission") >= 1
    for _submission_id, payload in sent[1:]:
        send_to_worker(payload)
    wait_until(
        lambda: (
            stack.services["evaluation"].output().count("task finished: evaluation.evaluate_submission") >= 8
        ),
        30,
        "the other seven events handled",
    )
    # the worker knows it evaluated them: their events need no database
    assert stack.services["evaluation"].output().count("evaluated already, in a batch of this worker") == 7
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Finding)) == 16
        assert announced() == sorted(session.scalars(select(Finding.id)))  # each finding once
        assert session.scalar(select(func.count()).select_from(Submission)) == 8


def test_a_worker_remembers_the_newest_reports_it_evaluated_only() -> None:
    lately = Lately(size=3)
    lately.note(["a", "b", "c"])
    lately.note(["a"])  # noted again: the newest now
    lately.note(["d"])
    assert "b" not in lately and all(x in lately for x in "acd")
    lately.note(["e", "f"])
    assert [x for x in "abcdef" if x in lately] == ["d", "e", "f"]
