from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, exists
from typing import TYPE_CHECKING

from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow
from service.program.models import Area, JSONType

if TYPE_CHECKING:
    from service.assignments.models import Assignment

STATUSES = ("candidate", "verified", "rejected", "enrolled", "exited")
LOCATION_SOURCES = ("gps", "geocoded", "village")
EXIT_REASONS = ("deceased", "moved", "declined", "other")


class Recipient(Base):
    """An elderly person in the program, from candidate to exit."""

    __tablename__ = "recipients"
    __table_args__ = (
        Index("ix_recipients_status_id", "status", "id"),
        Index("ix_recipients_village_id_id", "village_id", "id"),
        Index("ix_recipients_status_village_id", "status", "village_id"),  # coverage counts by village
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date]
    sex: Mapped[str] = mapped_column(String(1))
    address: Mapped[str] = mapped_column(String(500))
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float]
    longitude: Mapped[float]
    location_source: Mapped[str] = mapped_column(String(16))
    dietary_needs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    verification_notes: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[dt.datetime | None]
    enrolled_at: Mapped[dt.datetime | None]
    exited_at: Mapped[dt.datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(16))
    # Set by the cut-off when the recipient went three days running without a delivered meal,
    # for the social agency to look in on them; cleared by the agency.
    flagged_on: Mapped[dt.date | None]
    flag_reason: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    village: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    pauses: Mapped[list[Pause]] = relationship(
        back_populates="recipient", order_by="Pause.start_date", lazy="selectin"
    )

    # Enrolled recipients have one: the stall that feeds them, or none (uncovered) and why.
    assignment: Mapped[Assignment | None] = relationship(back_populates="recipient", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def vendor_id(self) -> int | None:
        return self.assignment.vendor_id if self.assignment else None

    @property
    def distance_km(self) -> float | None:
        return self.assignment.distance_km if self.assignment else None

    def pause_on(self, day: dt.date) -> Pause | None:
        return next((p for p in self.pauses if p.start_date <= day <= p.end_date), None)


class Pause(Base):
    """A stretch of days when an enrolled recipient needs no meal (hospital, family visit)."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), index=True)
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recipient: Mapped[Recipient] = relationship(back_populates="pauses")


def paused_on(day, recipient_id=None):
    """SQL: the recipient (``Recipient.id``, or another column naming one) is paused on ``day``
    (a date or a date column)."""
    recipient_id = Recipient.id if recipient_id is None else recipient_id
    return exists().where(Pause.recipient_id == recipient_id, Pause.start_date <= day, Pause.end_date >= day)
