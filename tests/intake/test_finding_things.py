"""Finding things at 428 units and 2,000 problems: every list is paged on the server, searched by a unit's
name or credit code, filtered (the filters kept from page to page and in the exports), and the dashboard
leads from a district's numbers to the units behind them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.intake import analytics, paging, rounds
from shared import clock, config, db
from shared.models import Finding, PilotUnit, Round
from tests.support.findings import raise_findings
from tests.support.reports import open_round
from tests.support.web import USERS, add_report, csrf_of

GULOU, TAIJIANG, CANGSHAN = "350102", "350103", "350104"  # 仓山区 has 59 units: two pages


def unit_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-unit="([^"]+)"', html)


def finding_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-finding="(\d+)"', html)


def total_of(html: str) -> int:
    found = re.search(r'class="pager"[^>]*data-total="(\d+)"', html)
    assert found, "no pager on the page"
    return int(found.group(1))


def pager_links(html: str) -> list[str]:
    block = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    assert block
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', block.group(0))]


def units_in(district: str | None = None) -> list[tuple[str, str]]:
    with db.transaction() as session:
        query = select(PilotUnit.credit_code, PilotUnit.name).where(PilotUnit.active.is_(True))
        if district:
            query = query.where(PilotUnit.district_code == district)
        return [tuple(row) for row in session.execute(query)]


# --- the paging helper ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"), [(None, 1), ("", 1), ("3", 3), ("0", 1), ("-2", 1), ("x", 1), ("9" * 9, 1)]
)
def test_it_reads_the_page_asked_for(raw: str | None, number: int) -> None:
    assert paging.page_number(raw) == number


def test_it_links_the_first_the_last_and_the_pages_around() -> None:
    assert paging.links(1, 1) == [1]
    assert paging.links(5, 9) == [1, None, 3, 4, 5, 6, 7, None, 9]
    assert paging.links(4, 7) == [1, 2, 3, 4, 5, 6, 7]
    assert paging.links(1, 40) == [1, 2, 3, None, 40]


def test_it_keeps_the_query_string_when_it_changes_the_page() -> None:
    assert paging.query_with({"district": GULOU, "q": "", "page": "2"}, page=3) == f"district={GULOU}&page=3"
    assert paging.query_with({"state": "overdue", "page": "2"}, page=None) == "state=overdue"


@pytest.mark.parametrize(
    ("indexes", "ranks"),
    [
        ([90.0, 80.0, 80.0, 70.0], [1, 2, 2, 4]),
        ([0.0, 0.0, 0.0], [1, 1, 1]),
        ([75.04, 75.01, 60.0], [1, 1, 3]),  # equal as shown, to one place
        ([], []),
    ],
)
def test_it_gives_tied_districts_the_same_rank(indexes: list[float], ranks: list[int]) -> None:
    assert analytics.shared_ranks(indexes) == ranks


# --- units ---------------------------------------------------------------------------------------


def test_it_lands_the_office_on_the_dashboard_and_a_clerk_on_its_units(client: Any) -> None:
    for who, landing in (("supervisor", "/dashboard"), ("admin", "/dashboard"), ("gulou", "/")):
        fresh = client.application.test_client()
        token = csrf_of(fresh.get("/login").get_data(as_text=True))
        answer = fresh.post(
            "/login", data={"csrf_token": token, "email": USERS[who], "password": "pilotwatch-demo"}
        )
        assert answer.headers["Location"] == landing, who


def test_it_pages_the_428_units_and_keeps_the_filters(auth: Any) -> None:
    client = auth.sign_in("supervisor")
    first = client.get("/").get_data(as_text=True)
    assert total_of(first) == 428 and len(unit_rows(first)) == paging.PAGE_SIZE
    seen: list[str] = []
    for number in range(1, 10):
        seen += unit_rows(client.get(f"/?page={number}").get_data(as_text=True))
    assert len(seen) == 428 and set(seen) == {code for code, _name in units_in()}

    cangshan = client.get(f"/?district={CANGSHAN}&state=unreported").get_data(as_text=True)
    assert total_of(cangshan) == len(units_in(CANGSHAN)) > paging.PAGE_SIZE
    links = pager_links(cangshan)
    assert links and all(f"district={CANGSHAN}" in link and "state=unreported" in link for link in links)
    second = client.get(links[-1]).get_data(as_text=True)  # the next page
    assert unit_rows(second) and not set(unit_rows(second)) & set(unit_rows(cangshan))
    assert set(re.findall(r'data-district="(\d+)"', second)) == {CANGSHAN}


@pytest.mark.parametrize("by", ["name", "credit code"])
def test_it_finds_a_unit_by_name_or_credit_code(auth: Any, by: str) -> None:
    code, name = units_in(TAIJIANG)[7]
    html = (
        auth.sign_in("supervisor")
        .get("/", query_string={"q": name if by == "name" else code})
        .get_data(as_text=True)
    )
    assert unit_rows(html) == [code] and total_of(html) == 1


def test_its_counters_add_up_for_a_clerk(auth: Any) -> None:
    add_report(GULOU, 0)  # evaluated, with a problem to rectify
    add_report(GULOU, 1, status="closed")  # evaluated, its one problem closed
    html = auth.sign_in("gulou").get("/").get_data(as_text=True)
    units = len(units_in(GULOU))
    counters = re.search(r'id="counters".*?</div>\s*</div>\s*</div>', html, re.S).group(0)
    assert f"2/{units}" in counters and f"{units - 2}/{units}" in counters
    numbers = [int(n) for n in re.findall(r'class="stat"[^>]*><b>(\d+)</b>', counters)]
    no_problems, problems, evaluating, not_started, drafts = numbers
    assert (no_problems, problems, evaluating) == (1, 1, 0)
    assert no_problems + problems + evaluating == 2 and not_started + drafts == units - 2


def test_it_lists_the_missing_units_once_the_deadline_has_passed(
    auth: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_report(GULOU, 0)
    client = auth.sign_in("gulou")
    before = client.get("/").get_data(as_text=True)
    assert "逾期" not in before.split('id="counters"')[0]
    with db.transaction() as session:
        due = session.get(Round, open_round()).due_date
    clock_file = tmp_path / "clock"
    clock.set_now(clock_file, datetime.combine(due + timedelta(days=3), datetime.min.time()))
    monkeypatch.setenv("PILOTWATCH_CLOCK_FILE", str(clock_file))
    config.reset()
    after = client.get("/").get_data(as_text=True)
    reminder = re.search(r'<div class="alert" id="reminder">.*?</div>', after, re.S).group(0)
    assert "已逾期 3 天" in reminder and "请在截止日期前完成" not in reminder
    missing = [name for code, name in units_in(GULOU)][1:]
    assert sum(1 for name in missing if name in reminder) == min(20, len(missing))
    overdue = client.get("/?state=overdue").get_data(as_text=True)
    assert total_of(overdue) == len(missing)


# --- the dashboard -------------------------------------------------------------------------------


def test_it_counts_the_days_on_the_ledger_by_the_offices_calendar(
    auth: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raise_findings(open_round(), 1)
    with db.transaction() as session:
        finding = session.scalars(select(Finding)).one()
        finding.opened_at = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 01:00 on 3 December in Beijing
        found = finding.id
    clock_file = tmp_path / "clock"
    clock.set_now(clock_file, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # 10:00 the same morning in Beijing
    monkeypatch.setenv("PILOTWATCH_CLOCK_FILE", str(clock_file))
    config.reset()
    html = auth.sign_in("supervisor").get("/findings?status=all").get_data(as_text=True)
    row = re.search(rf'<tr data-finding="{found}">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="hide-sm">(\d+)</td>', row) == ["0"]


def test_it_opens_the_dashboard_on_the_open_round_and_hides_timeliness_before_the_deadline(
    auth: Any,
) -> None:
    current = open_round()
    add_report(GULOU, 0)
    with db.transaction() as session:
        due = session.get(Round, current).due_date
        rounds.open_round(session, "2099H1", due + timedelta(days=400), 5, "2017-fz", None)  # newest, empty
    client = auth.sign_in("supervisor")
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(rf'<option value="{current}" selected>', html)
    on_time = re.findall(r'<td class="on-time">(.*?)</td>', html)
    assert on_time and all("%" not in cell for cell in on_time)
    assert 'href="#index-panel"' in html and 'id="index-panel"' in html
    with db.transaction() as session:
        closed = session.scalars(select(Round.code).where(Round.status == "closed")).first()
    past = client.get(f"/dashboard?round={closed}").get_data(as_text=True)
    assert all("%" in cell for cell in re.findall(r'<td class="on-time">(.*?)</td>', past))


def test_it_gives_districts_with_equal_indexes_one_rank(auth: Any) -> None:
    html = auth.sign_in("supervisor").get("/dashboard").get_data(as_text=True)
    ranks = [int(r) for r in re.findall(r'<td class="rank">(\d+)', html)]
    assert ranks and ranks == sorted(ranks)
    assert ranks.count(1) == len(ranks)  # nobody has reported: every district shares the first rank


def test_it_leads_from_a_districts_numbers_to_its_units(auth: Any) -> None:
    reported = add_report(GULOU, 0)
    client = auth.sign_in("supervisor")
    html = client.get("/dashboard").get_data(as_text=True)
    row = re.search(rf'<tr data-district="{GULOU}">.*?</tr>', html, re.S).group(0)
    link = re.search(r'class="chase-unreported" href="([^"]+)">[^<]*?(\d+)</a>', row)
    assert link and int(link.group(2)) == len(units_in(GULOU)) - 1
    units = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert total_of(units) == int(link.group(2))
    assert reported["unit"] not in unit_rows(units)
    assert set(re.findall(r'data-district="(\d+)"', units)) == {GULOU}
    problems = re.search(r'class="chase-problems" href="([^"]+)">[^<]*?(\d+)</a>', row)
    assert problems and problems.group(2) == "1"
    listed = client.get(problems.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert unit_rows(listed) == [reported["unit"]]


# --- the ledger, 2,000 problems --------------------------------------------------------------------


@pytest.fixture
def two_thousand(seeded: dict[str, str]) -> str:
    round_code = open_round()
    raise_findings(round_code, 2000)
    return round_code


def test_it_pages_2000_problems_and_keeps_the_filters(auth: Any, two_thousand: str) -> None:
    client = auth.sign_in("supervisor")
    html = client.get("/findings").get_data(as_text=True)
    assert total_of(html) == 2000 and len(finding_rows(html)) == paging.PAGE_SIZE
    assert "请缩小筛选范围" not in html
    last = client.get("/findings?page=40").get_data(as_text=True)
    assert len(finding_rows(last)) == paging.PAGE_SIZE and not set(finding_rows(last)) & set(
        finding_rows(html)
    )

    errors = client.get(f"/findings?severity=error&district={GULOU}&round={two_thousand}").get_data(
        as_text=True
    )
    with db.transaction() as session:
        expected = session.scalar(
            select(func.count()).where(Finding.severity == "error", Finding.district_code == GULOU)
        )
    assert total_of(errors) == expected > paging.PAGE_SIZE
    links = pager_links(errors)
    assert all("severity=error" in link and f"district={GULOU}" in link for link in links)
    page_two = client.get(links[-1]).get_data(as_text=True)
    assert "sev-warning" not in page_two.split('id="ledger"')[1]


def test_it_finds_a_units_problems_by_name_and_exports_what_is_on_screen(
    auth: Any, two_thousand: str
) -> None:
    code, name = units_in(TAIJIANG)[3]
    client = auth.sign_in("supervisor")
    html = client.get("/findings", query_string={"q": name}).get_data(as_text=True)
    with db.transaction() as session:
        unit_id = session.scalar(select(PilotUnit.id).where(PilotUnit.credit_code == code))
        ids = set(session.scalars(select(Finding.id).where(Finding.unit_id == unit_id)))
    assert ids and {int(i) for i in finding_rows(html)} == ids

    screen = client.get(f"/findings?severity=error&district={TAIJIANG}").get_data(as_text=True)
    export = re.search(r'id="export-csv" href="([^"]+)"', screen).group(1).replace("&amp;", "&")
    assert "severity=error" in export and f"district={TAIJIANG}" in export
    rows = list(csv.reader(io.StringIO(client.get(export).get_data(as_text=True).lstrip("\ufeff"))))[1:]
    assert len(rows) == total_of(screen) > paging.PAGE_SIZE
    assert {row[1] for row in rows} == {"台江区"}  # the district by its name, not its code


# --- deliveries and users ------------------------------------------------------------------------


def test_it_pages_the_users_and_finds_one_by_email(auth: Any) -> None:
    from shared.models import User

    with db.transaction() as session:  # accounts without a password: hashing 70 would only slow the test
        session.add_all(
            User(email=f"clerk{n:02d}@gulou.example", role="district", district_code=GULOU) for n in range(70)
        )
    client = auth.sign_in("admin")
    html = client.get("/admin/").get_data(as_text=True)
    users = re.search(r'<table id="users">.*?</table>', html, re.S).group(0)
    assert users.count("<tr>") - 1 == paging.PAGE_SIZE
    second = client.get("/admin/?users_page=2").get_data(as_text=True)
    assert re.search(r'<table id="users">.*?</table>', second, re.S).group(0).count("<tr>") - 1 == 74 - 50
    found = client.get("/admin/?user_q=clerk07").get_data(as_text=True)
    table = re.search(r'<table id="users">.*?</table>', found, re.S).group(0)
    assert "clerk07@gulou.example" in table and table.count("<tr>") == 2


def test_it_pages_the_delivery_log(auth: Any) -> None:
    from shared.models import Alert, Channel, Delivery

    with db.transaction() as session:
        channel = Channel(district_code=GULOU, kind="json", url="http://hook.example/x")
        session.add(channel)
        session.flush()
        for n in range(120):
            alert = Alert(
                source_event_id=f"paging-{n}",
                district_code=GULOU if n % 2 else TAIJIANG,
                round_code=open_round(),
                finding_ids=[],
                subject=f"【产改督导】第 {n} 号",
                content={},
            )
            session.add(alert)
            session.flush()
            session.add(
                Delivery(alert_id=alert.id, channel_id=channel.id, target=channel.url, status="delivered")
            )
    client = auth.sign_in("supervisor")
    html = client.get(f"/deliveries?district={GULOU}").get_data(as_text=True)
    assert total_of(html) == 60 and html.count('<tr id="delivery-') == paging.PAGE_SIZE
    assert all(f"district={GULOU}" in link for link in pager_links(html))
    one = client.get("/deliveries", query_string={"q": "第 7 号"}).get_data(as_text=True)
    assert total_of(one) == 1


def test_it_dates_nothing_before_it_is_due() -> None:
    round_ = Round(
        code="2026H2", catalogue_version="x", due_date=date(2027, 1, 15), grace_days=5, status="open"
    )
    from services.intake import lists

    assert not lists.overdue(round_, date(2027, 1, 15)) and lists.overdue(round_, date(2027, 1, 16))


def test_its_api_lists_every_unit_unless_asked_for_a_page(client: Any, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['supervisor']}"}
    whole = client.get("/api/v1/units", headers=headers).get_json()
    assert whole["total"] == len(whole["items"]) == 428
    pages = [
        client.get(f"/api/v1/units?page={n}&per_page=200", headers=headers).get_json() for n in (1, 2, 3, 4)
    ]
    assert [len(p["items"]) for p in pages] == [200, 200, 28, 0] and {p["total"] for p in pages} == {428}
    assert len({u["credit_code"] for p in pages for u in p["items"]}) == 428
    code, name = units_in(TAIJIANG)[2]
    found = client.get("/api/v1/units", query_string={"q": name}, headers=headers).get_json()
    assert [u["credit_code"] for u in found["items"]] == [code]
