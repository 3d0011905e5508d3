"""At send time the notifier checks the address it actually connected to: a channel that reached an
allowed address when it was added but points inside the office now (DNS rebinding, a redirect, a
setting changed) gets nothing sent to it, and the failure is permanent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ops.redis_server import free_port
from services.notify.messages import channel_test_message
from services.notify.registry import transport_for
from services.notify.transports import TransportError
from shared import config
from tests.support.sinks import HttpSink, SmtpSink


@pytest.fixture
def only_other_networks(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Loopback is no longer allowed (as in production): only an unrelated internal network is."""
    monkeypatch.setenv("CHANNEL_ALLOWED_INTERNAL", "10.99.0.0/16")
    config.reset()
    yield
    config.reset()


def test_it_posts_nothing_to_a_webhook_that_now_resolves_inside(only_other_networks: None) -> None:
    hook = HttpSink()
    try:
        with pytest.raises(TransportError) as refused:
            transport_for(hook.url(), 5).notify(channel_test_message(), key="k")
        assert refused.value.permanent and "本机回环地址" in refused.value.message
        assert hook.requests == []
    finally:
        hook.close()


def test_it_sends_no_mail_to_a_server_that_now_resolves_inside(only_other_networks: None) -> None:
    smtp = SmtpSink()
    try:
        with pytest.raises(TransportError) as refused:
            transport_for(smtp.url(), 5).notify(channel_test_message(), key="k")
        assert refused.value.permanent and "CHANNEL_ALLOWED_INTERNAL" in refused.value.message
        assert smtp.messages == []
    finally:
        smtp.close()


class Redirector:
    """A webhook server that answers every POST with a 307 to another address."""

    def __init__(self, target: str):
        self.posts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts += 1
                self.send_response(307)
                self.send_header("Location", target)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_it_follows_no_redirect_to_an_address_that_is_not_allowed(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The office allows its webhook host by name; the webhook redirects to the loopback address."""
    inside = HttpSink()
    redirector = Redirector(f"http://127.0.0.1:{inside.port}/internal")
    monkeypatch.setenv("CHANNEL_ALLOWED_INTERNAL", "localhost")
    config.reset()
    try:
        with pytest.raises(TransportError) as refused:
            transport_for(f"json://localhost:{redirector.port}/hook", 5).notify(channel_test_message())
        assert refused.value.permanent and redirector.posts == 1 and inside.requests == []
    finally:
        redirector.close()
        inside.close()
        config.reset()


def test_it_still_sends_to_loopback_where_the_setting_allows_it(env: dict[str, str]) -> None:
    hook = HttpSink()
    try:
        transport_for(hook.url(), 5).notify(channel_test_message(), key="k")
        assert json.loads(hook.requests[0]["body"])["title"]
    finally:
        hook.close()
