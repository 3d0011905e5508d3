"""A bare Flask app: `POST /hello` answers small JSON; `POST /enqueue` reads the body and sends one
task; `POST /report` does the intake's work with the least code: the API's marshmallow schema, one
INSERT of the report, and one task sent.

Served by the same gunicorn command as the intake (`gunicorn bench.baseline.app:app`). `/report` writes
to the `bare_reports` table of the configured database (`DATABASE_URL`), which the bench makes with
`create_table` before the app starts: a throwaway database of the same kind as our run's.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, request
from flask_babel import Babel
from marshmallow import ValidationError
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, func

from bench.baseline.pipeline import HOP_ONE
from bench.baseline.pipeline import app as celery
from services.intake.schemas import SubmissionSchema
from shared import db

app = Flask(__name__)
Babel(app)  # the schema's messages are translated when a report is refused
schema = SubmissionSchema()
reports = Table(
    "bare_reports",
    MetaData(),
    Column("id", String(32), primary_key=True),
    Column("unit", String(32), nullable=False),
    Column("round", String(16), nullable=False),
    Column("measures", JSON, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), server_default=func.now()),
)


def create_table(url: str) -> None:
    """The table `/report` writes to, on the database at `url`."""
    reports.metadata.create_all(db.engine_for(url))


@app.post("/hello")
def hello() -> tuple[dict[str, Any], int]:
    return {"hello": "world"}, 200


@app.post("/enqueue")
def enqueue() -> tuple[dict[str, Any], int]:
    body = request.get_json(force=True)
    event = {"event_id": uuid.uuid4().hex, "unit": str(body.get("unit", ""))}
    celery.send_task(HOP_ONE, args=[event])
    return {"id": event["event_id"], "status": "received"}, 202


@app.post("/report")
def report() -> tuple[dict[str, Any], int]:
    try:
        data = schema.load(request.get_json(force=True))
    except ValidationError as exc:
        return {"errors": exc.messages}, 422
    row_id = uuid.uuid4().hex
    with db.engine().begin() as conn:
        conn.execute(reports.insert().values(id=row_id, **data))
    celery.send_task(HOP_ONE, args=[{"event_id": row_id, "unit": data["unit"]}])
    return {"id": row_id, "status": "received"}, 202
