"""The case library: a district drafts and recommends; the city returns with a reason or selects;
selected cases are published to every district; hints suggest what to write up, thresholds as data."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from services.intake import case_hints
from shared import db
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import Case, CatalogueVersion, Round
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, unit_of
from tests.support.web import PNG

GULOU = "350102"


def write(client: Any, action: str = "save", **changes: Any) -> Any:
    form = {
        "csrf_token": client.csrf,
        "round": open_round(),
        "unit": unit_of(GULOU),
        "title": "“师带徒”结对培养高技能人才",
        "measures": ["P2-M2", "P2-M3"],
        "practice": "一是签订师徒协议。\n二是按季考核。",
        "results": "高技能人才占比由 28% 提高到 34%。",
        "figure_label_0": "高技能人才占比",
        "figure_value_0": "由 28% 提高到 34%",
        "file": (io.BytesIO(PNG), "师徒协议.png"),
        "action": action,
        **changes,
    }
    return client.post("/cases/new", data=form, content_type="multipart/form-data")


def case_of(answer: Any) -> int:
    found = re.search(r"/cases/(\d+)$", answer.headers.get("Location", ""))
    assert found, answer.get_data(as_text=True)[:800]
    return int(found.group(1))


def status_of(case_id: int) -> str:
    with db.transaction() as session:
        found = session.get(Case, case_id)
        assert found is not None
        return found.status


def review(client: Any, case_id: int, decision: str, reason: str = "") -> Any:
    return client.post(
        f"/cases/{case_id}/review", data={"csrf_token": client.csrf, "decision": decision, "reason": reason}
    )


def test_it_takes_a_case_from_a_draft_through_a_return_to_publication(auth: Any) -> None:
    gulou, supervisor, taijiang = auth.sign_in("gulou"), auth.sign_in("supervisor"), auth.sign_in("taijiang")
    case = case_of(write(gulou))
    assert status_of(case) == "draft"
    assert supervisor.get(f"/cases/{case}").status_code == 404  # a draft is the district's own
    assert taijiang.get(f"/cases/{case}").status_code == 404
    gulou.post(f"/cases/{case}/recommend", data={"csrf_token": gulou.csrf})
    assert status_of(case) == "recommended"
    assert f"/cases/{case}" in supervisor.get("/cases").get_data(as_text=True)

    refused = review(supervisor, case, "return")
    assert status_of(case) == "recommended" and refused.status_code == 302
    review(supervisor, case, "return", "请补充成效数据的来源")
    assert status_of(case) == "returned"
    assert "请补充成效数据的来源" in gulou.get(f"/cases/{case}").get_data(as_text=True)
    edited = gulou.post(
        f"/cases/{case}/edit",
        data={
            "csrf_token": gulou.csrf,
            "round": open_round(),
            "unit": unit_of(GULOU),
            "title": "“师带徒”结对培养高技能人才",
            "measures": ["P2-M2"],
            "practice": "一是签订师徒协议。",
            "results": "据人社部门认定，高技能人才占比由 28% 提高到 34%。",
            "action": "recommend",
        },
    )
    assert edited.status_code == 302 and status_of(case) == "recommended"
    review(supervisor, case, "select")
    assert status_of(case) == "selected"

    published = taijiang.get("/cases").get_data(as_text=True)
    assert f"/cases/{case}" in published and "据人社部门认定" in published
    page = taijiang.get(f"/cases/{case}").get_data(as_text=True)
    assert "已入选" in page and "师徒协议.png" in page
    evidence = re.search(rf"/cases/{case}/files/(\w+)", page)
    assert evidence and taijiang.get(evidence.group(0)).data == PNG
    history = supervisor.get(f"/cases/{case}").get_data(as_text=True)
    for step in ("撰写案例", "推荐", "退回修改", "入选", "supervisor@pilotwatch.example"):
        assert step in history


def test_it_gives_the_api_the_cases_each_caller_may_see(
    auth: Any, client: Any, tokens: dict[str, str]
) -> None:
    gulou, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    published = case_of(write(gulou, action="recommend"))
    review(supervisor, published, "select")
    draft = case_of(write(gulou, title="尚未推荐的草稿"))

    def seen(who: str) -> dict[int, str]:
        body = client.get(
            f"/api/v1/rounds/{open_round()}/cases", headers={"Authorization": f"Bearer {tokens[who]}"}
        ).get_json()
        return {c["id"]: c["status"] for c in body["items"]}

    assert seen("gulou") == {published: "selected", draft: "draft"}
    assert seen("taijiang") == seen("supervisor") == {published: "selected"}


def test_it_refuses_to_recommend_a_case_without_what_was_done_and_its_results(auth: Any) -> None:
    gulou = auth.sign_in("gulou")
    answer = write(gulou, action="recommend", practice="", results="")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "请填写主要做法" in page and "请填写取得成效" in page
    with db.transaction() as session:
        assert session.scalars(select(Case)).first() is None


def test_it_refuses_a_case_about_another_districts_unit(auth: Any) -> None:
    answer = write(auth.sign_in("taijiang"))
    assert answer.status_code == 422 and "请选择本县（市）区的试点单位" in answer.get_data(as_text=True)


def test_it_lets_only_the_city_review_and_only_districts_write(auth: Any) -> None:
    gulou, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    case = case_of(write(gulou, action="recommend"))
    assert review(gulou, case, "select").status_code == 403
    assert supervisor.get("/cases/new").status_code == 403
    assert status_of(case) == "recommended"


def hint_codes(client: Any) -> list[str]:
    items = client.get(f"/api/v1/rounds/{open_round()}/practices", headers=client.headers).get_json()["items"]
    return [p["credit_code"] for p in items]


def test_it_takes_the_hints_threshold_from_the_catalogue(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = open_round()
    report = clean_report(catalogue, unit_of(GULOU), round_code)
    report["measures"]["P2-M4"] = {"status": "exemplary", "note": "技能竞赛覆盖全部一线班组。"}
    store_and_evaluate(report)
    client.headers = {"Authorization": f"Bearer {tokens['supervisor']}"}
    items = client.get(f"/api/v1/rounds/{round_code}/practices", headers=client.headers).get_json()["items"]
    assert [(p["credit_code"], p["reasons"], p["case_id"]) for p in items] == [
        (unit_of(GULOU), ["high_score"], None)
    ]
    with db.transaction() as session:
        row = session.get(CatalogueVersion, catalogue.version)
        assert row is not None
        catalogues.save(session, {**row.data, "case_hints": {**row.data["case_hints"], "min_exemplary": 2}})
    assert hint_codes(client) == []


def test_the_best_hints_are_the_first_of_all_the_hints_however_they_are_read(
    client: Any, catalogue: Catalogue, monkeypatch: Any
) -> None:
    """The dashboard asks for the best few hints, which are read best score first a chunk at a time:
    a chunk of one report, equal scores on the boundary, still give the first of the whole list."""
    round_code = open_round()
    for index, district in enumerate(["350102", "350102", "350103", "350104", "350105"]):
        report = clean_report(catalogue, unit_of(district, index if district == "350102" else 0), round_code)
        report["measures"]["P2-M4"] = {"status": "exemplary", "note": "技能竞赛覆盖全部一线班组。"}
        if index == 4:  # a lower score than the others, which are all equal
            report["measures"]["P1-M1"] = {"status": "not_started", "note": ""}
        store_and_evaluate(report)
    with db.transaction() as session:
        every = case_hints.hints(session, round_code)
    assert len(every) == 5
    assert len({h["overall_score"] for h in every}) == 2
    monkeypatch.setattr(case_hints, "READ_CHUNK", 1)
    for limit in range(1, 7):
        with db.transaction() as session:
            assert (
                case_hints._hints(session, session.get(Round, round_code), catalogue, None, None, limit)
                == every[:limit]
            )


def test_reading_stops_only_when_no_later_report_could_be_among_the_best() -> None:
    found = [{"overall_score": 90.0}, {"overall_score": 80.0}]
    assert case_hints.settled(found, 2, 79.9)
    assert not case_hints.settled(found, 2, 80.0)  # a tie could come first by its credit code
    assert not case_hints.settled(found, 3, 10.0)  # not enough yet
    assert not case_hints.settled(found, None, 0.0)  # every hint is wanted
    assert case_hints.settled(found, 1, 85.0)
