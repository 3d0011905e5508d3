"""Who reports: districts (and functional zones), the batches of the pilot and their pilot units."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base


class District(Base):
    """A reporting area: a county-level district, or a functional zone with no official code."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    official_code: Mapped[str | None] = mapped_column(String(6))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16), default="district")

    units: Mapped[list[PilotUnit]] = relationship(back_populates="district")


class PilotBatch(Base):
    """A batch of the pilot: the units that joined the reform together (第一批 2020, ..., 第三批 2022/2023)."""

    __tablename__ = "pilot_batches"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    # When its units joined, as the office writes it ("2020", "2022/2023"); empty when not known.
    joined: Mapped[str] = mapped_column(String(32), default="")


class PilotUnit(Base):
    """An enterprise or institution in the pilot, known by its unified social credit code."""

    __tablename__ = "pilot_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    # enterprise (企业) or institution (事业单位): some rules bind enterprises only.
    kind: Mapped[str] = mapped_column(String(16), default="enterprise", server_default="enterprise")
    # The pilot batch it joined with (pilot_batches.number).
    batch: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    district: Mapped[District] = relationship(back_populates="units")
