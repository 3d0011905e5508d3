"""Rounds as clerks and administrators meet them: several open rounds side by side on the home page,
opening an overlapping round and closing one only after confirming what it means."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.intake import rounds
from shared import db
from shared.models import Round
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, unit_of

GULOU = "350102"


def open_another(code: str = "2027H1") -> None:
    with db.transaction() as session:
        rounds.open_round(session, code, date(2027, 7, 15), 5, "2017-fz", None)


def test_it_shows_each_open_round_with_its_own_counts_and_keeps_the_one_due_first_in_front(
    auth: Any, catalogue: Any
) -> None:
    current = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of(GULOU), current))
    open_another()
    page = auth.sign_in("gulou").get("/").get_data(as_text=True)
    assert 'id="round-tabs"' in page
    tabs = page[page.index('id="round-tabs"') : page.index("</nav>", page.index('id="round-tabs"'))]
    assert "2026年下半年督导" in tabs and "2027年上半年督导" in tabs
    assert "已报送 1/" in tabs and "已报送 0/" in tabs
    assert (
        'aria-current="page">2026年下半年督导' in tabs
    )  # the round due first, where units are still missing
    later = auth.sign_in("gulou").get("/?round=2027H1").get_data(as_text=True)
    assert 'aria-current="page">2027年上半年督导' in later


def test_it_asks_before_opening_a_round_while_another_is_open(auth: Any) -> None:
    admin = auth.sign_in("admin")
    fields = {"code": "2027H1", "catalogue": "2017-fz", "due_date": "2027-07-15", "grace_days": "5"}
    asked = admin.post("/admin/rounds", data={"csrf_token": admin.csrf, **fields}).get_data(as_text=True)
    assert "确认同时开放多个轮次" in asked and "2026年下半年" in asked
    with db.transaction() as session:
        assert session.get(Round, "2027H1") is None
    admin.post("/admin/rounds", data={"csrf_token": admin.csrf, **fields, "confirm": "1"})
    with db.transaction() as session:
        assert session.get(Round, "2027H1").status == "open"


def test_it_says_how_many_units_have_not_reported_before_closing_a_round(auth: Any, catalogue: Any) -> None:
    current = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of(GULOU), current))
    admin = auth.sign_in("admin")
    asked = admin.post(f"/admin/rounds/{current}/close", data={"csrf_token": admin.csrf}).get_data(
        as_text=True
    )
    with db.transaction() as session:
        assert session.get(Round, current).status == "open"
    assert "尚有 427 家单位未报送" in asked and "确定关闭" in asked
    admin.post(f"/admin/rounds/{current}/close", data={"csrf_token": admin.csrf, "confirm": "1"})
    with db.transaction() as session:
        assert session.get(Round, current).status == "closed"
