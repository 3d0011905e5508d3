"""Security headers on every response of the intake service, pages and API alike."""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response

# The pages' only script is the inline handler that submits a filter form when its select changes;
# it is allowed by its hash, nothing else inline runs.
INLINE_HANDLERS = ("this.form.submit()",)


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-hashes' " + " ".join(_hash(s) for s in INLINE_HANDLERS),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
