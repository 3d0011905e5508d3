"""The figures a supervisor opens first, computed again by the intake's worker once their rounds
changed, so that the dashboard and the API's league tables read them kept (shared/kept.py) instead of
computing them from every report of the round at the view.

Which figures: of every open round, and of the newest round when none is open, the district table and
the batch table (with the rounds their ranks and outcomes are compared with), the score lists of the
dashboard's trend, the case hints, the findings counted by rule and the units to chase per district. Figures whose rounds did not change are found kept and cost a
look-up in Redis.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session

from services.intake import analytics, case_hints, lists
from services.intake.rounds import all_rounds
from shared import clock
from shared.models import Round

log = logging.getLogger(__name__)
TREND = 6  # rounds on the dashboard's chart of mean scores
HINTS = 10  # case hints on the dashboard


def shown_rounds(rounds: list[Round]) -> list[Round]:
    """The rounds (newest first) whose figures are kept ready: the open ones, or the newest."""
    return [r for r in rounds if r.status == "open"] or rounds[:1]


def trend_rounds(rounds: list[Round]) -> list[Round]:
    """The rounds of the dashboard's trend: the newest `TREND` of them, oldest first."""
    return sorted(rounds, key=lambda r: r.due_date)[-TREND:]


def keep(session: Session) -> dict[str, float]:
    """Compute again what changed of the shown rounds' figures; per round, the seconds it took."""
    took: dict[str, float] = {}
    known = all_rounds(session)
    for round_ in shown_rounds(known):
        started = time.monotonic()
        analytics.district_table(session, round_.code)
        analytics.batch_table(session, round_.code)
        case_hints.hints(session, round_.code)
        case_hints.hints(session, round_.code, limit=HINTS)
        analytics.rule_counts(session, round_.code)
        lists.district_counts(session, round_, clock.today())
        took[round_.code] = round(time.monotonic() - started, 3)
    for round_ in trend_rounds(known):
        analytics.round_scores(session, round_.code)
    log.info("figures kept ready: %s", took)
    return took
