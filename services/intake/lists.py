"""The lists the pages show and the exports write, with the filters a person sets on screen: units by
their report state in a round, findings, deliveries and users. One query per list, shared by the page
(which cuts it into pages, services/intake/paging.py) and the export (which writes it whole)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from services.intake import analytics, scope
from shared import clock, config, kept
from shared.catalogue import SEVERITIES
from shared.labels import FINDING_STATUSES
from shared.models import (
    ACTIVE_STATUSES,
    Alert,
    Delivery,
    Draft,
    Evaluation,
    Finding,
    PilotUnit,
    Round,
    Submission,
    User,
)

# A unit's report state in a round (services/intake/progress.py), and the groups a supervisor asks for:
# every unit that has not reported, those still missing after the deadline, and those that reported.
UNIT_GROUPS = ("unreported", "overdue", "reported")
LIGHTS = ("red", "yellow", "green")
DELIVERY_STATUSES = ("pending", "sending", "retrying", "delivered", "failed", "dead")
ROLES = ("district", "supervisor", "admin")


def text_of(args: Mapping[str, str], key: str = "q") -> str:
    return (args.get(key) or "").strip()[:100]


def like(text: str) -> str:
    """A LIKE pattern that matches `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def unit_matches(text: str) -> ColumnElement[bool]:
    """A unit whose name or unified social credit code contains the text."""
    pattern = like(text)
    return or_(PilotUnit.name.like(pattern, escape="\\"), PilotUnit.credit_code.like(pattern, escape="\\"))


# --- units and their report state ----------------------------------------------------------------


def _reported(round_code: str) -> ColumnElement[bool]:
    return exists().where(Submission.unit_id == PilotUnit.id, Submission.round_code == round_code)


def _latest_evaluated(round_code: str) -> ColumnElement[bool]:
    """The unit's newest report of the round is evaluated. (The newest version is the same unit's:
    the subquery names the report's unit, so it correlates to the report, not to the outer units.)"""
    other = aliased(Submission)
    latest = (
        select(func.max(other.version))
        .where(other.unit_id == Submission.unit_id, other.round_code == round_code)
        .scalar_subquery()
    )
    return exists(
        select(Submission.id)
        .join(Evaluation, Evaluation.submission_id == Submission.id)
        .where(
            Submission.unit_id == PilotUnit.id,
            Submission.round_code == round_code,
            Submission.version == latest,
        )
    )


def _open_problems(round_code: str) -> ColumnElement[bool]:
    # the same problems the home page counts: active, and more than advice
    return exists().where(
        Finding.unit_id == PilotUnit.id,
        Finding.round_code == round_code,
        Finding.status.in_(ACTIVE_STATUSES),
        Finding.severity != "info",
    )


def overdue(round_: Round, today: date) -> bool:
    """Whether the round's deadline has passed: from then on a unit that has not reported is 逾期未报."""
    return today > round_.due_date


def state_condition(round_: Round, state: str, today: date) -> ColumnElement[bool] | None:
    """The units in a report state (or group) of the round, as a condition on PilotUnit; None: any."""
    code = round_.code
    reported, drafted = (
        _reported(code),
        exists().where(Draft.unit_id == PilotUnit.id, Draft.round_code == code),
    )
    conditions: dict[str, ColumnElement[bool]] = {
        "not_started": and_(not_(reported), not_(drafted)),
        "draft": and_(not_(reported), drafted),
        "submitted": and_(reported, not_(_latest_evaluated(code))),
        "evaluated": and_(_latest_evaluated(code), not_(_open_problems(code))),
        "problems": and_(_latest_evaluated(code), _open_problems(code)),
        "unreported": not_(reported),
        "overdue": not_(reported) if overdue(round_, today) else false(),
        "reported": reported,
    }
    return conditions.get(state)


def batch_of(args: Mapping[str, str]) -> int | None:
    """The pilot batch chosen on screen (a number of at most three digits), or None: every batch."""
    batch = args.get("batch") or ""
    return int(batch) if batch.isdigit() and len(batch) < 4 else None


def unit_filters(query: Select[Any], user: User, args: Mapping[str, str]) -> Select[Any]:
    """A query over units (or joined to them) narrowed to a district, a pilot batch, a name or code."""
    if args.get("district") and user.role != "district":
        query = query.where(PilotUnit.district_code == args["district"])
    if batch_of(args) is not None:
        query = query.where(PilotUnit.batch == batch_of(args))
    if text_of(args):
        query = query.where(unit_matches(text_of(args)))
    return query


def units_query(user: User, args: Mapping[str, str], round_: Round | None, today: date) -> Select[Any]:
    """The user's active units filtered by district, pilot batch, name or credit code and report state,
    ordered by district and name."""
    query = unit_filters(
        scope.units(user).order_by(PilotUnit.district_code, PilotUnit.name, PilotUnit.id), user, args
    )
    condition = state_condition(round_, args.get("state", ""), today) if round_ is not None else None
    if condition is not None:
        query = query.where(condition)
    return query


def overdue_units(
    session: Session, user: User, args: Mapping[str, str], round_: Round, today: date
) -> list[PilotUnit]:
    """The user's units (of the district and batch on screen) that have not reported after the deadline."""
    if not overdue(round_, today):
        return []
    chosen = {"district": args.get("district", ""), "batch": args.get("batch", ""), "state": "overdue"}
    return list(session.scalars(units_query(user, chosen, round_, today)))


def district_counts(
    session: Session, round_: Round, today: date, batch: int | None = None
) -> dict[str, dict[str, int]]:
    """Per district, how many of its active units have not reported, are 逾期未报, or have problems to
    rectify: the numbers the dashboard links to the units behind them. Kept until the round or the
    register changes (shared/kept.py), and for the day: 逾期未报 depends on it."""
    return kept.kept(
        session,
        f"chase:{batch}:{today.isoformat()}",
        [round_.code],
        lambda: _district_counts(session, round_, today, batch),
    )


def _district_counts(
    session: Session, round_: Round, today: date, batch: int | None
) -> dict[str, dict[str, int]]:
    """The states `state_condition` selects, counted from the round's reports and problems summed up
    per unit (held by the process: round_units.py) rather than by three queries over every unit's
    reports and problems."""
    results = analytics.unit_results(session, round_.code)
    troubled = {
        unit_id
        for unit_id, problems in analytics.problems_by_unit(session, round_.code).items()
        if problems.open
    }
    late = overdue(round_, today)
    out: dict[str, dict[str, int]] = {}
    for unit_id, district, unit_batch in analytics.active_units(session):
        if batch is not None and unit_batch != batch:
            continue
        result = results.get(unit_id)
        if result is None:
            states = ("unreported", "overdue") if late else ("unreported",)
        elif result.latest_evaluated and unit_id in troubled:
            states = ("problems",)
        else:
            continue
        counts = out.setdefault(district, {"unreported": 0, "overdue": 0, "problems": 0})
        for state in states:
            counts[state] += 1
    return out


# --- the problem ledger --------------------------------------------------------------------------


def findings_query(user: User, args: Mapping[str, str]) -> Select[Any]:
    """The ledger as filtered on screen: district, round, severity, status (the unclosed by default),
    deadline light, days on the ledger, and a unit's name or credit code; newest first."""
    query = (
        scope.findings(user)
        .options(selectinload(Finding.unit))
        .order_by(Finding.opened_at.desc(), Finding.id.desc())
    )
    if args.get("district") and user.role != "district":
        query = query.where(Finding.district_code == args["district"])
    if args.get("round"):
        query = query.where(Finding.round_code == args["round"])
    if args.get("severity") in SEVERITIES:
        query = query.where(Finding.severity == args["severity"])
    if args.get("status") in FINDING_STATUSES:
        query = query.where(Finding.status == args["status"])
    elif args.get("status") != "all":
        query = query.where(Finding.status.in_(ACTIVE_STATUSES))
    if (args.get("older") or "").isdigit() and len(args["older"]) < 6:
        query = query.where(Finding.opened_at <= clock.now() - timedelta(days=int(args["older"])))
    if text_of(args):
        query = query.where(Finding.unit_id.in_(select(PilotUnit.id).where(unit_matches(text_of(args)))))
    light = args.get("light")
    if light in LIGHTS:
        today, yellow = clock.today(), timedelta(days=config.current().yellow_light_days)
        query = query.where(Finding.status.in_(ACTIVE_STATUSES), Finding.due_date.is_not(None))
        if light == "red":
            query = query.where(Finding.due_date < today)
        elif light == "yellow":
            query = query.where(Finding.due_date >= today, Finding.due_date <= today + yellow)
        else:
            query = query.where(Finding.due_date > today + yellow)
    return query


# --- the delivery log and the users --------------------------------------------------------------


def deliveries_query(args: Mapping[str, str]) -> Select[Any]:
    """Deliveries, newest first, by status, district, round and a text in the alert's subject or the target."""
    query = (
        select(Delivery)
        .join(Alert)
        .options(selectinload(Delivery.alert), selectinload(Delivery.log))
        .order_by(Delivery.id.desc())
    )
    if args.get("status") in DELIVERY_STATUSES:
        query = query.where(Delivery.status == args["status"])
    if args.get("district"):
        query = query.where(Alert.district_code == args["district"])
    if args.get("round"):
        query = query.where(Alert.round_code == args["round"])
    if text_of(args):
        pattern = like(text_of(args))
        query = query.where(
            or_(Alert.subject.like(pattern, escape="\\"), Delivery.target.like(pattern, escape="\\"))
        )
    return query


def users_query(args: Mapping[str, str]) -> Select[Any]:
    """Users by role, district and a part of their email, ordered by role and email."""
    query = select(User).order_by(User.role, User.email)
    if args.get("role") in ROLES:
        query = query.where(User.role == args["role"])
    if args.get("district"):
        query = query.where(User.district_code == args["district"])
    if text_of(args):
        query = query.where(User.email.like(like(text_of(args).lower()), escape="\\"))
    return query


def registry_query(args: Mapping[str, str]) -> Select[Any]:
    """The registry as the administrator searches it: every unit (in the register or not)."""
    query = select(PilotUnit).order_by(PilotUnit.district_code, PilotUnit.name, PilotUnit.id)
    if args.get("district"):
        query = query.where(PilotUnit.district_code == args["district"])
    if text_of(args):
        query = query.where(unit_matches(text_of(args)))
    return query
