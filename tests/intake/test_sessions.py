"""Sessions end when they should: redirects stay on the site, a copied cookie dies with logout, a new
password, a disabled account or another role; the lifetime and the idle timeout are settings; lock-outs
hit the attacker's address, not the owner; unknown emails cost as much time as known ones."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from ops.cli import cli
from services.intake import accounts
from services.intake.app import create_app
from shared import config, db
from shared.models import User
from tests.support.web import PASSWORD, USERS, csrf_of

EVIL = ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example"]


def attempt(client: Any, email: str, password: str, address: str = "127.0.0.1", next_: str = "") -> Any:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login" + (f"?next={next_}" if next_ else ""),
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def signed_in(client: Any) -> bool:
    return client.get("/").status_code == 200


def copy_of(client: Any, app: Any) -> Any:
    """Another browser holding a copy of this browser's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def the_user(session: Any, who: str) -> User:
    return session.query(User).filter_by(email=USERS[who]).one()


@pytest.mark.parametrize("target", EVIL)
def test_it_sends_a_login_with_an_outside_next_home(app: Any, target: str) -> None:
    from urllib.parse import quote

    answer = attempt(app.test_client(), USERS["gulou"], PASSWORD, next_=quote(target))
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_it_follows_a_next_that_is_a_path_on_the_site(app: Any) -> None:
    answer = attempt(app.test_client(), USERS["gulou"], PASSWORD, next_="/findings%3Fround%3D2026H2")
    assert answer.headers["Location"] == "/findings?round=2026H2"


@pytest.mark.parametrize("target", EVIL)
def test_it_sends_a_language_switch_with_an_outside_next_home(auth: Any, target: str) -> None:
    client = auth.sign_in("gulou")
    answer = client.post("/locale", data={"csrf_token": client.csrf, "locale": "en", "next": target})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_it_ends_every_copy_of_the_session_at_logout(app: Any, auth: Any) -> None:
    client = auth.sign_in("gulou")
    stolen = copy_of(client, app)
    assert signed_in(stolen)
    client.post("/logout", data={"csrf_token": client.csrf})
    assert not signed_in(stolen) and not signed_in(client)
    assert signed_in(auth.sign_in("gulou"))  # signing in again works


def test_it_ends_the_sessions_of_a_user_whose_password_is_reset(app: Any, auth: Any) -> None:
    client = auth.sign_in("gulou")
    assert CliRunner().invoke(cli, ["users", "reset-password", USERS["gulou"]]).exit_code == 0
    assert not signed_in(client)


def test_it_ends_the_sessions_of_a_disabled_user_even_after_they_are_enabled_again(auth: Any) -> None:
    client = auth.sign_in("gulou")
    with db.transaction() as session:
        accounts.set_active(session, the_user(session, "gulou"), False, None)
    with db.transaction() as session:
        accounts.set_active(session, the_user(session, "gulou"), True, None)
    assert not signed_in(client)


def test_it_ends_the_sessions_of_a_user_moved_to_another_role_or_district(auth: Any) -> None:
    client = auth.sign_in("gulou")
    result = CliRunner().invoke(
        cli, ["users", "set-role", USERS["gulou"], "--role", "district", "--district", "350103"]
    )
    assert result.exit_code == 0, result.output
    assert not signed_in(client)


def test_it_gives_the_session_cookie_the_configured_lifetime(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.intake.app import create_app
    from shared import config

    monkeypatch.setenv("SESSION_LIFETIME", "3600")
    config.reset()
    client = create_app(test_config={"TESTING": True}).test_client()
    answer = attempt(client, USERS["gulou"], PASSWORD)
    expires = answer.headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
    left = (parsedate_to_datetime(expires) - datetime.now(UTC)).total_seconds()
    assert 3500 < left <= 3600


def test_it_defaults_to_an_eight_hour_session(app: Any) -> None:
    answer = attempt(app.test_client(), USERS["gulou"], PASSWORD)
    expires = answer.headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
    left = (parsedate_to_datetime(expires) - datetime.now(UTC)).total_seconds()
    assert 8 * 3600 - 100 < left <= 8 * 3600


@pytest.mark.parametrize(("started_ago", "seen_ago"), [(8 * 3600 + 1, 10), (3 * 3600, 2 * 3600 + 1)])
def test_it_ends_a_session_past_its_lifetime_or_idle_too_long(
    auth: Any, started_ago: float, seen_ago: float
) -> None:
    client = auth.sign_in("gulou")
    with client.session_transaction() as stored:
        stored["started"] = time.time() - started_ago
        stored["seen"] = time.time() - seen_ago
    assert not signed_in(client)


def test_it_lets_the_owner_in_from_another_address_while_an_attacker_is_locked_out(app: Any) -> None:
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(5):
        assert attempt(attacker, USERS["taijiang"], "guess", "203.0.113.9").status_code == 401
    assert attempt(attacker, USERS["taijiang"], PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(owner, USERS["taijiang"], PASSWORD, "198.51.100.7").status_code == 302


def test_it_locks_out_an_address_that_tries_many_accounts(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client()
    for number in range(50):
        attempt(client, f"nobody{number}@example.org", "guess", "203.0.113.10")
    assert attempt(client, USERS["gulou"], PASSWORD, "203.0.113.10").status_code == 429
    assert attempt(client, USERS["gulou"], PASSWORD, "203.0.113.11").status_code == 302


def behind_a_proxy(monkeypatch: pytest.MonkeyPatch, hops: int) -> Any:
    """The intake with PROXY_HOPS set, every request reaching it from the proxy's address."""
    monkeypatch.setenv("PROXY_HOPS", str(hops))
    config.reset()
    application = create_app(test_config={"TESTING": True})
    return application


def through_the_proxy(client: Any, email: str, password: str, address: str) -> Any:
    token = csrf_of(client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        # the proxy speaks HTTPS to the browser: a form posted over HTTPS must come from this site
        headers={
            "X-Forwarded-For": address,
            "X-Forwarded-Proto": "https",
            "Referer": "https://localhost/login",
        },
    )


@pytest.mark.usefixtures("seeded")
def test_behind_a_proxy_it_locks_out_the_attackers_address_not_the_proxys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = behind_a_proxy(monkeypatch, 1)
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(5):
        assert through_the_proxy(attacker, USERS["taijiang"], "guess", "203.0.113.9").status_code == 401
    assert through_the_proxy(attacker, USERS["taijiang"], PASSWORD, "203.0.113.9").status_code == 429
    assert through_the_proxy(owner, USERS["taijiang"], PASSWORD, "198.51.100.7").status_code == 302


@pytest.mark.usefixtures("seeded")
def test_without_proxy_hops_a_forwarded_address_is_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    app = behind_a_proxy(monkeypatch, 0)
    attacker = app.test_client()
    for number in range(5):  # each attempt claims another address
        assert (
            through_the_proxy(attacker, USERS["taijiang"], "guess", f"203.0.113.{number}").status_code == 401
        )
    assert through_the_proxy(attacker, USERS["taijiang"], PASSWORD, "198.51.100.7").status_code == 429


def test_it_unlocks_an_account_from_the_command_line(app: Any) -> None:
    client = app.test_client()
    for _ in range(5):
        attempt(client, USERS["taijiang"], "guess")
    assert attempt(client, USERS["taijiang"], PASSWORD).status_code == 429
    result = CliRunner().invoke(cli, ["users", "unlock", USERS["taijiang"]])
    assert result.exit_code == 0 and "unlocked" in result.output
    assert attempt(client, USERS["taijiang"], PASSWORD).status_code == 302


def test_it_takes_as_long_for_an_unknown_email_as_for_a_known_one(seeded: dict[str, str]) -> None:
    # The two kinds of attempt alternate, so a busy machine (tests run in parallel) slows both alike.
    taken: dict[str, list[float]] = {USERS["gulou"]: [], "nobody@example.org": []}
    with db.transaction() as session:
        for _ in range(15):
            for email, times in taken.items():
                started = time.perf_counter()
                assert accounts.check_password(session, email, "wrong-password") is None
                times.append(time.perf_counter() - started)
    known, unknown = (statistics.median(times) for times in taken.values())
    assert abs(known - unknown) <= 0.2 * max(known, unknown), (known, unknown)


def test_it_hashes_the_dummy_like_real_passwords() -> None:
    method = generate_password_hash("x").split("$")[0]
    assert accounts.dummy_hash().split("$")[0] == method


@pytest.mark.parametrize(
    ("password", "rule"), [("short-one", "too_short"), ("qwertyuiop", "common"), ("Password123", "common")]
)
def test_it_refuses_a_weak_password_from_the_command_line(tokens: Any, password: str, rule: str) -> None:
    result = CliRunner().invoke(cli, ["users", "reset-password", USERS["gulou"], "--password", password])
    assert result.exit_code == 1
    assert ("至少需要 10 个字符" if rule == "too_short" else "过于常见") in result.output
    result = CliRunner().invoke(
        cli, ["users", "create", "--role", "supervisor", "--email", "new@example.org", "--password", password]
    )
    assert result.exit_code == 1


def test_it_keeps_the_demo_password_acceptable() -> None:
    accounts.check_password_rules(PASSWORD, USERS["gulou"])


@pytest.mark.parametrize(
    ("locale", "password", "message"),
    [
        ("zh", "short", "密码至少需要 10 个字符"),
        ("en", "short", "The password needs at least 10 characters"),
        ("en", "1234567890", "This password is too common"),
    ],
)
def test_it_refuses_a_weak_password_on_the_admin_page_in_the_users_language(
    auth: Any, locale: str, password: str, message: str
) -> None:
    admin = auth.sign_in("admin")
    admin.post("/locale", data={"csrf_token": admin.csrf, "locale": locale, "next": "/admin/"})
    answer = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf,
            "email": "weak@example.org",
            "role": "supervisor",
            "password": password,
        },
        follow_redirects=True,
    )
    assert message in answer.get_data(as_text=True)
    with db.transaction() as session:
        assert session.query(User).filter_by(email="weak@example.org").count() == 0
