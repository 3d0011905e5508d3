"""The dashboard's figures kept ready (services/intake/figures.py): once the job ran, the league tables,
score lists and case hints of the shown rounds are read from Redis without reading the round's reports
or problems, and a change to the round is in them after the job's next run; the scheduler has the
intake's real worker run it."""

from __future__ import annotations

import pytest

from services.intake import analytics, case_hints, figures, lists, rounds
from shared import caches, clock, config, db, kept
from shared.catalogue import Catalogue
from tests.support.evaluated import store_and_evaluate
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, problem_report, unit_of
from tests.support.statements import statements

HEAVY = ("FROM submissions", "FROM findings", "JOIN submissions", "JOIN findings")


def shown(round_code: str) -> tuple[list[str], analytics.DistrictRow | None]:
    """What the dashboard reads first, and the statements that took."""
    with statements() as seen, db.transaction() as session:
        analytics.batch_table(session, round_code)
        case_hints.hints(session, round_code)
        assert analytics.rule_counts(session, round_code)
        lists.district_counts(session, analytics.require_round(session, round_code), clock.today())
        for round_ in figures.trend_rounds(rounds.all_rounds(session)):
            analytics.round_scores(session, round_.code)
        row = analytics.district_row(session, round_code, "350102")
    return [s for s in seen if any(h in s for h in HEAVY)], row


def test_after_the_job_the_dashboards_reads_touch_no_report(seeded: dict, catalogue: Catalogue) -> None:
    round_code = open_round()
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))
    with db.transaction() as session:
        assert round_code in figures.keep(session)
    heavy, row = shown(round_code)
    assert not heavy and row is not None and row.reported == 1
    store_and_evaluate(clean_report(catalogue, unit_of("350102", 1), round_code))
    with db.transaction() as session:
        figures.keep(session)
    heavy, row = shown(round_code)
    assert not heavy and row is not None and row.reported == 2


@pytest.mark.e2e
def test_the_scheduler_has_the_intake_worker_keep_them(
    stack: Stack, seeded: dict, catalogue: Catalogue
) -> None:
    round_code = open_round()
    stack.env["FIGURES_INTERVAL"] = "1"
    stack.start("intake-worker", "beat")
    store_and_evaluate(problem_report(catalogue, unit_of("350102"), round_code))

    # kept.peek never computes: only the worker can have put the new report's score there
    wait_until(
        lambda: kept.peek("scores", [kept.reports_of(round_code)]),
        30,
        "the worker to keep the changed round's scores",
    )
    heavy, row = shown(round_code)
    assert not heavy and row is not None and row.reported == 1


def test_a_batch_or_district_that_does_not_exist_keeps_nothing(seeded: dict, catalogue: Catalogue) -> None:
    """Numbers and codes come from the query string: only those of real batches and districts are kept."""
    round_code = open_round()
    with db.transaction() as session:
        assert analytics.district_table(session, round_code, 998) == []
        assert analytics.batch_table(session, round_code, "no-such-district") == []
        assert analytics.batch_table(session, round_code, "350102")
    client = caches.redis_client(config.current())
    # the entries' names after the namespace (a hash of the database's URL, which may hold "998")
    names = [
        key.decode().split(":entry:", 1)[1] for key in client.scan_iter(match="pilotwatch:kept:*:entry:*")
    ]
    assert names and not any("998" in name or "no-such-district" in name for name in names), names
