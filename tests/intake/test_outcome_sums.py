"""A round's outcome sums computed again after a report read that report alone: a stored report never
changes, so each process keeps every report's sums by its id (services/intake/analytics.py)."""

from __future__ import annotations

from services.intake import analytics, effectiveness
from shared import db
from shared.catalogue import Catalogue
from shared.catalogue.schema import DEFAULT_EFFECTIVENESS_INDEX
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, unit_of
from tests.support.statements import statements

SPECS = effectiveness.specs_of(DEFAULT_EFFECTIVENESS_INDEX)


def indicator_reads(seen: list[str]) -> list[str]:
    """The statements that read reports' indicators."""
    return [statement for statement in seen if "submissions.indicators" in statement]


def sides(round_code: str) -> dict[int, tuple[effectiveness.Side | None, ...]]:
    with db.transaction() as session:
        return {
            unit_id: sums
            for unit_id, (_report, sums) in analytics.report_sides(session, round_code, SPECS).items()
        }


def test_after_a_report_only_that_report_is_read_and_its_sums_replace_the_units_earlier_ones(
    seeded: dict, catalogue: Catalogue
) -> None:
    assert SPECS  # the default index has outcome parts
    round_code = open_round()
    units = [unit_of("350102", i) for i in range(3)]
    for unit in units:
        store_and_evaluate(clean_report(catalogue, unit, round_code))
    first = sides(round_code)
    assert len(first) == 3
    with statements() as seen:
        assert sides(round_code) == first  # nothing new: no report read
    assert indicator_reads(seen) == []
    corrected = clean_report(catalogue, units[0], round_code)
    corrected["indicators"] = {
        k: (v * 2 if type(v) in (int, float) else v) for k, v in corrected["indicators"].items()
    }
    store_and_evaluate(corrected)
    with statements() as seen:
        after = sides(round_code)
    assert len(indicator_reads(seen)) == 1  # the corrected report's indicators alone
    assert after.keys() == first.keys()
    changed = [unit_id for unit_id in after if after[unit_id] != first[unit_id]]
    assert len(changed) == 1
    expected = tuple(effectiveness.side_totals(corrected["indicators"], spec) for spec in SPECS)
    assert after[changed[0]] == expected
