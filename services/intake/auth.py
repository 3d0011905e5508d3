"""Who is calling: a bearer token for the API, a session for the browser."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_smorest import abort as api_abort

from services.intake import accounts
from services.intake.extensions import db_session
from shared.models import User

# How often a busy session's "last seen" time is written back (each write re-sends the cookie anyway;
# this keeps the session from changing on every request).
SEEN_RESOLUTION = 60


def authenticate_bearer() -> None:
    """Before every API request: a valid `Authorization: Bearer` token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        api_abort(401, message=_("需要 API 令牌"))
    user = accounts.user_for_token(db_session(), token.strip())
    if user is None:
        api_abort(401, message=_("API 令牌无效或已撤销"))
    g.user = user


def safe_next(target: str | None) -> str:
    """A redirect target from a `next` parameter, if it is a path on this site; home otherwise.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so `/\\t/evil` or
    `/\\evil` would leave the site: anything but plain printable ASCII is refused."""
    home = url_for("web.home")
    if not target or not all(" " < ch < "\x7f" for ch in target) or "\\" in target:
        return home
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return home
    return target


def session_expired(started: float, seen: float, now: float, lifetime: float, idle: float) -> bool:
    """Whether a session is past its lifetime, or was idle too long (times in seconds)."""
    return now - started >= lifetime or now - seen >= idle


def start_session(user: User) -> None:
    """A fresh session for a user who just signed in: nothing from before survives."""
    now = time.time()
    session.clear()
    session.permanent = True
    session.update(
        user_id=user.id,
        sid=secrets.token_hex(16),
        stamp=accounts.session_stamp(user),
        started=now,
        seen=now,
    )


def session_user() -> User | None:
    """The session's user while the session is still valid: not ended server-side (logout, new
    password, disabled, another role or district), not past its lifetime, not idle too long."""
    user_id = session.get("user_id")
    if not user_id:
        return None
    user = db_session().get(User, user_id)
    now, settings = time.time(), current_app.config
    valid = (
        user is not None
        and user.active
        and session.get("stamp") == accounts.session_stamp(user)
        and not session_expired(
            float(session.get("started", 0)),
            float(session.get("seen", 0)),
            now,
            settings["PERMANENT_SESSION_LIFETIME"].total_seconds(),
            settings["SESSION_IDLE_TIMEOUT"],
        )
    )
    if not valid:
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        return None
    if now - float(session["seen"]) >= SEEN_RESOLUTION:
        session["seen"] = now
    return user


def current_user() -> User | None:
    if "user" not in g:
        g.user = session_user()
    return g.user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
