"""The main pages timed on the scale data set through the real app (a signed-in test client), as a
supervisor and as a district clerk, and the plan of every query one request of each page runs.

The statements of one request are collected with SQLAlchemy's `before_cursor_execute` event and then
explained: EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from shared import db

SUPERVISOR = "supervisor"
CLERK = "gulou"
CLERK_DISTRICT = "350102"
SQL_SHOWN = 3000  # characters of a statement written with its plan
# A plan line worth a look: a whole-table read of a table the data set makes large.
LARGE = ("submissions", "evaluations", "findings", "alert_items", "audit_events", "outbox_events")


@dataclass(frozen=True)
class Page:
    name: str
    who: str
    path: str
    target_ms: float
    api: bool = False
    # reads figures kept until the round changes (shared/kept.py): timed also right after a change
    kept: bool = False


def pages(round_code: str, supervisor_report: str, clerk_report: str) -> list[Page]:
    filtered = f"/findings?round={round_code}&status=open&severity=warning"
    api = f"/api/v1/rounds/{round_code}/districts"
    return [
        Page("dashboard", SUPERVISOR, "/dashboard", 300, kept=True),
        Page("ledger, first page", SUPERVISOR, "/findings", 200),
        Page("ledger, filtered", SUPERVISOR, filtered, 200),
        Page("home (every district)", SUPERVISOR, "/", 200),
        Page("one report", SUPERVISOR, f"/submissions/{supervisor_report}", 150),
        Page("API district table", SUPERVISOR, api, 300, api=True, kept=True),
        Page("ledger, first page", CLERK, "/findings", 200),
        Page("ledger, filtered", CLERK, filtered, 200),
        Page("district home", CLERK, "/", 200),
        Page("one report", CLERK, f"/submissions/{clerk_report}", 150),
        Page("API district table", CLERK, api, 300, api=True, kept=True),
    ]


class Statements:
    """The statements run on an engine while `collecting`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.seen: list[tuple[str, Any]] = []

    def _hook(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not many:
            self.seen.append((statement, parameters))

    @contextmanager
    def collecting(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen = []
        event.listen(self.engine, "before_cursor_execute", self._hook)
        try:
            yield self.seen
        finally:
            event.remove(self.engine, "before_cursor_execute", self._hook)


def explain(engine: Engine, statement: str, parameters: Any) -> tuple[str, float | None]:
    """The plan of one statement and, on PostgreSQL, its execution time in ms."""
    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
        return "", None
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        conn.rollback()
    if postgres:
        text = "\n".join(r[0] for r in rows)
        found = re.search(r"Execution Time: ([\d.]+) ms", text)
        return text, float(found.group(1)) if found else None
    return "\n".join(str(r[-1]) for r in rows), None


def slow_signs(plan: str, ms: float | None) -> list[str]:
    signs = [f"{ms:.1f} ms"] if ms is not None and ms >= 20 else []
    for table in LARGE:
        if re.search(rf"Seq Scan on {table}\b|SCAN {table}\b(?! USING)", plan):
            signs.append(f"reads all of {table}")
    return signs


def first_ids(round_code: str) -> tuple[str, str]:
    """A report of the round from another district and one from the clerk's."""
    from shared.models import PilotUnit, Submission

    with db.transaction() as session:
        other = session.scalar(
            select(Submission.id)
            .join(PilotUnit)
            .where(Submission.round_code == round_code, PilotUnit.district_code != CLERK_DISTRICT)
            .order_by(Submission.id)
            .limit(1)
        )
        own = session.scalar(
            select(Submission.id)
            .join(PilotUnit)
            .where(Submission.round_code == round_code, PilotUnit.district_code == CLERK_DISTRICT)
            .order_by(Submission.id)
            .limit(1)
        )
    assert other and own, "the data set has no report of the round"
    return other, own


def tokens() -> dict[str, str]:
    from services.intake import accounts
    from shared.models import User
    from tests.support.web import USERS

    with db.transaction() as session:
        out = {}
        for who in (SUPERVISOR, CLERK):
            user = session.scalars(select(User).where(User.email == USERS[who])).one()
            out[who] = accounts.issue_token(session, user)
    return out


def change_the_round(round_code: str) -> None:
    """A real change to the round's data, committed: one of its problems acknowledged, or opened
    again when it was (so that the data set stays as built). Its kept figures must be computed again."""
    from shared.models import Finding

    with db.transaction() as session:
        finding = session.scalars(
            select(Finding)
            .where(Finding.round_code == round_code, Finding.status.in_(("open", "acknowledged")))
            .order_by(Finding.id)
            .limit(1)
        ).one()
        finding.status = "acknowledged" if finding.status == "open" else "open"


def a_report_changed(round_code: str) -> None:
    """What a report stored and then evaluated does to the round's kept figures: the round's number
    and its reports' raised twice, each time noting the report's unit (the next of the round's units
    at each call), so every figure of the round is computed again, from the same data."""
    from shared import kept
    from shared.models import Submission

    with db.transaction() as session:
        unit_id = session.scalar(
            select(Submission.unit_id)
            .where(Submission.round_code == round_code)
            .order_by(Submission.unit_id)
            .offset(next(_reported))
            .limit(1)
        )
    for _step in ("stored", "evaluated"):
        numbered = [round_code, kept.reports_of(round_code)]
        kept.changed(numbered, units={name: {unit_id} for name in numbered})


_reported = itertools.count()  # the units a_report_changed reported, one after another


def timed_ms(client: Any, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code)
    return (time.perf_counter() - started) * 1000


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[max(int(len(ordered) * 0.95) - 1, 0)], 1)


def measure(round_code: str, requests: int = 20, after_change: int = 5) -> dict[str, Any]:
    """p95 (and median) of `requests` requests of every page, and the plans of one request's queries.
    A page that reads kept figures is timed as well on `after_change` requests each made right after
    a change to one of the round's problems (the figures resting on problems computed again), and as
    many right after a report (every figure of the round computed again)."""
    from services.intake.app import create_app, settled
    from tests.support.web import AuthActions

    app = settled(create_app())  # as services/intake/wsgi.py serves it
    supervisor_report, clerk_report = first_ids(round_code)
    bearer = tokens()
    clients = {who: AuthActions(app).sign_in(who) for who in (SUPERVISOR, CLERK)}
    engine = db.engine()
    statements = Statements(engine)
    timed: list[dict[str, Any]] = []
    for page in pages(round_code, supervisor_report, clerk_report):
        client = app.test_client() if page.api else clients[page.who]
        headers = {"Authorization": f"Bearer {bearer[page.who]}"} if page.api else {}
        answer = client.get(page.path, headers=headers)  # warm: templates compiled, caches filled
        assert answer.status_code == 200, (page, answer.status_code, answer.get_data(as_text=True)[:300])
        times = [timed_ms(client, page.path, headers) for _ in range(requests)]
        changed: list[float] = []
        for _ in range(after_change if page.kept else 0):
            change_the_round(round_code)
            changed.append(timed_ms(client, page.path, headers))
        reported: list[float] = []
        for _ in range(after_change if page.kept else 0):
            a_report_changed(round_code)
            reported.append(timed_ms(client, page.path, headers))
        with statements.collecting() as seen:
            client.get(page.path, headers=headers)
        queries = []
        for statement, parameters in seen:
            plan, ms = explain(engine, statement, parameters)
            queries.append(
                {"sql": statement, "plan": plan, "ms": ms, "slow": slow_signs(plan, ms) if plan else []}
            )
        timed.append(
            {
                "page": page.name,
                "who": "supervisor" if page.who == SUPERVISOR else "district clerk",
                "path": page.path,
                "p95_ms": p95(times),
                "median_ms": round(statistics.median(times), 1),
                "target_ms": page.target_ms,
                "queries": queries,
                **(
                    {
                        "after_change_ms": p95(changed),
                        "after_change_requests": len(changed),
                        "after_report_ms": p95(reported),
                    }
                    if changed
                    else {}
                ),
            }
        )
    return {"database": engine.dialect.name, "requests": requests, "pages": timed}


def explain_markdown(result: dict[str, Any]) -> str:
    """Every page's queries with their plans, the slow ones marked."""
    out = [f"# Query plans of the pages on the scale data set ({result['database']})", ""]
    for page in result["pages"]:
        out += [
            f"## {page['page']} as {page['who']}: `{page['path']}`",
            "",
            f"p95 {page['p95_ms']} ms (target {page['target_ms']:g} ms), {len(page['queries'])} queries",
            "",
        ]
        for n, q in enumerate(page["queries"], 1):
            mark = f" — **{', '.join(q['slow'])}**" if q["slow"] else ""
            ms = f" ({q['ms']:.1f} ms)" if q["ms"] is not None else ""
            sql = q["sql"].strip()
            if len(sql) > SQL_SHOWN:  # a list of 10,000 ids as parameters says nothing more
                sql = f"{sql[:SQL_SHOWN]} … ({len(sql):,} characters)"
            out += [f"{n}. query{ms}{mark}", "", "```sql", sql, "```", ""]
            if q["plan"]:
                out += ["```", q["plan"], "```", ""]
    return "\n".join(out) + "\n"
