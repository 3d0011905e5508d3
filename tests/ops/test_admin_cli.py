"""The administration commands: users and tokens, units, rounds, channels and catalogues."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from ops.cli import cli
from services.intake import accounts
from shared import db
from shared.models import ApiToken, Channel, PilotUnit, User
from tests.support.reports import unit_of

GULOU = "350102"
EMAIL = "gulou-api@example.org"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def token_user(token: str) -> User | None:
    with db.transaction() as session:
        return accounts.user_for_token(session, token)


def test_it_disables_a_user_and_revokes_their_tokens(tokens: dict[str, str]) -> None:
    assert run("users", "disable", EMAIL).exit_code == 0
    assert token_user(tokens["gulou"]) is None
    with db.transaction() as session:
        assert accounts.check_password(session, EMAIL, "secret-pass") is None
    assert "disabled" in run("users", "list").output


def test_it_resets_a_password(tokens: dict[str, str]) -> None:
    result = run("users", "reset-password", EMAIL)
    new = result.output.strip().rsplit(" ", 1)[-1]
    with db.transaction() as session:
        assert accounts.check_password(session, EMAIL, "secret-pass") is None
        assert accounts.check_password(session, EMAIL, new) is not None
    assert run("users", "reset-password", EMAIL, "--password", "short").exit_code == 1


def test_it_rotates_a_token(tokens: dict[str, str]) -> None:
    result = run("users", "rotate-token", EMAIL)
    new = result.output.strip().splitlines()[-1]
    assert token_user(tokens["gulou"]) is None
    assert token_user(new).email == EMAIL  # type: ignore[union-attr]
    with db.transaction() as session:
        stored = session.scalars(select(ApiToken.digest)).all()
    assert accounts.digest(new) in stored and new not in stored  # only the digest is kept


def test_it_lists_and_revokes_tokens_by_id(tokens: dict[str, str]) -> None:
    listing = run("users", "tokens", EMAIL).output
    assert tokens["gulou"][:10] in listing and tokens["gulou"] not in listing
    token_id = listing.split()[0]
    assert run("users", "revoke-token", token_id).exit_code == 0
    assert token_user(tokens["gulou"]) is None
    assert token_user(tokens["taijiang"]) is not None
    assert "revoked" in run("users", "tokens", EMAIL).output
    assert run("users", "revoke-token", "99999").exit_code == 1


def test_it_lists_and_deactivates_units(seeded: dict[str, str]) -> None:
    code = unit_of(GULOU)
    listing = run("units", "list", "--district", GULOU).output
    assert code in listing and unit_of("350103") not in listing
    assert run("units", "deactivate", code).exit_code == 0
    assert code not in run("units", "list", "--district", GULOU).output
    assert "[停用]" in run("units", "list", "--district", GULOU, "--inactive").output
    with db.transaction() as session:
        assert session.scalar(select(PilotUnit.active).where(PilotUnit.credit_code == code)) is False


def test_it_lists_rounds_and_catalogues(seeded: dict[str, str]) -> None:
    rounds = run("rounds", "list").output.splitlines()
    assert [line.split()[1] for line in rounds] == ["open", "closed"]
    catalogues = run("catalogue", "list").output
    assert "2017-fz" in catalogues and rounds[0].split()[0] in catalogues


@pytest.mark.parametrize(
    "url, secret",
    [
        ("mailto://alerts:hunter2pass@smtp.example.com?to=clerk@example.org", "hunter2pass"),
        ("json://robot:s3cr3tw0rd@hooks.example.com/path", "s3cr3tw0rd"),
    ],
)
def test_it_lists_channels_with_secrets_masked(seeded: dict[str, str], url: str, secret: str) -> None:
    assert run("channels", "add", "--district", GULOU, url).exit_code == 0
    listing = run("channels", "list", "--district", GULOU).output
    assert GULOU in listing and url.split("@")[1].split("/")[0].split("?")[0] in listing
    assert secret not in listing


def test_it_removes_an_unused_channel(seeded: dict[str, str]) -> None:
    run("channels", "add", "--district", GULOU, "json://hooks.example.com/a")
    with db.transaction() as session:
        channel_id = session.scalar(select(Channel.id))
    assert run("channels", "remove", str(channel_id)).exit_code == 0
    assert "hooks.example.com" not in run("channels", "list").output
    assert run("channels", "remove", str(channel_id)).exit_code == 1
