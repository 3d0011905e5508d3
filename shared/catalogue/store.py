"""Catalogue versions in the database, with a per-process cache keyed by checksum."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.catalogue import Catalogue, checksum, default_file, read_file
from shared.catalogue.schema import DEFAULT_VERSION
from shared.models import CatalogueVersion

_cache: dict[tuple[str, str], Catalogue] = {}


def save(session: Session, data: dict[str, Any]) -> CatalogueVersion:
    """Store a validated catalogue as its version (replacing an earlier load of the same version)."""
    row = session.get(CatalogueVersion, data["version"])
    if row is None:
        row = CatalogueVersion(code=data["version"], data=data, checksum=checksum(data))
        session.add(row)
    else:
        row.data, row.checksum = data, checksum(data)
    return row


def get(session: Session, version: str) -> Catalogue:
    digest = session.scalar(select(CatalogueVersion.checksum).where(CatalogueVersion.code == version))
    if digest is None:
        raise LookupError(f"catalogue version {version} is not loaded")
    key = (version, digest)
    if key not in _cache:
        row = session.get(CatalogueVersion, version)
        assert row is not None
        _cache[key] = Catalogue(row.data)
    return _cache[key]


def ensure_default(session: Session) -> None:
    """Load the starter catalogue shipped with Pilotwatch if its version is not in the database yet."""
    if session.get(CatalogueVersion, DEFAULT_VERSION) is None:
        save(session, read_file(default_file()))
