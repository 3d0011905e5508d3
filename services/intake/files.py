"""Evidence and proof files: checked by their content, limited in size, stored by id, named with the
extension of what they are. A file's content is kept only if the row that records it is committed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shared import clock, config, private
from shared.models import PilotUnit, StoredFile, User

SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
SUFFIXES = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
}
PENDING = "pilotwatch.files_pending"  # session.info key: contents written in the open transaction


class FileRejected(ValueError):
    """The file is not a PDF, JPEG or PNG, is empty, or is too large."""


def sniff(head: bytes) -> str | None:
    """The content type from the first bytes, whatever the file's name or declared type says."""
    for magic, content_type, _suffix in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def read_checked(stream: IO[bytes], limit: int) -> tuple[bytes, str]:
    content = stream.read(limit + 1)
    if not content:
        raise FileRejected(_("文件为空"))
    if len(content) > limit:
        raise FileRejected(_("文件超过 %(size)d KB", size=limit // 1024))
    content_type = sniff(content[:16])
    if content_type is None:
        raise FileRejected(_("只接受 PDF、JPG、PNG 文件"))
    return content, content_type


def path_for(file_id: str, settings: config.Settings | None = None) -> Path:
    settings = settings or config.current()
    return settings.upload_dir / file_id[:2] / file_id


def save(file_id: str, content: bytes) -> str:
    """Keep a file's content (0600, in 0700 folders) and return its SHA-256."""
    target = path_for(file_id)
    private.make_folder(target.parent)
    private.write_bytes(target, content)
    return hashlib.sha256(content).hexdigest()


def discard(file_id: str) -> None:
    """Remove a stored file whose row was not kept (its transaction failed)."""
    path_for(file_id).unlink(missing_ok=True)


def safe_name(name: str) -> str:
    cleaned = "".join(ch for ch in Path(name or "file").name if ch.isprintable() and ch not in '\\/"<>')
    return cleaned[-150:] or "file"


def name_for(name: str, content_type: str) -> str:
    """The file's name with the extension of what its content is: `poly.html` holding a PDF is
    `poly.pdf`, `double.png.html` holding a PNG is `double.png`. A browser or a mail client opens a
    download by its extension, whatever type it was served as."""
    cleaned = safe_name(name)
    suffixes = SUFFIXES.get(content_type, (".bin",))
    if Path(cleaned).suffix.lower() in suffixes:
        return cleaned
    stem = cleaned[: -len(Path(cleaned).suffix)] if Path(cleaned).suffix else cleaned
    if Path(stem).suffix.lower() in suffixes:
        return stem
    return (stem or "file")[:140] + suffixes[0]


def store(
    session: Session,
    user: User,
    unit: PilotUnit,
    round_code: str,
    purpose: str,
    content: bytes,
    content_type: str,
    filename: str,
    measure: str = "",
    finding_id: int | None = None,
) -> StoredFile:
    """Record a checked file (evidence for a measure, or proof for a finding) and keep its content."""
    record = StoredFile(
        unit_id=unit.id,
        round_code=round_code,
        purpose=purpose,
        measure_code=measure,
        finding_id=finding_id,
        filename=name_for(filename, content_type),
        content_type=content_type,
        size=len(content),
        sha256="",
        uploaded_by=user.id,
        uploaded_at=clock.now(),
    )
    session.add(record)
    session.flush()
    record.sha256 = save(record.id, content)
    session.info.setdefault(PENDING, []).append(path_for(record.id))
    return record


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _dropped(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rolled back, or its request refused with 403 and
    the session closed) takes its files with it: no file stays without its row."""
    if transaction.parent is None:
        for path in session.info.pop(PENDING, []):
            path.unlink(missing_ok=True)
