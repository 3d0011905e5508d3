"""The office's Word documents, opened with python-docx: the 督导通报's tables carry the API's figures for
the same round, a district's 问题清单 its open problems, the 案例汇编 the selected cases; the office's
own template replaces the shipped one; the printable page shows the same figures."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
from sqlalchemy import select

from services.intake import documents
from shared import clock, config, db
from shared.catalogue import Catalogue
from shared.models import Case, PilotUnit, Round, User
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, problem_report, unit_of

GULOU, TAIJIANG = "350102", "350103"


def previous_round() -> str:
    with db.transaction() as session:
        return session.scalars(select(Round.code).where(Round.status != "open")).one()


def some_reports(catalogue: Catalogue) -> str:
    """Two rounds of reports in two districts (outcomes to compare), problems, a selected case."""
    now, before = open_round(), previous_round()
    for district, count in ((GULOU, 3), (TAIJIANG, 2)):
        for index in range(count):
            unit = unit_of(district, index)
            store_and_evaluate(clean_report(catalogue, unit, before))
            report = (problem_report if index == 0 else clean_report)(catalogue, unit, now)
            report["indicators"]["new_certificates"] = 60 + 30 * index
            store_and_evaluate(report)
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.credit_code == unit_of(GULOU, 1))).one()
        session.add(
            Case(
                round_code=now,
                unit_id=unit.id,
                district_code=GULOU,
                title="劳模创新工作室带动一线攻关",
                measures=["P2-M5"],
                practice="一是立项攻关。",
                results="攻克工艺难题 6 项。",
                figures=[{"label": "专利", "value": "3 项"}],
                status="selected",
            )
        )
    return now


def generate(kind: str, round_code: str, district: str | None = None, next_steps: str = "") -> Any:
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.role == "supervisor")).first()
        job, _events = documents.request(
            session, user, kind, round_code, district, {"next_steps": next_steps}, clock.now()
        )
        job_id = job.id
    assert documents.generate(job_id) == "done"
    return docx.Document(str(documents.output_path(job_id)))


def table(document: Any, first_header: str) -> list[list[str]]:
    for found in document.tables:
        rows = [[cell.text for cell in row.cells] for row in found.rows]
        if rows and rows[0][0] == first_header:
            return rows
    raise AssertionError(f"no table headed {first_header}")


def rate(text: str) -> float:
    return float(text.rstrip("%")) / 100


def figure(text: str) -> float | None:
    return None if text == "—" else float(text)


def api(client: Any, tokens: dict[str, str], path: str) -> Any:
    answer = client.get(path, headers={"Authorization": f"Bearer {tokens['supervisor']}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_it_writes_the_apis_figures_into_the_bulletins_tables(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    document = generate("bulletin", round_code, next_steps="一是抓好整改。\n二是总结推广经验。")
    overview = api(client, tokens, f"/api/v1/rounds/{round_code}/summary")["overview"]
    problems = api(client, tokens, f"/api/v1/rounds/{round_code}/summary")["problems"]
    districts = api(client, tokens, f"/api/v1/rounds/{round_code}/districts")["items"]

    header, values = table(document, "试点单位")
    assert header[:5] == ["试点单位", "已报送", "按时报送", "逾期报送", "未报送"]
    assert [int(v) for v in values[:5]] == [
        overview["units"],
        overview["reported"],
        overview["on_time"],
        overview["late"],
        overview["missing"],
    ]
    assert rate(values[5]) == pytest.approx(overview["participation_rate"], abs=5e-4)
    assert rate(values[6]) == pytest.approx(overview["on_time_rate"], abs=5e-4)

    rows = table(document, "名次")[1:]
    assert len(rows) == len(districts) == 15
    for row, expected in zip(rows, districts, strict=True):
        rank, name, units, reported, _participation, _on_time, progress, outcomes, index, _change = row
        assert (int(rank), name, int(units), int(reported)) == (
            expected["rank"],
            expected["name_zh"],
            expected["units"],
            expected["reported"],
        )
        assert (figure(progress), figure(outcomes), figure(index)) == (
            expected["progress"],
            expected["outcomes"],
            expected["index"],
        )
    gulou = next(r for r in districts if r["district_code"] == GULOU)
    assert gulou["outcomes"] is not None and gulou["basis_round"] == previous_round()

    categories = {r[0]: [int(v) for v in r[1:]] for r in table(document, "问题类别")[1:]}
    assert categories == {
        c["category"]: [c["critical"], c["error"], c["warning"], c["total"]] for c in problems["by_category"]
    }
    assert sum(c[-1] for c in categories.values()) == problems["total"] > 0
    lights = {r[0]: [int(v) for v in r[1:]] for r in table(document, "县（市）区")[1:]}
    assert lights["鼓楼区"] == next(
        [d["total"], d["open"], d["rectification_reported"], d["rectified"], d["red"], d["yellow"]]
        for d in problems["by_district"]
        if d["district_code"] == GULOU
    )
    text = "\n".join(p.text for p in document.paragraphs)
    assert "劳模创新工作室带动一线攻关" in text and "一是抓好整改。" in text and "二是总结推广经验。" in text
    assert f"本轮共发现问题 {problems['total']} 个" in text


def test_it_lists_a_districts_open_problems_with_requirement_and_deadline(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    document = generate("problem_list", round_code, GULOU)
    rows = table(document, "序号")[1:]
    problems = api(client, tokens, f"/api/v1/rounds/{round_code}/summary")["problems"]
    gulou = next(d for d in problems["by_district"] if d["district_code"] == GULOU)
    assert len(rows) == gulou["open"] == 2
    assert {r[4] for r in rows} >= {"合理化建议采纳数 9 条，超过提出数 5 条"}
    assert all(r[6] != "无" and r[7] == "待整改" for r in rows)
    assert "鼓楼区" in document.paragraphs[0].text


def test_it_compiles_the_selected_cases(seeded: dict[str, str], catalogue: Catalogue) -> None:
    round_code = some_reports(catalogue)
    text = "\n".join(p.text for p in generate("cases", round_code).paragraphs)
    assert "1. 劳模创新工作室带动一线攻关" in text and "攻克工艺难题 6 项。" in text and "专利：3 项" in text


def test_it_uses_the_offices_own_template(
    seeded: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    shutil.copy(documents.SHIPPED / "bulletin.docx", own / "bulletin.docx")
    edited = docx.Document(str(own / "bulletin.docx"))
    heading = next(p for p in edited.paragraphs if p.text == "一、总体情况")
    heading.runs[0].text, *rest = "一、基本情况", *heading.runs[1:]
    for run in rest:
        run.text = ""
    edited.save(str(own / "bulletin.docx"))
    before = [p.text for p in generate("bulletin", open_round()).paragraphs]
    monkeypatch.setenv("DOCUMENT_TEMPLATES", str(own))
    config.reset()
    after = [p.text for p in generate("bulletin", open_round()).paragraphs]
    assert "一、总体情况" in before and "一、基本情况" not in before
    assert "一、基本情况" in after and "一、总体情况" not in after


def test_it_fails_a_job_whose_template_is_broken_and_says_why(
    seeded: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = docx.Document()
    broken.add_paragraph("{{ title ")
    broken.save(str(tmp_path / "bulletin.docx"))
    monkeypatch.setenv("DOCUMENT_TEMPLATES", str(tmp_path))
    config.reset()
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.role == "supervisor")).first()
        job, _events = documents.request(session, user, "bulletin", open_round(), None, {}, clock.now())
        job_id = job.id
    assert documents.generate(job_id) == "failed"
    with db.transaction() as session:
        assert "unexpected" in session.get(type(job), job_id).error


def test_it_refuses_a_district_the_bulletin_and_another_districts_list(auth: Any) -> None:
    gulou = auth.sign_in("gulou")
    for form in ({"kind": "bulletin"}, {"kind": "problem_list", "district": TAIJIANG}):
        answer = gulou.post("/documents", data={"csrf_token": gulou.csrf, "round": open_round(), **form})
        assert answer.status_code == 302 and "/documents/jobs/" not in answer.headers["Location"]
    own = gulou.post(
        "/documents", data={"csrf_token": gulou.csrf, "round": open_round(), "kind": "problem_list"}
    )
    assert "/documents/jobs/" in own.headers["Location"]


def test_it_prints_the_bulletin_with_the_same_figures(
    auth: Any, client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    page = auth.sign_in("supervisor").get(f"/documents/bulletin/{round_code}?next_steps=一是抓好整改。")
    text = page.get_data(as_text=True)
    overview = api(client, tokens, f"/api/v1/rounds/{round_code}/summary")["overview"]
    assert page.status_code == 200 and "一是抓好整改。" in text
    assert f"已报送 {overview['reported']} 家" in text and f"{overview['units']} 家试点单位" in text
    assert text.count("<tr><td>") >= 15  # the district table, a row each


def test_it_copies_the_templates_for_the_office_to_edit(seeded: dict[str, str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ops.cli import cli

    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "cases.docx").write_bytes(b"the office's own")
    answer = CliRunner().invoke(cli, ["documents", "templates", str(folder)])
    assert answer.exit_code == 0, answer.output
    assert sorted(p.name for p in folder.iterdir()) == ["bulletin.docx", "cases.docx", "problem_list.docx"]
    assert (folder / "cases.docx").read_bytes() == b"the office's own"
    assert "一、总体情况" in [p.text for p in docx.Document(str(folder / "bulletin.docx")).paragraphs]
