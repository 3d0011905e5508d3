"""Channel URLs: every credential part masked, Apprise's own log lines kept out, and the addresses a
channel may reach (public ones; internal ones only when a setting lists them)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import config, text
from shared.channels import Allowed, InvalidChannel, check_destination, mask, parse, refusal

SECRETS = {
    "json://hooks.example.org/pilotwatch?+X-Api-Key=HEADERSECRET42": ["HEADERSECRET42"],
    "jsons://hooks.example.org/services/T0AAA1/B0BBB2/PATHTOKEN9x8y7z": [
        "T0AAA1",
        "B0BBB2",
        "PATHTOKEN9x8y7z",
    ],
    "json://hookuser:HOOKPASSWORD99@hooks.example.org:8443/hook?-token=QUERYSECRET77": [
        "HOOKPASSWORD99",
        "QUERYSECRET77",
    ],
    "mailtos://mailuser:MAILPASSWORD99@smtp.example.org?to=clerk@example.org": ["MAILPASSWORD99"],
    "mailtos://smtp.example.org?user=me&pass=PARAMPASSWORD1&to=clerk@example.org": ["PARAMPASSWORD1"],
    "wecombot://WECOMKEY0123456789": ["WECOMKEY0123456789", "COMKEY0123456"],
    "dingtalk://DINGSECRET0123456789@DINGTOKEN0123456789": ["DINGSECRET0123456789", "DINGTOKEN0123456789"],
    "dingtalk://DINGTOKEN0123456789/DINGSECRET0123456789": ["DINGSECRET0123456789", "DINGTOKEN0123456789"],
    "feishu://FEISHUTOKEN0123456789": ["FEISHUTOKEN0123456789", "ISHUTOKEN01234"],
    "lark://LARKTOKEN0123456789": ["LARKTOKEN0123456789"],
    "wecombot://key!!not-valid-SECRETLY": ["SECRETLY"],
}


@pytest.mark.parametrize(("url", "secrets"), SECRETS.items())
def test_it_masks_every_credential_part_of_every_kind(url: str, secrets: list[str]) -> None:
    shown = mask(url)
    assert shown.split("://")[0] == url.split("://")[0]
    for secret in secrets:
        assert secret.lower() not in shown.lower(), shown


def test_it_still_shows_what_tells_channels_apart() -> None:
    assert mask("json://hooks.example.org/pilotwatch") == "json://hooks.example.org/pilotwatch"
    shown = mask("mailto://u:p@smtp.example.org:2525?to=clerk@example.org&from=pw@example.org")
    assert shown == "mailto://u:****@smtp.example.org:2525?to=clerk@example.org&from=pw@example.org"


@given(st.text(max_size=60))
def test_it_masks_any_text_without_failing(text: str) -> None:
    for kind in ("json", "wecombot", "mailto", "nope"):
        assert mask(f"{kind}://{text}").startswith(f"{kind}://") or kind == "nope"


def test_it_keeps_apprises_own_log_lines_with_keys_out_of_ours(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(InvalidChannel):
            parse("wecombot://key!!WECOMSECRET")
    assert "WECOMSECRET" not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("apprise")]


PUBLIC = Allowed.of([])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "private or reserved"),
        ("100.64.0.1", "private or reserved"),
        ("fd00::1", "private"),
    ],
)
def test_it_refuses_internal_addresses_saying_why(address: str, kind: str) -> None:
    problem = refusal("hooks.example.org", address, PUBLIC)
    assert problem and "CHANNEL_ALLOWED_INTERNAL" in problem
    assert kind in text.say(problem, "en") and "不允许" in text.say(problem, "zh")


def test_it_lets_public_addresses_and_allowed_internal_ones_through() -> None:
    assert refusal("hooks.example.org", "203.0.114.10", PUBLIC) is None
    assert refusal("mail.office.local", "10.1.2.3", Allowed.of(["mail.office.local"])) is None
    assert refusal("anything", "10.1.2.3", Allowed.of(["10.1.0.0/16"])) is None
    assert refusal("anything", "10.2.0.1", Allowed.of(["10.1.0.0/16"]))


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:6379/",
        "json://localhost:6379/",
        "json://2130706433/",
        "json://[::1]:6379/",
        "jsons://169.254.169.254/latest/meta-data",
        "mailto://10.0.0.5:25?to=a@example.org&from=b@example.org",
        "mailto://smtp.example.org?smtp=127.0.0.1&to=a@example.org&from=b@example.org",
    ],
)
def test_it_refuses_a_channel_that_resolves_to_an_internal_address(url: str) -> None:
    with pytest.raises(InvalidChannel):
        check_destination(url, PUBLIC)


def test_it_checks_every_address_a_name_resolves_to() -> None:
    both = lambda _host, _port: ["203.0.114.10", "10.0.0.1"]  # noqa: E731 - a resolver answering two
    with pytest.raises(InvalidChannel, match="10.0.0.1"):
        check_destination("json://hooks.example.org/x", PUBLIC, resolver=both)


@pytest.mark.parametrize(("env", "loopback"), [("development", True), ("test", True), ("production", False)])
def test_it_allows_loopback_by_default_only_outside_production(env: str, loopback: bool) -> None:
    settings = config.load({"PILOTWATCH_ENV": env, "SECRET_KEY": "x" * 40})
    allowed = Allowed.of(settings.channel_allowed_internal)
    assert (refusal("127.0.0.1", "127.0.0.1", allowed) is None) is loopback
    assert refusal("10.0.0.1", "10.0.0.1", allowed) is not None


def test_it_refuses_a_malformed_allowed_list() -> None:
    with pytest.raises(config.ConfigError, match="CHANNEL_ALLOWED_INTERNAL"):
        config.load({"CHANNEL_ALLOWED_INTERNAL": "mail.office.local,http://x/"})
