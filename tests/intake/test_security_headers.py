"""Security headers on every response: pages, the API, errors, files."""

from __future__ import annotations

from typing import Any

import pytest

PATHS = [
    "/login",
    "/",
    "/api/v1/openapi.json",
    "/api/v1/units",
    "/api/v1/no-such-thing",
    "/healthz",
    "/nowhere",
]


@pytest.mark.parametrize("path", PATHS)
def test_it_sends_the_security_headers_on_every_response(client: Any, path: str) -> None:
    answer = client.get(path)
    csp = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_it_allows_no_inline_script_but_the_filter_forms_handler(client: Any) -> None:
    csp = client.get("/login").headers["Content-Security-Policy"]
    script = next(part for part in csp.split("; ") if part.startswith("script-src"))
    assert "'unsafe-inline'" not in script and script.count("'sha256-") == 1
