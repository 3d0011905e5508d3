"""JSON in and out of the intake, held to the standard (RFC 8259) whatever a caller sends.

In: a body nested too deeply or with an integer too long to convert is a 400 with a message,
never a 500 (Python's decoder raises RecursionError and ValueError for those). `NaN`, `Infinity`
and numbers too large for a float still decode, so the schema can answer 422 on the field.

Out: no `NaN` or `Infinity` token and no lone surrogate ever leaves: they are written as `null`
and U+FFFD. Strict parsers (and the browser's `JSON.parse` for `NaN`) refuse both.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

import flask_smorest
from flask import current_app
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_smorest import abort
from webargs.flaskparser import FlaskParser, is_json_request

# Why a body is refused, kept as reasons and put into words when the answer is written.
TOO_DEEP = "too_deep"
TOO_LONG = "too_long"


def refusal(reason: str) -> str:
    if reason == TOO_DEEP:
        return _("JSON 嵌套过深")
    if reason == TOO_LONG:
        return _("JSON 中的数字位数过多")
    return _("请求体不是有效的 JSON")


def decode(text: str | bytes) -> Any:
    """Python's own decoder, with its crashes on hostile input turned into ValueError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise ValueError(TOO_LONG) from None


def standard(value: Any) -> Any:
    """`value` with every non-finite float as None and every lone surrogate as U+FFFD."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if encodable(value) else without_surrogates(value)
    if isinstance(value, dict):
        return {standard(k): standard(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [standard(v) for v in value]
    return value


SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    return SURROGATE.sub("\ufffd", text)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return decode(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        try:
            text = json.dumps(obj, allow_nan=False, **kwargs)
        except ValueError:  # a NaN or an infinity
            return json.dumps(standard(obj), allow_nan=False, **kwargs)
        # With ensure_ascii every surrogate is written as an escape; only then look closer.
        if "\\ud" in text and not encodable(json.dumps(obj, allow_nan=False, ensure_ascii=False)):
            return json.dumps(standard(obj), allow_nan=False, **kwargs)
        return text


class StrictParser(FlaskParser):
    """flask-smorest's argument parser, reading JSON bodies through the app's strict decoder."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return super()._raw_load_json(req)
        data = req.get_data(cache=True)
        if not data:
            raise json.JSONDecodeError("empty", "", 0)
        try:
            return current_app.json.loads(data)
        except json.JSONDecodeError:
            raise
        except UnicodeDecodeError:
            raise
        except ValueError as exc:  # too deep, or an integer with more digits than Python converts
            raise json.JSONDecodeError(str(exc), "?", 0) from None

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        message = refusal(reason)
        abort(400, message=message, messages={"json": [message]})


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprints: flask-smorest's, with the strict JSON parser."""

    ARGUMENTS_PARSER = StrictParser()
