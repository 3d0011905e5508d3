"""Channel URLs carry secrets: pages show them masked (the administration page, the delivery log)."""

from __future__ import annotations

from typing import Any

import pytest

from shared import db
from shared.channels import mask
from shared.models import Alert, Channel, Delivery

SECRETS = {
    "wecombot://WECOMKEY0123456789": "WECOMKEY0123456789",
    "dingtalk://DINGTOKEN0123456789/DINGSECRET0123456789": "DINGSECRET0123456789",
    "json://hookuser:HOOKPASSWORD99@hooks.example.org/pilotwatch": "HOOKPASSWORD99",
    "mailtos://mailuser:MAILPASSWORD99@smtp.example.org?to=clerk@example.org": "MAILPASSWORD99",
}


@pytest.mark.parametrize(("url", "secret"), SECRETS.items())
def test_it_masks_the_secret_of_every_kind_of_channel(url: str, secret: str) -> None:
    assert secret.lower() not in mask(url).lower()
    assert mask(url).split("://")[0] == url.split("://")[0]


def test_it_never_shows_a_channels_secret_on_a_page(auth: Any) -> None:
    with db.transaction() as session:
        for url in SECRETS:
            channel = Channel(district_code="350102", kind=url.split("://")[0], url=url)
            session.add(channel)
            session.flush()
            alert = Alert(
                source_event_id=f"e-{channel.id}",
                district_code="350102",
                round_code="x",
                finding_ids=[],
                subject="s",
                content={},
            )
            session.add(alert)
            session.flush()
            session.add(Delivery(alert_id=alert.id, channel_id=channel.id, target=mask(url), status="failed"))
    pages = [
        auth.sign_in("admin").get("/admin/").get_data(as_text=True),
        auth.sign_in("supervisor").get("/deliveries?status=all").get_data(as_text=True),
    ]
    assert all("350102" in page or "wecombot" in page for page in pages)
    for secret in SECRETS.values():
        for page in pages:
            assert secret.lower() not in page.lower()
