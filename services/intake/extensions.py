"""Per-request database session and the Celery producer, held by the app."""

from __future__ import annotations

from celery import Celery
from flask import current_app, g
from sqlalchemy.orm import Session

from shared import db


def db_session() -> Session:
    if "db" not in g:
        g.db = db.session()
    return g.db


def close_db_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def celery() -> Celery:
    return current_app.extensions["celery"]
