"""Helpers for the web page tests: a signed-in test client, the CSRF token of a page."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "pilotwatch-demo"
USERS = {"gulou": "gulou@pilotwatch.example", "taijiang": "taijiang@pilotwatch.example",
         "supervisor": "supervisor@pilotwatch.example", "admin": "admin@pilotwatch.example"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(app: Any, who: str) -> Any:
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"csrf_token": token, "email": USERS[who], "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    client.csrf = csrf_of(client.get("/").get_data(as_text=True))
    return client
