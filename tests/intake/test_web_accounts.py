"""Signing in: throttling in Redis, a fresh session, cookie flags, and the language remembered per user."""

from __future__ import annotations

from typing import Any

from shared import db
from shared.models import User
from tests.support.web import USERS, csrf_of


def attempt(client: Any, email: str, password: str) -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def test_it_locks_an_account_after_repeated_failures_even_with_the_right_password(app: Any) -> None:
    client = app.test_client()
    for _ in range(5):
        assert attempt(client, USERS["taijiang"], "guess").status_code == 401
    locked = attempt(client, USERS["taijiang"], "pilotwatch-demo")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    assert attempt(client, USERS["gulou"], "pilotwatch-demo").status_code == 302  # others are not locked


def test_it_starts_a_fresh_session_at_login_with_safe_cookie_flags(app: Any) -> None:
    client = app.test_client()
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    answer = attempt(client, USERS["gulou"], "pilotwatch-demo")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as after:
        assert "planted" not in after and after["user_id"]


def test_it_remembers_the_chosen_language_for_the_user(auth: Any) -> None:
    client = auth.sign_in("gulou")
    assert "问题台账" in client.get("/").get_data(as_text=True)
    client.post("/locale", data={"csrf_token": client.csrf, "locale": "en", "next": "/"})
    again = auth.sign_in("gulou")  # a new browser: the choice comes from the account
    page = again.get("/").get_data(as_text=True)
    assert "Problem ledger" in page and "Gulou" in page
    with db.transaction() as session:
        assert session.query(User).filter_by(email=USERS["gulou"]).one().locale == "en"
