"""The language a request is answered in, for text made outside it (`shared.text.Text`, a stored
Chinese comment): the page's language, the API's Accept-Language, Chinese for the CLI; and for work
done for a person outside a request (an Excel upload checked on the intake worker), the language that
person asked in, set with `speaking()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import flask_babel
from babel.support import Translations
from flask import has_request_context

from shared import text

TRANSLATIONS = Path(__file__).parent / "translations"
_spoken: ContextVar[str | None] = ContextVar("spoken", default=None)


def locale() -> str:
    spoken = _spoken.get()
    if spoken is not None:
        return spoken
    return "en" if has_request_context() and str(flask_babel.get_locale()) == "en" else "zh"


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Messages made inside are in `language` (zh or en), request or not."""
    token = _spoken.set("en" if language == "en" else "zh")
    try:
        yield
    finally:
        _spoken.reset(token)


@cache
def _catalogue(language: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [language])


def gettext(message: str, **values: Any) -> str:
    """Flask-Babel's gettext in a request; the same catalogue by hand outside one (a worker)."""
    if has_request_context() and _spoken.get() is None:
        return flask_babel.gettext(message, **values)
    said = _catalogue("en").gettext(message) if locale() == "en" else message
    return said % values if values else said


def say(value: object) -> str:
    return text.say(value, locale())
