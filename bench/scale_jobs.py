"""The round-wide jobs timed on the scale data set: a round evaluated again by the evaluation worker
`make run` starts (one process, the default concurrency), sent as `pilotwatch rounds reevaluate` sends
it; and the cohort-outlier job over the round, as its task runs it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from services.evaluation import outliers, reevaluate
from shared import clock, config, db, outbox
from shared.celery_app import make_celery
from shared.models import ReevaluationJob, Submission
from tests.support.processes import Stack


def reevaluation(env: dict[str, str], folder: Path, round_code: str, timeout: float = 900) -> dict[str, Any]:
    """Seconds from the job's chunks sent to its last chunk done, with the worker already up."""
    folder.mkdir(parents=True, exist_ok=True)
    stack = Stack(dict(env, LOG_LEVEL="INFO"), folder)  # the worker says " ready." at INFO
    try:
        stack.start("evaluation")
        chunk = config.current().reevaluate_chunk
        started = time.monotonic()
        with db.transaction() as session:
            job, requests = reevaluate.start(session, round_code, chunk)
            job_id, total = job.id, job.total
        outbox.publish(make_celery("bench"), requests)
        while True:
            with db.transaction() as session:
                found = session.get(ReevaluationJob, job_id)
                assert found is not None
                finished, done = found.finished_at is not None, found.done
            if finished:
                break
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"re-evaluation not finished in {timeout:g} s ({done}/{total} units)")
            time.sleep(0.1)
        seconds = time.monotonic() - started
    except Exception:
        print(stack.logs())
        raise
    finally:
        stack.stop()
    return {"round": round_code, "units": total, "chunk": chunk, "seconds": round(seconds, 2)}


def cohort_outliers(round_code: str) -> dict[str, Any]:
    """The outlier job's work over one round, in this process (as the task does it, in a transaction)."""
    with db.transaction() as session:
        units = session.scalar(
            select(func.count(func.distinct(Submission.unit_id))).where(Submission.round_code == round_code)
        )
    started = time.monotonic()
    with db.transaction() as session:
        from shared.models import Round

        round_ = session.get(Round, round_code)
        assert round_ is not None
        made = outliers.check_round(session, round_, clock.now())
    seconds = time.monotonic() - started
    return {"round": round_code, "units": units or 0, "events": len(made), "seconds": round(seconds, 2)}
