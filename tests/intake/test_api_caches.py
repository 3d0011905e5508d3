"""What the intake keeps per process (a token's user, a round, a catalogue by version) is never served
after it changed: a change in the same process is seen at once, one made by another process on the
next request, and one nobody announced (raw SQL) within CACHE_SECONDS."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from services.intake import accounts
from shared import caches, config, db
from shared.catalogue import Catalogue, default_file, read_file
from shared.catalogue import store as catalogues
from shared.models import ApiToken, Round
from tests.support.processes import ROOT, Stack, json_request
from tests.support.reports import clean_report, open_round, unit_of

SUBMISSIONS = "/api/v1/submissions"


def post(client: Any, body: dict[str, Any], token: str) -> Any:
    return client.post(SUBMISSIONS, json=body, headers={"Authorization": f"Bearer {token}"})


def elsewhere(env: dict[str, str], code: str) -> None:
    """Run `code` in another Python process against the same database and Redis."""
    prelude = "from shared import db\nfrom services.intake import accounts\nfrom shared.models import *\n"
    subprocess.run([sys.executable, "-c", prelude + code], env=env, cwd=ROOT, check=True, timeout=60)


def token_id(token: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(ApiToken.id).where(ApiToken.digest == accounts.digest(token))).one()


@pytest.fixture
def report(tokens: dict[str, str], catalogue: Catalogue) -> dict[str, Any]:
    return clean_report(catalogue, unit_of("350102"), open_round())


def test_a_token_revoked_in_the_same_process_is_refused_at_once(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    with db.transaction() as session:
        accounts.revoke(session, token_id(tokens["gulou"]))
    assert post(client, report, tokens["gulou"]).status_code == 401
    assert post(client, report, tokens["supervisor"]).status_code == 202


def test_a_deleted_token_and_a_disabled_user_are_refused_at_once(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    for name in ("gulou", "supervisor"):
        assert post(client, report, tokens[name]).status_code == 202
    with db.transaction() as session:
        session.delete(session.get(ApiToken, token_id(tokens["gulou"])))
        user = session.get(ApiToken, token_id(tokens["supervisor"])).user
        accounts.set_active(session, user, False, None)
    assert post(client, report, tokens["gulou"]).status_code == 401
    assert post(client, report, tokens["supervisor"]).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_on_the_next_request(
    client: Any, env: dict[str, str], tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    elsewhere(
        env,
        f"with db.transaction() as s:\n    accounts.revoke(s, {token_id(tokens['gulou'])})\n",
    )
    assert post(client, report, tokens["gulou"]).status_code == 401


def test_a_change_nobody_announced_is_seen_within_cache_seconds(
    client: Any, tokens: dict[str, str], report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CACHE_SECONDS", "1")
    config.reset()
    assert post(client, report, tokens["gulou"]).status_code == 202
    with db.engine().begin() as conn:  # plain SQL: no session, so no process hears of it
        conn.execute(text("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP"))
    assert post(client, report, tokens["gulou"]).status_code == 202  # still the cached answer
    time.sleep(1.1)
    assert post(client, report, tokens["gulou"]).status_code == 401


def test_a_round_closed_by_another_process_or_this_one_refuses_reports(
    client: Any, env: dict[str, str], tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    elsewhere(
        env,
        f"with db.transaction() as s:\n    s.get(Round, {report['round']!r}).status = 'closed'\n",
    )
    closed = post(client, report, tokens["gulou"])
    assert closed.status_code == 422 and "round" in closed.get_json()["errors"]["json"]
    with db.transaction() as session:
        session.get(Round, report["round"]).status = "open"
    assert post(client, report, tokens["gulou"]).status_code == 202


def test_a_new_catalogue_version_of_the_round_is_used_at_once(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    data = read_file(default_file())
    for indicator in data["indicators"]:
        if indicator["code"] == "workers_total":
            indicator["max"] = 10  # the report says 800
    data["version"] = "2099.1"
    with db.transaction() as session:
        catalogues.save(session, data)
        session.get(Round, report["round"]).catalogue_version = "2099.1"
    answer = post(client, report, tokens["gulou"])
    assert answer.status_code == 422
    assert "workers_total" in answer.get_json()["errors"]["json"]["indicators"]


def test_a_catalogue_version_reloaded_by_another_process_is_used_on_the_next_request(
    client: Any, env: dict[str, str], tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    with db.transaction() as session:
        version = session.get(Round, report["round"]).catalogue_version
    elsewhere(
        env,
        "from shared.catalogue import default_file, read_file, store\n"
        "data = read_file(default_file())\n"
        f"data['version'] = {version!r}\n"
        "[i.update(max=10) for i in data['indicators'] if i['code'] == 'workers_total']\n"
        "with db.transaction() as s:\n    store.save(s, data)\n",
    )
    answer = post(client, report, tokens["gulou"])
    assert answer.status_code == 422
    assert "workers_total" in answer.get_json()["errors"]["json"]["indicators"]


def test_every_gunicorn_worker_refuses_a_token_revoked_elsewhere(
    stack: Stack, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    stack.start("intake")
    url = stack.url + SUBMISSIONS
    for _ in range(6):  # both workers have looked the token up
        assert json_request("POST", url, report, tokens["gulou"])[0] == 202
    with db.transaction() as session:
        accounts.revoke(session, token_id(tokens["gulou"]))
    assert {json_request("POST", url, report, tokens["gulou"])[0] for _ in range(6)} == {401}


def test_a_submission_leaves_the_caches_as_they_are(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    settings = config.current()
    generation = caches.redis_client(settings).get(caches.generation_key(settings))
    for _ in range(3):
        assert post(client, report, tokens["gulou"]).status_code == 202
    assert caches.redis_client(settings).get(caches.generation_key(settings)) == generation


def test_a_unit_deactivated_or_moved_by_another_process_is_seen_on_the_next_request(
    client: Any, env: dict[str, str], tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["gulou"]).status_code == 202
    unit = f"s.scalars(select(PilotUnit).where(PilotUnit.credit_code == {report['unit']!r})).one()"
    elsewhere(
        env,
        f"from sqlalchemy import select\nwith db.transaction() as s:\n    {unit}.district_code = '350103'\n",
    )
    assert post(client, report, tokens["gulou"]).status_code == 403
    elsewhere(env, f"from sqlalchemy import select\nwith db.transaction() as s:\n    {unit}.active = False\n")
    gone = post(client, report, tokens["supervisor"])
    assert gone.status_code == 422 and "unit" in gone.get_json()["errors"]["json"]
