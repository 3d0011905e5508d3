"""Large Excel uploads against the real stack (gunicorn with its two workers, the intake's own Celery
worker): the web service keeps answering while they are read, checked and stored off the request."""

from __future__ import annotations

import io
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.models import Submission
from tests.intake.test_web_sheets import fill
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round
from tests.support.web import Browser

pytestmark = pytest.mark.e2e


def short_rows(count: int = 100_000) -> bytes:
    """A workbook of the template's shape with `count` short rows (about 1 MB): the attack of issue 12."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["统一社会信用代码", "职工总数"])
    sheet.append(["unit", "i.workers_total"])
    for number in range(count):
        sheet.append([f"x{number}", number])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(browser: Browser, content: bytes) -> Any:
    return browser.post("/sheets/upload", {"round": open_round()}, files={"file": ("报送.xlsx", content)})


def outcome(browser: Browser, location: str) -> str:
    url = location if location.startswith("http") else browser.url + location

    def finished() -> str:
        page = browser.http.get(url, timeout=10).text
        return "" if 'http-equiv="refresh"' in page else page

    return wait_until(finished, 240, "the upload to be checked", interval=0.5)


def test_it_answers_healthz_within_a_second_while_large_sheets_are_checked_and_stored(
    stack: Stack, catalogue: Catalogue
) -> None:
    stack.start("intake", "intake-worker")
    clerks = [Browser(stack.url, "gulou"), Browser(stack.url, "taijiang")]
    admin = Browser(stack.url, "admin")
    every_unit = load_workbook(
        io.BytesIO(
            admin.http.get(f"{stack.url}/sheets/template.xlsx?round={open_round()}", timeout=30).content
        )
    )
    units = [row[0] for row in every_unit.worksheets[0].iter_rows(min_row=3, values_only=True)]
    full = fill(
        every_unit, {3 + i: clean_report(catalogue, unit, open_round()) for i, unit in enumerate(units)}
    )
    attack = short_rows()
    assert len(attack) < 2 * 2**20  # under the upload limit: it reaches the service

    timings: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            started = time.monotonic()
            assert requests.get(f"{stack.url}/healthz", timeout=5).status_code == 200
            timings.append(time.monotonic() - started)
            time.sleep(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(upload, [*clerks, admin], [attack, attack, full]))
    answered = time.monotonic() - started
    assert [a.status_code for a in answers] == [302, 302, 302], [a.text[:500] for a in answers]
    pages = [outcome(b, a.headers["Location"]) for b, a in zip([*clerks, admin], answers, strict=True)]
    took = time.monotonic() - started
    done.set()
    prober.join(10)
    for page in pages[:2]:
        assert "文件超过 2000 行，超出每次上传的上限" in page
    assert f"已导入 {len(units)} 家单位" in pages[2], pages[2].split("<main")[1][:3000]
    assert len(re.findall(r'href="/submissions/\w+"', pages[2])) == len(units)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == len(units)
    print(
        f"\n{len(units)} full rows stored and two {len(attack) // 1024} KB sheets of 100,000 rows refused in "
        f"{took:.1f} s (uploads answered in {answered:.2f} s); /healthz: {len(timings)} probes, "
        f"slowest {max(timings) * 1000:.0f} ms"
    )
    assert timings and max(timings) < 1.0
