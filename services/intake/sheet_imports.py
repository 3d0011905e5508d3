"""A filled-in report template, checked and stored as a job on the intake's worker so that no request
waits for it (the pattern of documents.py): `request` keeps the file and records the job with its
SheetUploaded event; the worker's task calls `run`, which reads the rows as a stream, checks each one
as the API would, and either stores every report through `reports.submit_many` or hands the clerk's
workbook back with each problem marked. The page that waits shows `progress`.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.intake import reports, sheet_checks, sheet_errors, sheets, speech
from shared import clock, config, db, events, labels, outbox, private
from shared.catalogue import store as catalogues
from shared.models import OutboxEvent, Round, SheetImport, Submission, User

log = logging.getLogger(__name__)
ROUND_CLOSED = ("{round}督导已结束，不再接收报送", "The {round} round is closed and takes no more reports")
ROUND_UNKNOWN = ("请选择本轮督导", "Choose an open round")
LISTED = 200  # problems the page lists; the marked workbook has them all
NO_ROWS = ("文件中没有填写任何单位的数据", "The file reports no unit: every row is blank")


def open_round(session: Session, code: str, locale: str) -> Round:
    """The open round an upload names; a closed or unknown one is refused, never swapped for another."""
    round_ = session.get(Round, code[:16]) if code else None
    if round_ is None:
        raise sheets.SheetError(sheets.say(ROUND_UNKNOWN, locale))
    if round_.status != "open":
        raise sheets.SheetError(
            sheets.say(ROUND_CLOSED, locale, round=labels.round_name(round_.code, locale))
        )
    return round_


def upload_path(import_id: str, annotated: bool = False) -> Path:
    folder = config.current().upload_dir / "sheets"
    return folder / f"{import_id}{'-marked' if annotated else ''}.xlsx"


def request(
    session: Session,
    user: User,
    round_code: str,
    filename: str,
    content: bytes,
    locale: str,
    now: datetime,
) -> tuple[SheetImport, list[OutboxEvent]]:
    """Take an upload for the worker: the round must be open and the file a workbook that is no zip
    bomb (both answered at once); the rows are read by the worker. The caller commits, then publishes."""
    round_ = open_round(session, round_code, locale)
    sheets.refuse_bombs(io.BytesIO(content), locale)
    job = SheetImport(
        round_code=round_.code,
        filename=filename[:200],
        locale=locale,
        state="queued",
        requested_by=user.id,
        requested_at=now,
    )
    session.add(job)
    session.flush()
    path = upload_path(job.id)
    private.make_folder(path.parent)  # a district's figures: kept like the uploads, 0600 in 0700 folders
    private.write_bytes(path, content)
    return job, [outbox.add(session, events.SheetUploaded, import_id=job.id)]


def progress(import_id: str, percent: int, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(
            update(SheetImport).where(SheetImport.id == import_id).values(progress=percent, **values)
        )


def finish(import_id: str, state: str, **values: Any) -> str:
    progress(import_id, 100, state=state, finished_at=clock.now(), **values)
    return state


def run(import_id: str, celery: Celery) -> str:
    """Check and store the upload (once: a redelivered event finds it finished) and return its state:
    `done` (every report stored), `refused` (problems marked, nothing stored) or `failed` (the file
    could not be read, has too many rows, or its round closed meanwhile)."""
    with db.transaction() as session:
        job = session.get(SheetImport, import_id)
        if job is None:
            raise LookupError(f"no sheet import {import_id}")
        if job.state in ("done", "refused", "failed"):
            return job.state
        round_code, locale, user_id = job.round_code, job.locale, job.requested_by
    progress(import_id, 5, state="running")
    content = upload_path(import_id).read_bytes()
    try:
        with db.transaction() as session:
            open_round(session, round_code, locale)
        found = sheets.read_rows(io.BytesIO(content), locale=locale)
    except sheets.SheetError as exc:
        return finish(import_id, "failed", error=str(exc))
    if not found.rows:
        return finish(import_id, "failed", error=sheets.say(NO_ROWS, locale))
    progress(import_id, 10, rows=len(found.rows))
    session = db.session()  # not db.transaction(): submit_many commits (and retries) on its own
    try:
        with speech.speaking(locale):  # the checks' own messages in the clerk's language
            return check_and_store(session, celery, import_id, user_id, round_code, content, found, locale)
    finally:
        session.close()


def check_and_store(
    session: Session,
    celery: Celery,
    import_id: str,
    user_id: int | None,
    round_code: str,
    content: bytes,
    found: sheets.SheetRows,
    locale: str,
) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    round_ = session.get(Round, round_code)
    if user is None or round_ is None:
        return finish(import_id, "failed", error="the user or the round is gone")
    catalogue = catalogues.get(session, round_.catalogue_version)
    total = len(found.rows)
    good, problems = sheet_checks.check_rows(
        session,
        user,
        found.rows,
        round_code,
        catalogue,
        lambda done: progress(import_id, 10 + 70 * done // total),
    )
    names = {number: values.get("name", "") for number, values in found.rows}
    problems += [
        sheet_checks.Problem(
            number, "", key, sheet_checks.bilingual(sheet_checks.UNCOMPUTED), names.get(number, "")
        )
        for number, key in found.uncomputed
    ]
    if problems:
        problems.sort(key=lambda p: (p.row, found.keys.index(p.key) if p.key in found.keys else 0))
        cols = {column.key: column for column in sheets.columns(catalogue)}
        rows = sheet_errors.listed(problems, found.keys, cols, locale)
        progress(import_id, 85)
        marked = sheet_errors.annotate(content, rows, locale)
        private.write_bytes(upload_path(import_id, annotated=True), marked)
        return finish(import_id, "refused", problems=rows[:LISTED], problem_count=len(rows))
    progress(import_id, 85)
    # End the checks' read transaction first: SQLite cannot turn a read that began before the
    # progress writes above into a write.
    session.commit()

    def mark_done(same: Session, stored: list[Submission]) -> None:
        # In the reports' own transaction: a redelivered event finds the job done and stores nothing
        # twice, and the page never sees it done without its reports.
        same.execute(
            update(SheetImport)
            .where(SheetImport.id == import_id)
            .values(
                state="done",
                progress=100,
                submission_ids=[s.id for s in stored],
                finished_at=clock.now(),
            )
        )

    reports.submit_many(session, celery, good, user, "xlsx", before_commit=mark_done)
    return "done"


def find(session: Session, user: User, import_id: str) -> SheetImport | None:
    """An upload its own uploader may see (it holds their figures)."""
    job = session.get(SheetImport, import_id[:32])
    return job if job is not None and job.requested_by == user.id else None


def imported(session: Session, job: SheetImport) -> list[Submission]:
    """The reports an upload stored, with their units, in the sheet's order."""
    if not job.submission_ids:
        return []
    found = {
        s.id: s for s in session.scalars(select(Submission).where(Submission.id.in_(job.submission_ids)))
    }
    return [found[i] for i in job.submission_ids if i in found]
