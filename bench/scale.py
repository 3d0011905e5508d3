"""The data a province keeps: 10,000 units in 15 districts, ten rounds, one or two versions of each
unit's report a round, evaluated, with the findings, alerts, deliveries, visits and cases that follow.

Everything is stored through the product's own code: the registry through the demo's models
(ops/demo.py), reports through the intake's `store`, evaluation through `reevaluate_units` in chunks,
alerts through notify's collect and flush, problems through the ledger's actions, visits and cases
through their services. `python -m bench.scale --units 2000 --rounds 4` builds, measures and prints;
`make bench` builds the full size (bench/__main__.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ops import demo, demo_activity
from services.evaluation.evaluate import reevaluate_units
from services.intake import cases, visits
from services.intake.reports import Checked, store
from services.notify import collect, deliveries, flush
from shared import clock, config, db, events, ledger, migrate
from shared.catalogue import DEFAULT_VERSION, Catalogue
from shared.catalogue import store as catalogues
from shared.models import (
    Alert,
    AlertItem,
    Case,
    Channel,
    Delivery,
    District,
    Evaluation,
    Finding,
    OutboxEvent,
    PilotUnit,
    Round,
    Submission,
    User,
    Visit,
)

CHUNK = 500
SUPERVISOR = "supervisor@pilotwatch.example"
CLERK = "gulou@pilotwatch.example"


@dataclass(frozen=True)
class ScaleSize:
    name: str
    units: int
    rounds: int
    resubmitted: float  # the share of units sending a second version in a round
    alerted_rounds: int  # the latest rounds whose new findings go through notify into alerts


FULL = ScaleSize("full", 10_000, 10, 0.5, 2)
QUICK = ScaleSize("quick", 2_000, 4, 0.5, 2)
TINY = ScaleSize("tiny", 150, 3, 0.5, 2)
SIZES = {s.name: s for s in (FULL, QUICK, TINY)}
# SQLite builds at about the same rate as PostgreSQL, so the full run keeps every one of the 10,000
# units but two rounds of history there: the per-round figures (exports, jobs) are of the same size.
SQLITE = {"full": ScaleSize("full-sqlite", 10_000, 2, 0.5, 2)}
SIZES[SQLITE["full"].name] = SQLITE["full"]
ROOT = Path(__file__).resolve().parent.parent


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def registry(session: Session, units: int, rounds: int) -> list[Round]:
    """The demo's districts, rounds and users, units up to `units`, and earlier closed rounds up to
    `rounds` in all; the rounds oldest first."""
    demo.load(session)
    session.flush()
    known = set(session.scalars(select(PilotUnit.credit_code)))
    wanted = units - len(known)
    if wanted > 0:
        made = [
            u for u in demo.synthetic_units(count=wanted + 200, seed=7070) if u["credit_code"] not in known
        ]
        for i, unit in enumerate(made[:wanted]):
            session.add(
                PilotUnit(
                    credit_code=unit["credit_code"],
                    name=f"{unit['name'][:-4]}{i:05d}{unit['name'][-4:]}",
                    district_code=unit["district"],
                    industry=unit["industry"],
                    kind=unit["kind"],
                )
            )
    every = sorted(session.scalars(select(Round)), key=lambda r: r.due_date)
    oldest = every[0]
    year, half = int(oldest.code[:4]), int(oldest.code[-1])
    for _ in range(rounds - len(every)):
        year, half = (year, 1) if half == 2 else (year - 1, 2)
        due = date(year, 7, 15) if half == 1 else date(year + 1, 1, 15)
        session.add(
            Round(
                code=f"{year}H{half}",
                catalogue_version=DEFAULT_VERSION,
                due_date=due,
                grace_days=5,
                status="closed",
            )
        )
    for code in session.scalars(select(District.code)):
        if session.scalar(select(Channel.id).where(Channel.district_code == code)) is None:
            session.add(Channel(district_code=code, kind="json", url="http://sink.pilotwatch.bench/alerts"))
    session.flush()
    return sorted(session.scalars(select(Round)), key=lambda r: r.code)[-rounds:]


def report_of(
    rng: random.Random, catalogue: Catalogue, unit: PilotUnit, before: dict[str, Any] | None
) -> dict[str, Any]:
    """A unit's report for a round, grown from its previous one; some break rules on purpose."""
    indicators = (
        demo_activity.grown(rng, before, 1.0)
        if before
        else demo_activity.baseline(rng, 0.6 if unit.kind == "institution" else 1.0)
    )
    indicators["proposals_adopted"] = int(indicators["proposals_submitted"] * rng.uniform(0.3, 0.6))
    roll = rng.random()
    if roll < 0.35:  # more adopted than submitted, and the education fund below 1.5% of payroll
        indicators["proposals_adopted"] = indicators["proposals_submitted"] + 5
        indicators["education_fund_extracted"] = round(indicators["payroll_total"] * 0.01, 1)
    elif roll < 0.55:
        indicators["congress_held"] = False
    done = rng.uniform(0.2, 0.9)
    return {
        "unit": unit.credit_code,
        "round": None,
        "measures": demo_activity.measures(rng, catalogue, done),
        "indicators": {k: v for k, v in indicators.items() if k in catalogue.indicators},
    }


def chunked(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def submit_round(
    round_: Round,
    catalogue: Catalogue,
    units: list[PilotUnit],
    user: User,
    seed: str,
    previous: dict[int, dict[str, Any]],
) -> dict[int, dict[str, Any]]:
    """One version of each unit's report stored through the intake's `store`; returns the indicators."""
    out: dict[int, dict[str, Any]] = {}
    for part in chunked(units):
        with db.transaction() as session:
            round_ = session.merge(round_, load=False)
            for unit in part:
                unit = session.merge(unit, load=False)
                rng = random.Random(f"{seed}-{unit.credit_code}-{round_.code}")
                data = report_of(rng, catalogue, unit, previous.get(unit.id))
                data["round"] = round_.code
                store(session, Checked(unit, round_, catalogue, data), user, None, "api")
                out[unit.id] = data["indicators"]
    return out


def evaluate_round(round_code: str, unit_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    """The units' latest reports evaluated by the evaluation service, a chunk a transaction; returns
    the FindingsOpened events it announced."""
    opened = events.task_of(events.FindingsOpened)
    produced: list[dict[str, Any]] = []
    for part in chunked(unit_ids):
        with db.transaction() as session:
            made = reevaluate_units(session, round_code, part, now)
            produced += [dict(e.payload) for e in made if e.task_name == opened]
    return produced


def alert(opened: list[dict[str, Any]], now: datetime) -> None:
    """New findings recorded as alert items, grouped into alerts with their deliveries, delivered."""
    timing = collect.timing()
    for part in chunked(opened, 50):
        with db.transaction() as session:
            for event in part:
                collect.record_opened(session, event, now)
    later = now + timedelta(seconds=timing.group_wait + timing.group_interval + 1)
    with db.transaction() as session:
        flush.flush(session, later, timing)
    with db.transaction() as session:
        for delivery in session.scalars(select(Delivery).where(Delivery.status != "sent")):
            deliveries.record_success(session, delivery, "200 OK", later)


def work_the_ledger(
    round_code: str, supervisor: User, clerks: dict[str, User], share: float, seed: str
) -> int:
    """A share of a round's findings moved through the ledger: the district reports them rectified,
    the city closes most and returns a few."""
    rng = random.Random(f"{seed}-ledger-{round_code}")
    with db.transaction() as session:
        ids = session.scalars(
            select(Finding.id)
            .where(Finding.round_code == round_code, Finding.status == "open")
            .order_by(Finding.id)
        ).all()
    moved = 0
    now = clock.now()
    for part in chunked([i for i in ids if rng.random() < share], 200):
        with db.transaction() as session:
            for finding in session.scalars(select(Finding).where(Finding.id.in_(part))):
                clerk = clerks.get(finding.district_code)
                if clerk is None or finding.resolution_mode != "verify":
                    continue
                request = ledger.Request("report_rectification", comment="已整改，佐证材料已上传。")
                ledger.apply(session, clerk, finding, ledger.ACTIONS["report_rectification"], request, now)
                verdict = "close" if rng.random() < 0.8 else "return"
                ledger.apply(
                    session,
                    supervisor,
                    finding,
                    ledger.ACTIONS[verdict],
                    ledger.Request(verdict, comment="核实。"),
                    now,
                )
                moved += 1
    return moved


def visits_and_cases(round_code: str, supervisor: User, clerks: dict[str, User], per_district: int) -> int:
    """On-site visits to a few units of every district, and a case drafted by each district."""
    made = 0
    now = clock.now()
    with db.transaction() as session:
        for district, clerk in sorted(clerks.items()):
            codes = session.scalars(
                select(PilotUnit.credit_code)
                .where(PilotUnit.district_code == district)
                .order_by(PilotUnit.id)
                .limit(per_district * 2)
            ).all()
            for n in range(per_district):
                form = visits.VisitForm(
                    round_code=round_code,
                    district_code=district,
                    unit_codes=list(codes[n * 2 : n * 2 + 2]),
                    visited_on=now.date() - timedelta(days=n),
                    team="督导组",
                    methods=["site", "interview"],
                    summary="实地查看培训台账，与一线职工座谈。",
                    opinion="请补齐职工教育经费使用台账。",
                )
                if form.unit_codes:
                    visits.record_visit(session, supervisor, form, now)
                    made += 1
            if codes:
                form_ = cases.CaseForm(
                    round_code=round_code,
                    unit_code=codes[0],
                    title="“师带徒”结对培养高技能人才",
                    measures=["P2-M2"],
                    practice="建立制度，明确责任部门和工作台账。",
                    results="一线职工参与率达 90% 以上。",
                )
                cases.draft(session, clerk, form_, now)
    return made


def clerks_of(session: Session) -> dict[str, User]:
    """A district clerk per district (the demo's two, and one more for each of the others)."""
    from services.intake import accounts

    have = {u.district_code: u for u in session.scalars(select(User).where(User.role == "district"))}
    for code in session.scalars(select(District.code)):
        if code not in have:
            have[code] = accounts.create_user(
                session, f"clerk-{code}@pilotwatch.example", "district", code, demo.DEMO_PASSWORD
            )
    session.flush()
    return have


def build(size: ScaleSize, database_url: str | None = None, seed: str = "scale") -> dict[str, Any]:
    """Build the data set into the configured database (migrated first); return counts and seconds."""
    started = time.monotonic()
    migrate.upgrade(database_url)
    with db.transaction() as session:
        rounds = registry(session, size.units, size.rounds)
        catalogue = catalogues.get(session, DEFAULT_VERSION)
        supervisor = session.scalars(select(User).where(User.email == SUPERVISOR)).one()
        clerks = clerks_of(session)
        units = list(session.scalars(select(PilotUnit).order_by(PilotUnit.id)).all())[: size.units]
        session.expunge_all()
    steps: dict[str, float] = {}
    previous: dict[int, dict[str, Any]] = {}
    ids = [u.id for u in units]
    now = clock.now()
    for index, round_ in enumerate(rounds):
        t0 = time.monotonic()
        previous = submit_round(round_, catalogue, units, supervisor, seed, previous)
        opened = evaluate_round(round_.code, ids, now)
        rng = random.Random(f"{seed}-again-{round_.code}")
        again = [u for u in units if rng.random() < size.resubmitted]
        submit_round(
            round_, catalogue, again, supervisor, seed + "-v2", {u.id: previous[u.id] for u in again}
        )
        opened += evaluate_round(round_.code, [u.id for u in again], now)
        if index >= len(rounds) - size.alerted_rounds:
            alert(opened, now)
        work_the_ledger(round_.code, supervisor, clerks, 0.2 if round_.status == "open" else 0.3, seed)
        steps[round_.code] = round(time.monotonic() - t0, 1)
        say(f"round {round_.code}: {steps[round_.code]} s")
    visits_and_cases(rounds[-1].code, supervisor, clerks, 3)
    with db.transaction() as session:  # the history was announced in its own time: nothing goes out
        session.execute(
            update(OutboxEvent).where(OutboxEvent.published_at.is_(None)).values(published_at=clock.now())
        )
    settle()
    seconds = round(time.monotonic() - started, 1)
    return {"size": size.name, "seconds": seconds, "rounds": steps, "counts": counts()}


def settle() -> None:
    """The planner's statistics and the visibility map a database has once autovacuum has been by after a
    load (a bulk load outruns it: without them PostgreSQL guessed 14,000 of 390,000 open findings)."""
    engine = db.engine()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def counts() -> dict[str, int]:
    with db.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                PilotUnit,
                District,
                Round,
                Submission,
                Evaluation,
                Finding,
                AlertItem,
                Alert,
                Delivery,
                Visit,
                Case,
            )
        }


def measure(env: dict[str, str], folder: Path, built: dict[str, Any], requests: int) -> dict[str, Any]:
    """Pages, exports and the round-wide jobs on the data set just built (the newest round)."""
    from bench import scale_exports, scale_jobs, scale_pages

    with db.transaction() as session:
        newest = max(session.scalars(select(Round.code)))
    out: dict[str, Any] = {"build": built, "round": newest}
    out["pages"] = scale_pages.measure(newest, requests)
    say("pages timed")
    out["exports"] = scale_exports.run(env, newest)
    say("exports timed")
    out["outliers"] = scale_jobs.cohort_outliers(newest)
    out["reevaluation"] = scale_jobs.reevaluation(env, folder / "stack", newest)
    say("jobs timed")
    return out


def on_database(
    name: str, env: dict[str, str], folder: Path, size: ScaleSize, postgres_url: str, requests: int
) -> dict[str, Any]:
    """Build and measure on a throwaway database; its query plans are kept beside the results."""
    from bench import stacks

    if name == "sqlite":
        size = SQLITE.get(size.name, size)
        return _built_and_measured(
            dict(env, DATABASE_URL=f"sqlite:///{folder / 'scale.db'}"), folder, size, requests
        )
    problem = stacks.postgres_problem(postgres_url)
    if problem:
        return {"skipped": f"skipped: {problem}"}
    with stacks.postgres_database(postgres_url) as url:
        return _built_and_measured(dict(env, DATABASE_URL=url), folder, size, requests)


def _built_and_measured(env: dict[str, str], folder: Path, size: ScaleSize, requests: int) -> dict[str, Any]:
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        config.reset()
        db.engine_for.cache_clear()
        db._factory.cache_clear()
        built = build(size)
        say(f"built {size.name} ({size.units} units, {size.rounds} rounds) in {built['seconds']} s")
        return measure(env, folder, built, requests)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        config.reset()


def run(
    size: ScaleSize,
    databases: list[str],
    postgres_url: str,
    env: dict[str, str],
    folder: Path,
    explain_to: Path | None = None,
    requests: int = 20,
) -> dict[str, Any]:
    """The scale data set built and measured on each database; the query plans written to `explain_to`."""
    from bench import scale_pages

    out: dict[str, Any] = {"size": vars(size), "databases": {}}
    for name in databases:
        try:
            result = on_database(name, env, folder / f"scale-{name}", size, postgres_url, requests)
        except Exception as exc:  # recorded in the table's notes, and the run goes on
            say(f"scale data set on {name} failed: {exc!r}")
            result = {"skipped": f"failed: {str(exc).splitlines()[0][:300]}"}
        out["databases"][name] = result
        if explain_to is not None and "pages" in result:
            explain_to.mkdir(parents=True, exist_ok=True)
            path = explain_to / f"latest-scale-explain-{size.name}-{name}.md"
            path.write_text(scale_pages.explain_markdown(result["pages"]))
            for page in result["pages"]["pages"]:  # kept in the Markdown; the JSON keeps the slow ones
                page["query_count"] = len(page["queries"])
                page["queries"] = [
                    {"sql": q["sql"][:300], "ms": q["ms"], "slow": q["slow"]}
                    for q in page["queries"]
                    if q["slow"]
                ]
    return out


def again(
    url: str, built: Path | None, size: ScaleSize, env: dict[str, str], folder: Path, out: Path, requests: int
) -> dict[str, Any]:
    """Measure a data set built before into `url` (`--build-only`), its build's figures read from the
    JSON that printed."""
    from bench import scale_pages

    name = "sqlite" if url.startswith("sqlite") else "postgresql"
    env = dict(env, DATABASE_URL=url)
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        config.reset()
        migrate.upgrade()
        settle()
        figures = (
            json.loads(built.read_text()) if built else {"size": size.name, "seconds": None, "rounds": {}}
        )
        figures["counts"] = counts()
        result = measure(env, folder, figures, requests)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        config.reset()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"latest-scale-explain-{size.name}-{name}.md").write_text(
        scale_pages.explain_markdown(result["pages"])
    )
    for page in result["pages"]["pages"]:
        page["query_count"] = len(page["queries"])
        page["queries"] = [
            {"sql": q["sql"][:300], "ms": q["ms"], "slow": q["slow"]} for q in page["queries"] if q["slow"]
        ]
    return {"size": vars(size), "databases": {name: result}}


def main(argv: list[str] | None = None) -> None:
    import shutil
    import tempfile

    from bench import report
    from ops.redis_server import RedisServer

    parser = argparse.ArgumentParser(description="Build the province-scale data set and measure on it.")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--units", type=int, help="instead of the size's")
    parser.add_argument("--rounds", type=int, help="instead of the size's")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=20, help="requests of each page")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--database-url",
        help="measure a data set built before into this database (migrated first), not a new one",
    )
    parser.add_argument("--built", type=Path, help="with --database-url: the JSON its build printed")
    parser.add_argument(
        "--build-only", action="store_true", help="build into --database-url (empty) and print the figures"
    )
    args = parser.parse_args(argv)
    base = SIZES[args.size]
    size = ScaleSize(
        base.name if args.units is None and args.rounds is None else "custom",
        args.units or base.units,
        args.rounds or base.rounds,
        base.resubmitted,
        base.alerted_rounds,
    )
    if args.build_only:
        if not args.database_url:
            parser.error("--build-only builds into --database-url")
        os.environ["DATABASE_URL"] = args.database_url
        config.reset()
        print(json.dumps(build(size), indent=2))
        return
    folder = Path(tempfile.mkdtemp(prefix="pilotwatch-scale-"))
    redis = RedisServer().start()
    try:
        env = scale_env(folder, redis.url)
        started = time.monotonic()
        results = {
            "date": report.now(),
            "machine": report.machine(),
            "scale": (
                again(args.database_url, args.built, size, env, folder, args.out, args.requests)
                if args.database_url
                else run(
                    size, args.databases.split(","), args.postgres_url, env, folder, args.out, args.requests
                )
            ),
        }
        results["seconds"] = round(time.monotonic() - started, 1)
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    results["lines"] = report.scale_lines(results["scale"])
    print(report.scale_markdown(results))
    print("written: " + ", ".join(str(p) for p in report.write_scale(results, args.out)))


def scale_env(folder: Path, redis_url: str) -> dict[str, str]:
    """The configuration the data set is built and served with, its own Redis. Not "production": its
    session cookie is sent over HTTPS only, which the test client does not speak."""
    env = {k: v for k, v in config.environ().items() if k not in ("PILOTWATCH_CLOCK_FILE", "DATABASE_URL")}
    env.update(
        PILOTWATCH_ENV="test",
        SECRET_KEY="bench-secret-not-for-use",
        REDIS_URL=redis_url,
        PILOTWATCH_INSTANCE=str(folder / "instance"),
        PUBLIC_URL="http://pilotwatch.bench",
        LOG_LEVEL="WARNING",
    )
    return env


if __name__ == "__main__":
    main()
