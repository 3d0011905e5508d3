"""Who is calling: a bearer token for the API, a session for the browser."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for
from flask_smorest import abort as api_abort

from services.intake import accounts
from services.intake.extensions import db_session
from shared.models import User


def authenticate_bearer() -> None:
    """Before every API request: a valid `Authorization: Bearer` token, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        api_abort(401, message="需要 API 令牌 / an API token is required (Authorization: Bearer ...)")
    user = accounts.user_for_token(db_session(), token.strip())
    if user is None:
        api_abort(401, message="API 令牌无效或已撤销 / the API token is invalid or revoked")
    g.user = user


def current_user() -> User | None:
    if "user" in g:
        return g.user
    user_id = session.get("user_id")
    user = db_session().get(User, user_id) if user_id else None
    g.user = user if user is not None and user.active else None
    return g.user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
