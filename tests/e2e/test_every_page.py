"""Every page a clerk, a supervisor and an administrator reach from the navigation (and the pages of one
report, one finding, one visit and one case, and the delivery log holding one real delivery), in
Chinese and in English, at 1366 px and on a 390 px phone:
no code where a word belongs, no district code without its name, no time in UTC, no message in the
other language, no sideways scrolling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import DateTime, select

from ops import demo_activity
from shared import config, db, labels
from shared.catalogue import Catalogue
from shared.channels import kind_of
from shared.models import Base, Channel, Delivery, District, Finding, PilotUnit, Submission
from tests.e2e.browser import log_in, needs_chromium, shoot
from tests.support import page_checks
from tests.support.processes import Stack, json_request, wait_until
from tests.support.reports import open_round, problem_report
from tests.support.sinks import SmtpSink

pytestmark = [pytest.mark.e2e, needs_chromium]
GULOU = "350102"
PEOPLE = ("gulou@pilotwatch.example", "supervisor@pilotwatch.example", "admin@pilotwatch.example")
WIDTHS = (1366, 390)
# Pictures for the README (`make screenshots`): (person, language, page, width) -> file name.
SHOTS = {
    ("supervisor", "en", "/dashboard", 1366): "dashboard-en-1366",
    ("supervisor", "zh", "/deliveries", 1366): "deliveries-1366",
    ("gulou", "en", "/", 390): "district-home-en-390",
    ("admin", "en", "/admin/", 1366): "admin-en-1366",
}
MAX_PAGES = 24  # page kinds per person: the navigation, its forms, one report, finding, visit, case, 通报
# Pages exempt from the English check: the printable 通报 is an official Chinese document.
CHINESE_ONLY = re.compile(r"^/documents/bulletin/")
DETAIL = re.compile(
    r"^/(submissions/(?!new)[^/?]+|findings/(\d+|raise)|visits/(\d+|new)|cases/(\d+|new|\d+/edit)"
    r"|documents/(bulletin|jobs)/[^/]+)$"
)
# A page's kind: its path with the ids taken out (one report, one finding, ... is enough).
ID = re.compile(r"/(\d+|[0-9a-f]{16,}|\d{4}H[12])(?=/|$)")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.close()


def one_alert_delivered(stack: Stack, token: str, catalogue: Catalogue, smtp: SmtpSink) -> None:
    """A real alert to a real SMTP server: a report with problems from a unit yet to report."""
    with db.transaction() as session:
        url = smtp.url("gulou@example.org")
        session.add(Channel(district_code=GULOU, kind=kind_of(url), url=url, label="鼓楼区产改专班邮箱"))
        reported = select(Submission.unit_id).where(Submission.round_code == open_round())
        unit = session.scalars(
            select(PilotUnit.credit_code)
            .where(PilotUnit.district_code == GULOU, PilotUnit.kind == "enterprise")
            .where(PilotUnit.id.not_in(reported))
            .order_by(PilotUnit.id)
        ).first()
    status, body = json_request(
        "POST", stack.url + "/api/v1/submissions", problem_report(catalogue, unit, open_round()), token=token
    )
    assert status == 202, body
    wait_until(lambda: smtp.messages, 40, "the alert email")

    def delivered() -> bool:
        with db.transaction() as session:
            return session.scalar(select(Delivery.id).where(Delivery.status == "delivered")) is not None

    wait_until(delivered, 20, "the delivery to be recorded")


def vocabulary(catalogue: Catalogue) -> set[str]:
    """Every code a person must not read as a word: the catalogue's and the database's code columns."""
    from shared.models import Alert, Channel, Round, User

    words = set(catalogue.measures) | set(catalogue.indicators) | {r.code for r in catalogue.rules}
    words |= {aspect["code"] for aspect in catalogue.aspects}  # P1 …: an aspect is shown by its name
    words |= set(labels.SEVERITIES) | set(labels.FINDING_STATUSES) | set(labels.CASE_STATUSES)
    words |= {"not_started", "in_progress", "implemented", "exemplary", "manual", "missing_report"}
    columns = (
        Finding.rule_code,
        Finding.severity,
        Finding.status,
        Submission.channel,
        Round.code,  # a round is shown by its name (2026年下半年), its code only in the API
        Round.status,
        User.role,
        Channel.kind,
        Delivery.status,
        Alert.kind,
        PilotUnit.kind,
    )
    with db.transaction() as session:
        for column in columns:
            words |= {v for v in session.scalars(select(column).distinct()) if v}
    return words


def stored_times() -> list[datetime]:
    moments: list[datetime] = []
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, DateTime) or type(column.type).__name__ == "UTCDateTime":
                    moments += [m for m in session.scalars(select(column)) if isinstance(m, datetime)]
    return moments


def office_data() -> set[str]:
    """The office's own data, shown as typed whatever the page's language: names, notes, texts."""
    from shared.models import Alert, Case, Channel, PilotBatch, Visit

    pieces: set[str] = set()
    with db.transaction() as session:
        for column in (
            PilotUnit.name,
            PilotUnit.industry,
            Visit.team,
            Visit.summary,
            Visit.opinion,
            Case.title,
            Case.practice,
            Case.results,
            Case.review_reason,
            Alert.subject,
            Alert.content,
            Channel.label,
            Finding.extension_reason,
            PilotBatch.joined,
        ):
            pieces |= {v for v in session.scalars(select(column).distinct()) if isinstance(v, str)}
        for (measures,) in session.execute(select(Submission.measures)):
            pieces |= {m.get("note") or "" for m in (measures or {}).values() if isinstance(m, dict)}
        for f in session.scalars(select(Finding).where(Finding.rule_code == "manual")):
            pieces |= {f.message_zh, f.action_zh}
        for (figures,) in session.execute(select(Case.figures)):
            pieces |= {str(v) for row in figures or [] for v in row.values()}
        pieces |= {s for s in session.scalars(select(Finding.source).distinct()) if s}
    return {p.strip() for p in pieces if p and p.strip()}


def district_names() -> dict[str, list[str]]:
    with db.transaction() as session:
        return {
            d.code: [d.name_zh, d.name_en] + ([d.official_code] if d.official_code else [])
            for d in session.scalars(select(District))
        }


def visible_text(page: Any) -> str:
    return page.evaluate("document.body.innerText")


def overflows(page: Any) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


def pages_of(page: Any, base: str) -> list[str]:
    """The header's links, then one of each detail page linked from the pages they lead to."""
    nav = page.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
    paths = list(dict.fromkeys(urlparse(href).path for href in nav))
    found: dict[str, str] = {}
    for path in list(paths):
        page.goto(base + path)
        for href in page.eval_on_selector_all(
            "main a[href]", "links => links.map(a => a.getAttribute('href'))"
        ):
            target = urlparse(href).path
            if not DETAIL.match(target):
                continue
            kind = ID.sub("/<id>", target)
            if kind and kind not in found:
                found[kind] = target
    return (paths + list(found.values()))[:MAX_PAGES]


def problems_on(page: Any, path: str, locale: str, facts: dict[str, Any]) -> list[str]:
    text = visible_text(page)
    said = []
    data_free = page_checks.without(text, facts["data"])
    if codes := page_checks.codes_shown(data_free, facts["codes"], locale):
        said.append(f"codes {codes}")
    if codes := page_checks.districts_without_names(data_free, facts["districts"]):
        said.append(f"district codes without names {codes}")
    if times := page_checks.utc_times_shown(text, facts["times"], facts["zone"]):
        said.append(f"UTC times {times}")
    if not (locale == "en" and CHINESE_ONLY.match(path)):
        if words := page_checks.other_language(data_free, locale):
            said.append(f"other language {words[:12]}")
    return said


def test_every_page_speaks_the_office_language_in_china_time(
    stack: Stack, tokens: dict[str, str], catalogue: Catalogue, browser: Any, smtp: SmtpSink
) -> None:
    with db.transaction() as session:
        demo_activity.load(session)
    stack.start("intake", "evaluation", "notify")
    one_alert_delivered(stack, tokens["gulou"], catalogue, smtp)
    facts = {
        "codes": vocabulary(catalogue),
        "districts": district_names(),
        "times": stored_times(),
        "data": office_data(),
        "zone": config.current().time_zone,
    }
    problems: list[str] = []
    visited: set[str] = set()
    for who in PEOPLE:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        log_in(page, stack.url, who)
        paths = pages_of(page, stack.url)
        visited |= set(paths)
        for locale in ("zh", "en"):
            page.goto(stack.url + "/")
            if (page.get_attribute("html", "lang") or "").startswith("en") != (locale == "en"):
                page.click("header form.locale button")
            for path in paths:
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    if width == WIDTHS[0]:
                        page.goto(stack.url + path)
                        if path == "/deliveries":  # the real alert's delivery is on it
                            assert page.locator("tr[id^=delivery-]").count() >= 1
                        for said in problems_on(page, path, locale, facts):
                            problems.append(f"{who.split('@')[0]} {locale} {path}: {said}")
                    if overflows(page):
                        problems.append(f"{who.split('@')[0]} {locale} {path}: overflows at {width} px")
                    if shot := SHOTS.get((who.split("@")[0], locale, path, width)):
                        shoot(page, shot)
        context.close()
    assert any(p.startswith("/documents/bulletin/") for p in visited), visited
    assert not problems, "\n".join(problems + [f"pages: {sorted(visited)}"])
