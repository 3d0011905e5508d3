"""The documents the office sends, generated from Word templates (docxtpl over python-docx) as jobs on the
intake's worker: the round's 督导通报, a district's 问题清单 (整改交办单) and the round's 案例汇编.

`request` records a job and its DocumentRequested event (pages call it); the worker's task calls
`generate`, which gathers the figures (document_data), renders the template and keeps the file,
recording its progress for the page that waits. A template is the office's own when the folder named
by DOCUMENT_TEMPLATES holds a file of that name, else the one shipped in document_templates/.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.intake import audit, document_data
from shared import clock, config, db, events, labels, outbox
from shared.models import DOCUMENT_KINDS, District, DocumentJob, OutboxEvent, Round, User

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).parent / "document_templates"
TEMPLATES = {"bulletin": "bulletin.docx", "problem_list": "problem_list.docx", "cases": "cases.docx"}
SUPERVISORS = ("supervisor", "admin")
# What each kind is called in a file name (Chinese, as the office files them).
NAMES = {"bulletin": "督导通报", "problem_list": "问题清单", "cases": "案例汇编"}


class DocumentRefused(ValueError):
    """The document cannot be asked for as given; the message says why (Chinese first)."""


def template_path(kind: str, settings: config.Settings | None = None) -> Path:
    """The office's own template of this kind if it has one, else the shipped one."""
    settings = settings or config.current()
    if settings.document_templates:
        own = Path(settings.document_templates) / TEMPLATES[kind]
        if own.is_file():
            return own
    return SHIPPED / TEMPLATES[kind]


def render(kind: str, context: dict[str, Any], template: Path | None = None) -> bytes:
    """The template filled in with the context, as the bytes of a .docx file."""
    document = DocxTemplate(str(template or template_path(kind)))
    document.render(context, autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def context(
    session: Session, job: DocumentJob, progress: Callable[[int, str], None] | None = None
) -> dict[str, Any]:
    settings = config.current()
    today = clock.today()
    if job.kind == "bulletin":
        return document_data.bulletin(
            session,
            job.round_code,
            str(job.options.get("next_steps", "")),
            today,
            settings.yellow_light_days,
            progress,
        )
    if job.kind == "problem_list":
        assert job.district_code is not None
        return document_data.problem_list(
            session, job.round_code, job.district_code, today, settings.yellow_light_days
        )
    return document_data.case_book(session, job.round_code, today)


def output_path(job_id: str, settings: config.Settings | None = None) -> Path:
    settings = settings or config.current()
    return settings.document_dir / job_id[:2] / f"{job_id}.docx"


def download_name(session: Session, job: DocumentJob) -> str:
    district = session.get(District, job.district_code) if job.district_code else None
    parts = [labels.round_name(job.round_code), district.name_zh if district else "", NAMES[job.kind]]
    return "".join(parts) + ".docx"


def request(
    session: Session,
    user: User,
    kind: str,
    round_code: str,
    district_code: str | None,
    options: dict[str, Any],
    now: datetime,
) -> tuple[DocumentJob, list[OutboxEvent]]:
    """Ask for a document: the 通报 and the 案例汇编 by the city; a 问题清单 by the city for any district,
    by a district for its own. The caller commits, then publishes the event."""
    if kind not in DOCUMENT_KINDS:
        raise DocumentRefused(_("没有这种文书"))
    if session.get(Round, round_code) is None:
        raise DocumentRefused(_("没有该督导轮次"))
    if kind == "problem_list":
        if not district_code or session.get(District, district_code) is None:
            raise DocumentRefused(_("请选择县（市）区"))
        if not user.can_see_district(district_code):
            raise DocumentRefused(_("无权访问其他县（市）区的数据"))
    else:
        district_code = None
        if user.role not in SUPERVISORS:
            raise DocumentRefused(_("督导通报和案例汇编由市产改办生成"))
    job = DocumentJob(
        kind=kind,
        round_code=round_code,
        district_code=district_code,
        options={"next_steps": str(options.get("next_steps", ""))[:20000]} if kind == "bulletin" else {},
        state="queued",
        requested_by=user.id,
        requested_at=now,
    )
    session.add(job)
    session.flush()
    audit.record(
        session, user.id, "document.request", "document", job.id, {"kind": kind, "round": round_code}
    )
    return job, [outbox.add(session, events.DocumentRequested, job_id=job.id)]


def _progress(job_id: str, percent: int, step: str, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(
            update(DocumentJob).where(DocumentJob.id == job_id).values(progress=percent, step=step, **values)
        )


def generate(job_id: str) -> str:
    """Generate the job's document (once: a redelivered event finds it done) and return its state.
    A template the office broke fails the job with the error, for the page to show; nothing is retried."""
    with db.transaction() as session:
        job = session.get(DocumentJob, job_id)
        if job is None:
            raise LookupError(f"no document job {job_id}")
        if job.state == "done":
            return job.state
    _progress(job_id, 5, "started", state="running")
    try:
        with db.transaction() as session:
            job = session.get(DocumentJob, job_id)
            assert job is not None
            values = context(session, job, lambda percent, step: _progress(job_id, percent, step))
            name = download_name(session, job)
        _progress(job_id, 80, "rendering")
        content = render(job.kind, values)
        target = output_path(job_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(target)
    except Exception as exc:
        log.exception("document %s failed", job_id)
        _progress(job_id, 100, "failed", state="failed", error=str(exc)[:2000], finished_at=clock.now())
        return "failed"
    _progress(job_id, 100, "done", state="done", filename=name, size=len(content), finished_at=clock.now())
    return "done"


def jobs(session: Session, user: User, round_code: str | None = None, limit: int = 20) -> list[DocumentJob]:
    """The latest documents this user may see: a district its own 问题清单, the city every document."""
    query = select(DocumentJob).order_by(DocumentJob.requested_at.desc()).limit(limit)
    if user.role == "district":
        query = query.where(DocumentJob.district_code == user.district_code)
    if round_code:
        query = query.where(DocumentJob.round_code == round_code)
    return list(session.scalars(query))


def find(session: Session, user: User, job_id: str) -> DocumentJob | None:
    job = session.get(DocumentJob, job_id[:32])
    if job is None:
        return None
    if user.role == "district" and job.district_code != user.district_code:
        return None
    return job
