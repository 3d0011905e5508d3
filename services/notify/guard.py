"""Connections that refuse to talk to an address a channel may not reach.

The administration checks a channel's host when it is added, but a name can resolve elsewhere
later (DNS rebinding), and a webhook can redirect. So every connection made for a mailto:// or
json:// channel is checked once it is open, against the address it actually reached, with the same
policy (shared.channels.refusal and CHANNEL_ALLOWED_INTERNAL); nothing is sent on a refused one.
"""

from __future__ import annotations

import smtplib
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from shared import config
from shared.channels import Allowed, refusal


class AddressRefused(Exception):
    """The connection reached an address channels may not reach; the message says which and why."""


def allowed() -> Allowed:
    return Allowed.of(config.current().channel_allowed_internal)


def check_peer(host: str, sock: socket.socket) -> None:
    """Close the socket and raise AddressRefused when its peer is not allowed for `host`."""
    problem = refusal(host, str(sock.getpeername()[0]), allowed())
    if problem:
        sock.close()
        raise AddressRefused(problem)


class CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        check_peer(self.host, sock)
        return sock


class CheckedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        check_peer(self.host, sock)
        return sock


class CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": CheckedHTTPConnectionPool,
            "https": CheckedHTTPSConnectionPool,
        }


def http_session() -> requests.Session:
    """A requests session whose every connection (redirects included) is checked."""
    session = requests.Session()
    adapter = CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class CheckedSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        check_peer(host, sock)
        return sock


class CheckedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)
        check_peer(host, sock)
        return sock
