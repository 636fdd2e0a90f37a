"""Targets: what the agencies promise together, and who has signed."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.models import Agency
from service.db import Base, Regional, in_same_region, utcnow

INDICATORS = ("coverage_rate", "delivery_rate", "weekly_meal_rate", "visit_rate", "hygiene_valid_rate",
              "enrolled_count", "complaint_on_time_rate")
RATES = frozenset(INDICATORS) - {"enrolled_count"}
STATUSES = ("draft", "on_track", "at_risk", "achieved", "missed")


class Target(Regional, Base):
    """A promise measured by an indicator: ``indicator`` reaches ``threshold`` by ``due_date``.
    The owner agency answers for it; it is in force once every signatory agency has signed."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    indicator: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float]
    due_date: Mapped[dt.date]
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner_agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    signatories: Mapped[list[Signatory]] = relationship(
        back_populates="target", order_by="Signatory.agency_id", lazy="selectin", cascade="all, delete-orphan",
        primaryjoin=lambda: in_same_region(Signatory.target_id, Target))

    __mapper_args__ = {"version_id_col": version}

    @property
    def signatory_agency_ids(self) -> list[int]:
        return [s.agency_id for s in self.signatories]

    @property
    def signed_by(self) -> list[Signatory]:
        return [s for s in self.signatories if s.signed_at is not None]

    @property
    def in_force(self) -> bool:
        return all(s.signed_at is not None for s in self.signatories)

    @property
    def in_force_since(self) -> dt.datetime | None:
        return max((s.signed_at for s in self.signatories), default=self.created_at) if self.in_force else None


class Signatory(Regional, Base):
    """An agency asked to sign a target, and its signature once given."""

    __tablename__ = "target_signatories"

    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    signed_at: Mapped[dt.datetime | None]
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    target: Mapped[Target] = relationship(back_populates="signatories",
                                          primaryjoin=lambda: in_same_region(Signatory.target_id, Target))
    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
