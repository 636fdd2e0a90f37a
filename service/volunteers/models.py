"""A volunteer: someone of the public who signed up to help the elderly no stall reaches."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.scope import Scope
from service.db import Base, JSONType, utcnow
from service.program.models import Area

SKILLS = ("deliver", "visit", "cook")
STATUSES = ("pending", "approved", "rejected", "suspended", "closed")
MAX_CAPACITY = 5  # people one volunteer may help at once

# What the coordinator or the social agency may decide, from which status, to which.
DECISIONS = {
    "approve": ({"pending"}, "approved"),
    "reject": ({"pending"}, "rejected"),
    "suspend": ({"approved"}, "suspended"),
    "reinstate": ({"suspended"}, "approved"),
}
NEEDS_REASON = frozenset({"reject", "suspend"})


class Volunteer(Base):
    """A volunteer's record. Their sign-in is a user of role ``volunteer`` (``users.volunteer_id``);
    closing the account keeps the row (their history) and removes their personal data."""

    __tablename__ = "volunteers"
    __table_args__ = (CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # E.164; None once closed
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    skills: Mapped[list[str]] = mapped_column(JSONType)
    capacity: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # The reason of the last rejection or suspension, in the words of the staff who decided.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consented_at: Mapped[dt.datetime]  # when they accepted the code of conduct
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    village: Mapped[Area] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the volunteers ``scope`` may see: every one for the coordinator, the social agency
        and the program; a volunteer only their own; nobody else any."""
        if scope.everything or (scope.role == "agency" and scope.agency_kind == "social"):
            return true()
        if scope.role == "volunteer" and scope.volunteer_id is not None:
            return cls.id == scope.volunteer_id
        return cls.id.is_(None)  # never true: an id is never null
