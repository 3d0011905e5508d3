"""Catalogue versions in the database, with a per-process cache by version and by checksum."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import caches
from shared.catalogue import Catalogue, checksum, default_file, read_file
from shared.catalogue.schema import DEFAULT_VERSION
from shared.models import CatalogueVersion

_cache: dict[tuple[str, str], Catalogue] = {}
_by_version: caches.TimedCache[Catalogue] = caches.TimedCache("catalogues")


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
    """The catalogue of `version`, kept per process by version (`shared.caches`: storing any version
    empties it at once) and, behind that, by checksum."""
    catalogue = _by_version.get(version, lambda: _load(session, version))
    if catalogue is None:
        raise LookupError(f"catalogue version {version} is not loaded")
    return catalogue


def _load(session: Session, version: str) -> Catalogue | None:
    digest = session.scalar(select(CatalogueVersion.checksum).where(CatalogueVersion.code == version))
    if digest is None:
        return None
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
