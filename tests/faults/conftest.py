"""Fault tests: real processes, real Redis, real SMTP and HTTP servers, and something broken for real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.faults import GULOU, add_channels
from tests.support.processes import Stack
from tests.support.sinks import HttpSink, SmtpSink

# A message held by a killed worker comes back after the visibility timeout: short here, so the
# tests do not wait an hour (it must stay above the longest countdown, 11 s with these settings).
# A delivery claimed by a killed sender is sent again once DELIVERY_STALE_AFTER plus twice HTTP_TIMEOUT
# have passed (the sender may be talking to the server until then): 11 s here.
FAULT_ENV = {"BROKER_VISIBILITY_TIMEOUT": "12", "DELIVERY_STALE_AFTER": "3", "HTTP_TIMEOUT": "4"}


@pytest.fixture
def sinks(seeded: dict[str, str]) -> Iterator[tuple[SmtpSink, HttpSink]]:
    """An SMTP server and a webhook server, both channels of 鼓楼区."""
    smtp, hook = SmtpSink(), HttpSink()
    add_channels(GULOU, smtp.url(), hook.url())
    yield smtp, hook
    smtp.close()
    hook.close()


@pytest.fixture
def faulty(stack: Stack) -> Stack:
    stack.env.update(FAULT_ENV)
    return stack
