"""A bare Flask app: `POST /hello` answers small JSON; `POST /enqueue` reads the body and sends one task.

Served by the same gunicorn command as the intake (`gunicorn bench.baseline.app:app`).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, request

from bench.baseline.pipeline import HOP_ONE
from bench.baseline.pipeline import app as celery

app = Flask(__name__)


@app.post("/hello")
def hello() -> tuple[dict[str, Any], int]:
    return {"hello": "world"}, 200


@app.post("/enqueue")
def enqueue() -> tuple[dict[str, Any], int]:
    body = request.get_json(force=True)
    event = {"event_id": uuid.uuid4().hex, "unit": str(body.get("unit", ""))}
    celery.send_task(HOP_ONE, args=[event])
    return {"id": event["event_id"], "status": "received"}, 202
