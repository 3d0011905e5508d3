"""The access matrix: every page and action × each role × own and other district → the expected answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.web import add_report, csrf_of

GULOU, TAIJIANG = "350102", "350103"
# Who asks: the clerk of the objects' own district (鼓楼区), a clerk of another district, a supervisor,
# an administrator, and nobody signed in (sent to the login page).
ROLES = ("own", "other", "supervisor", "admin", "anonymous")
LOGIN = {"own": "gulou", "other": "taijiang", "supervisor": "supervisor", "admin": "admin"}


def cases(o: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, int]]]:
    """(method, path, form, {role: status}); every object belongs to 鼓楼区."""
    every = dict.fromkeys(("own", "other", "supervisor", "admin"), 200)
    clerks_and_admin = {"own": 200, "other": 200, "supervisor": 403, "admin": 200}
    own_only = {"own": 200, "other": 403, "supervisor": 200, "admin": 200}
    overseers = {"own": 403, "other": 403, "supervisor": 200, "admin": 200}
    admins = {"own": 403, "other": 403, "supervisor": 403, "admin": 200}
    return [
        ("GET", "/", {}, every),
        ("GET", "/submissions/new", {}, clerks_and_admin),
        ("GET", f"/submissions/new?unit={o['unit']}", {}, {**own_only, "supervisor": 403}),
        ("GET", f"/submissions/{o['submission']}", {}, own_only),
        ("GET", f"/files/{o['file']}", {}, own_only),
        ("GET", "/findings", {}, every),
        ("GET", f"/findings/{o['finding']}", {}, own_only),
        ("GET", "/dashboard", {}, overseers),
        ("GET", "/sheets/", {}, every),
        ("GET", "/sheets/template.xlsx", {}, clerks_and_admin),
        ("GET", "/sheets/export/reports.csv", {}, every),
        ("GET", "/sheets/export/findings.xlsx", {}, every),
        ("GET", "/sheets/export/league.csv", {}, overseers),
        ("GET", "/admin/", {}, admins),
        (
            "POST",
            "/submissions/new",
            {"unit": o["unit"], "action": "draft", "m.A1.status": "in_progress"},
            {"own": 302, "other": 403, "supervisor": 403, "admin": 302},
        ),
        (
            "POST",
            f"/findings/{o['finding']}/actions",
            {"action": "acknowledge", "comment": "收到"},
            {"own": 302, "other": 403, "supervisor": 403, "admin": 403},
        ),
        (
            "POST",
            f"/findings/{o['reported']}/actions",
            {"action": "return", "comment": "佐证不足"},
            {"own": 403, "other": 403, "supervisor": 302, "admin": 302},
        ),
        ("GET", "/visits", {}, every),
        ("GET", "/visits/new", {}, overseers),
        ("GET", "/cases", {}, every),
        ("GET", "/cases/new", {}, {"own": 200, "other": 200, "supervisor": 403, "admin": 403}),
        ("GET", "/documents", {}, every),
        ("GET", f"/documents/bulletin/{o['round']}", {}, overseers),
        (
            "POST",
            "/admin/channels",
            {"district": GULOU, "url": "json://127.0.0.1:9/hook"},
            admins | {"admin": 302},
        ),
        (
            "POST",
            "/admin/users",
            {"email": "new-clerk@example.org", "role": "district", "district": TAIJIANG},
            admins | {"admin": 302},
        ),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_each_role_as_the_matrix_says(app: Any, auth: Any, role: str) -> None:
    objects = add_report(GULOU)
    objects["reported"] = add_report(GULOU, 1, status="rectification_reported")["finding"]
    client = auth.sign_in(LOGIN[role]) if role != "anonymous" else app.test_client()
    token = getattr(client, "csrf", None) or csrf_of(client.get("/login").get_data(as_text=True))
    wrong = []
    for method, path, form, expected in cases(objects):
        want = expected.get(role, 302)
        answer = (
            client.get(path) if method == "GET" else client.post(path, data={**form, "csrf_token": token})
        )
        if role == "anonymous" and answer.status_code == 302:
            assert "/login" in answer.headers["Location"] or method == "POST"
        if answer.status_code != want:
            wrong.append(f"{method} {path}: {answer.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_it_exports_only_what_the_district_may_see(auth: Any) -> None:
    own, other = add_report(GULOU), add_report(TAIJIANG)
    exported = auth.sign_in("gulou").get("/sheets/export/findings.csv").get_data(as_text=True)
    assert own["unit"] in exported and other["unit"] not in exported
    everything = auth.sign_in("supervisor").get("/sheets/export/findings.csv").get_data(as_text=True)
    assert own["unit"] in everything and other["unit"] in everything


def test_it_lists_only_the_own_districts_units_and_findings(auth: Any) -> None:
    own, other = add_report(GULOU), add_report(TAIJIANG)
    client = auth.sign_in("gulou")
    home, ledger = client.get("/").get_data(as_text=True), client.get("/findings").get_data(as_text=True)
    assert own["unit"] in home and other["unit"] not in home
    assert f'/findings/{own["finding"]}"' in ledger and f'/findings/{other["finding"]}"' not in ledger


def test_it_refuses_a_form_post_without_a_csrf_token(auth: Any) -> None:
    objects = add_report(GULOU)
    client = auth.sign_in("gulou")
    answer = client.post(f"/findings/{objects['finding']}/actions", data={"action": "acknowledge"})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    page = client.get(f"/findings/{objects['finding']}").get_data(as_text=True)
    assert 'id="status">待整改' in page
