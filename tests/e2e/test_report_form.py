"""The report form as a district clerk uses it, in a real browser against the real stack: nothing typed
is ever lost, mistakes show before they become problems, and a full report takes few actions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.models import Draft, Finding, Submission
from tests.e2e.browser import log_in, needs_chromium, shoot
from tests.support.processes import Stack
from tests.support.reports import clean_report, open_round, unit_of

pytestmark = [pytest.mark.e2e, needs_chromium]
GULOU = "350102"
CLERK = "gulou@pilotwatch.example"
SUBMITTED = re.compile(r"/submissions/(?!new)[^/?]+$")


class Clerk:
    """A page driven as a clerk would, counting each action (a click, a choice or a field typed)."""

    def __init__(self, page: Any):
        self.page, self.actions = page, 0

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.actions += 1

    def check(self, selector: str) -> None:
        self.page.check(selector)
        self.actions += 1

    def fill(self, selector: str, text: str) -> None:
        self.page.fill(selector, text)
        self.actions += 1


def fill_like_a_clerk(clerk: Clerk, catalogue: Catalogue, report: dict[str, Any]) -> None:
    """Whole aspects set at once where their measures share a status, then each note and figure."""
    for aspect in catalogue.aspects:
        statuses = {report["measures"][m["code"]]["status"] for m in aspect["measures"]}
        if len(statuses) == 1:
            clerk.click(f'[data-set-aspect="{aspect["code"]}"][data-status="{statuses.pop()}"]')
        else:
            for m in aspect["measures"]:
                status = report["measures"][m["code"]]["status"]
                clerk.check(f'input[name="m.{m["code"]}.status"][value="{status}"]')
    for code, entry in report["measures"].items():
        if entry["note"]:
            clerk.fill(f'textarea[name="m.{code}.note"]', entry["note"])
    for code, value in report["indicators"].items():
        if isinstance(value, bool):
            clerk.check(f'input[name="i.{code}"][value="{"true" if value else "false"}"]')
        else:
            clerk.fill(f'input[name="i.{code}"]', str(value))


def required_only(catalogue: Catalogue, report: dict[str, Any]) -> dict[str, Any]:
    """What a clerk fills in: the required figures (the others are left blank)."""
    return dict(
        report,
        indicators={k: v for k, v in report["indicators"].items() if k in catalogue.required_indicators},
    )


def count(model: Any, *where: Any) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def form(page: Any, base: str, unit: str) -> None:
    page.goto(f"{base}/submissions/new?unit={unit}&round={open_round()}")


def saved(page: Any) -> None:
    page.locator("#autosave").filter(has_text="已自动保存").wait_for(timeout=15_000)


def submitted(page: Any) -> None:
    """Wait for the submission page; when the form stays, fail with what it said."""
    try:
        page.wait_for_url(SUBMITTED, timeout=20_000)
    except PlaywrightError:
        said = page.locator("#error-summary, .flash")
        raise AssertionError(said.all_inner_texts() if said.count() else page.inner_text("main")) from None


def test_it_saves_as_the_clerk_types_and_brings_it_all_back(
    stack: Stack, browser: Any, catalogue: Catalogue
) -> None:
    stack.start("intake")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    unit = unit_of(GULOU)
    form(page, stack.url, unit)
    page.check('input[name="m.P1-M1.status"][value="implemented"]')
    page.fill('textarea[name="m.P1-M1.note"]', "第一次坐下来填写的说明")
    page.fill('input[name="i.workers_total"]', "800")
    saved(page)
    assert count(Draft) == 1
    page.reload()
    assert page.input_value('textarea[name="m.P1-M1.note"]') == "第一次坐下来填写的说明"
    assert page.is_checked('input[name="m.P1-M1.status"][value="implemented"]')
    # A second sitting, then a submit the form refuses: nothing of it is lost.
    page.fill('input[name="i.frontline_workers"]', "600")
    page.fill('textarea[name="m.P1-M2.note"]', "第二次坐下来填写的说明")
    page.click("button[value=submit]")
    assert page.locator("#error-summary").is_visible()
    page.goto(stack.url + "/")
    form(page, stack.url, unit)
    assert page.input_value('input[name="i.frontline_workers"]') == "600"
    assert page.input_value('textarea[name="m.P1-M2.note"]') == "第二次坐下来填写的说明"
    assert count(Submission) == 0


def test_it_warns_before_leaving_with_unsaved_changes(stack: Stack, browser: Any) -> None:
    stack.start("intake")
    page = browser.new_page()
    log_in(page, stack.url, CLERK)
    form(page, stack.url, unit_of(GULOU))
    page.click('input[name="i.workers_total"]')
    page.keyboard.type("800")  # typed, the autosave not yet done
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    with pytest.raises(PlaywrightError):  # the clerk chose to stay: the navigation is cancelled
        page.goto(stack.url + "/", timeout=5_000)
    assert dialogs == ["beforeunload"]
    assert "/submissions/new" in page.url and page.input_value('input[name="i.workers_total"]') == "800"


def test_it_refuses_an_empty_or_incomplete_report_with_the_list_of_what_is_missing(
    stack: Stack, browser: Any, catalogue: Catalogue
) -> None:
    stack.start("intake", "evaluation")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    form(page, stack.url, unit_of(GULOU))
    page.click("button[value=submit]")
    summary = page.locator("#error-summary")
    lines = summary.locator("li")
    assert lines.count() == len(catalogue.measures) + len(catalogue.required_indicators)
    assert "请选择推进状态" in summary.inner_text() and "必填" in summary.inner_text()
    # The banner's link takes the clerk to the field.
    page.click("#error-summary a[href='#i.workers_total']")
    box = page.locator('input[name="i.workers_total"]').bounding_box()
    assert box is not None and 0 <= box["y"] <= page.viewport_size["height"]
    assert count(Submission) == 0 and count(Finding) == 0


def test_it_shows_a_data_error_next_to_its_fields_before_submitting_and_stores_nothing(
    stack: Stack, browser: Any, catalogue: Catalogue
) -> None:
    stack.start("intake", "evaluation")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    unit = unit_of(GULOU)
    form(page, stack.url, unit)
    clerk = Clerk(page)
    report = required_only(catalogue, clean_report(catalogue, unit, open_round()))
    fill_like_a_clerk(clerk, catalogue, report)
    clerk.fill('input[name="i.frontline_workers"]', "900")  # more than the 800 workers: a typing slip
    field = page.locator('[id="i.frontline_workers-field"] .precheck.error')
    field.wait_for(timeout=15_000)
    assert "一线职工人数 900 人，超过职工总数 800 人" in field.inner_text()
    shoot(page, "report-form-checks", full_page=False)
    page.click("button[value=submit]")
    assert "一线职工人数 900 人，超过职工总数 800 人" in page.inner_text("#error-summary")
    assert count(Submission) == 0 and count(Finding) == 0
    page.fill('input[name="i.frontline_workers"]', "600")
    page.click("button[value=submit]")
    submitted(page)
    assert count(Submission) == 1


def test_it_takes_numbers_as_they_are_pasted(stack: Stack, browser: Any, catalogue: Catalogue) -> None:
    stack.start("intake", "evaluation")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    unit = unit_of(GULOU)
    form(page, stack.url, unit)
    report = required_only(catalogue, clean_report(catalogue, unit, open_round()))
    report["indicators"].update(workers_total=2400, payroll_total=9600.0)
    fill_like_a_clerk(Clerk(page), catalogue, report)
    page.fill('input[name="i.workers_total"]', " 2,400 ")
    page.fill('input[name="i.payroll_total"]', "９，６００")  # full-width digits from a Chinese input method
    page.click("button[value=submit]")
    submitted(page)
    with db.transaction() as session:
        stored = session.scalars(select(Submission)).one()
        assert (stored.indicators["workers_total"], stored.indicators["payroll_total"]) == (2400, 9600)


def test_it_fills_a_full_report_in_few_actions_and_says_when_evaluation_is_slow(
    stack: Stack, browser: Any, catalogue: Catalogue, tmp_path: Path
) -> None:
    stack.start("intake")  # no evaluation worker: the report waits
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    unit = unit_of(GULOU)
    form(page, stack.url, unit)
    clerk = Clerk(page)
    fill_like_a_clerk(clerk, catalogue, required_only(catalogue, clean_report(catalogue, unit, open_round())))
    height = page.evaluate("document.documentElement.scrollHeight")
    saved(page)
    page.evaluate("window.scrollTo(0, 0)")
    assert page.inner_text('nav.jump a[href="#aspect-P1"]') == "第一方面 5/5"
    shoot(page, "report-form-progress", full_page=False)
    assert page.inner_text("#progress") == "已填 25/25 项举措、22/32 项指标（必填 22/22）"
    page.clock.install()
    clerk.click("button[value=submit]")
    submitted(page)
    assert "报送成功，正在评估" in page.inner_text("main")
    assert page.locator("#slow").is_hidden()
    page.clock.fast_forward(32_000)
    page.locator("#slow").wait_for(state="visible", timeout=10_000)
    assert "报告已安全收到" in page.inner_text("#slow")
    figures = {"actions": clerk.actions, "page_height_px": height}
    (tmp_path / "form-figures.json").write_text(json.dumps(figures))
    print("report form:", figures)
    assert clerk.actions < 96  # the count before this form: about 96 actions on a page 4,000 px tall
    # The result, once evaluated, replaces the notice.
    stack.start("evaluation")
    page.clock.fast_forward(10_000)
    page.locator("#overall").wait_for(timeout=30_000)
    assert "报送成功，正在评估" not in page.inner_text("main")
    # each aspect's score under the aspect's name, as the office writes it (no catalogue code)
    heads = page.locator("main table").first.locator("th").all_inner_texts()
    assert heads == [aspect["name_zh"] for aspect in catalogue.aspects]
    shoot(page, "report-evaluated", full_page=False)


def test_it_starts_the_next_round_from_the_last_report(
    stack: Stack, browser: Any, catalogue: Catalogue
) -> None:
    """With the previous round's report carried over, a report that changed little is a few actions."""
    from datetime import date

    from services.intake import rounds
    from tests.support.evaluated import store_and_evaluate

    unit, current = unit_of(GULOU), open_round()
    store_and_evaluate(clean_report(catalogue, unit, current))
    with db.transaction() as session:
        rounds.open_round(session, "2027H1", date(2027, 7, 15), 5, "2017-fz", None)
    stack.start("intake")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    page.goto(f"{stack.url}/submissions/new?unit={unit}&round=2027H1")
    clerk = Clerk(page)
    clerk.click("#carry")
    clerk.fill('input[name="i.training_person_times"]', "1300")
    clerk.click("button[value=submit]")
    submitted(page)
    print("report form, from the last round:", {"actions": clerk.actions})
    assert clerk.actions <= 5


def test_it_keeps_the_typed_note_when_a_ledger_action_is_refused(stack: Stack, browser: Any) -> None:
    """Reporting a rectification without the proof the rule asks for: the note stays, the message
    stands next to the missing file, and nothing changes in the ledger."""
    from tests.support.web import add_report

    finding = add_report(GULOU, proof_required=True)["finding"]
    stack.start("intake")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    page.goto(f"{stack.url}/findings/{finding}")
    note = "已补提职工教育经费 120 万元，财务凭证随后上传"
    page.fill("#comment-report_rectification", note)
    page.click("#form-report_rectification button[type=submit]")
    assert page.input_value("#comment-report_rectification") == note
    refused = page.locator("#form-report_rectification .field-error")
    assert "佐证" in refused.inner_text()
    assert page.locator("#form-report_rectification #proof + .field-error").count() == 1
    with db.transaction() as session:
        assert session.get(Finding, finding).status == "open"


def test_it_shows_a_clerk_each_open_round_with_its_own_counts(
    stack: Stack, browser: Any, catalogue: Catalogue
) -> None:
    from datetime import date

    from services.intake import rounds
    from tests.support.evaluated import store_and_evaluate

    current = open_round()
    store_and_evaluate(clean_report(catalogue, unit_of(GULOU), current))
    with db.transaction() as session:
        rounds.open_round(session, "2027H1", date(2027, 7, 15), 5, "2017-fz", None)
    stack.start("intake")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, stack.url, CLERK)
    tabs = page.locator("#round-tabs a")
    assert tabs.count() == 2
    assert "2026年下半年督导" in tabs.nth(0).inner_text() and "已报送 1/" in tabs.nth(0).inner_text()
    assert page.get_attribute("#round-tabs a >> nth=0", "aria-current") == "page"
    assert "2026年下半年" in page.inner_text("#round-info")
    shoot(page, "two-open-rounds", full_page=False)
    tabs.nth(1).click()
    assert "2027年上半年" in page.inner_text("#round-info")
    assert "已报送 0/" in page.inner_text("#round-tabs a[aria-current=page]")
