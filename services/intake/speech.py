"""The language a request is answered in, for text made outside it (`shared.text.Text`, a stored
Chinese comment): the page's language, the API's Accept-Language, Chinese for the CLI."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale

from shared import text


def locale() -> str:
    return "en" if has_request_context() and str(get_locale()) == "en" else "zh"


def say(value: object) -> str:
    return text.say(value, locale())
