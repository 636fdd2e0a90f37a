"""Partner food stalls (warung) and the health agency's inspections of them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    case,
    event,
    false,
    or_,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.scope import Scope
from service.db import Base, Regional, utcnow
from service.program.models import Area

STATUSES = ("active", "suspended", "closed")
HYGIENE_STATUSES = ("none", "valid", "expired", "failed")
INSPECTION_KINDS = ("hygiene", "nutrition")


class Vendor(Regional, Base):
    """A food stall that cooks and delivers. It may cook while it is active and holds a valid
    hygiene certificate; the certificate is read off its latest hygiene inspection."""

    __tablename__ = "vendors"
    __table_args__ = (CheckConstraint("daily_capacity >= 0", name="capacity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(500))
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    latitude: Mapped[float]
    longitude: Mapped[float]
    # Recipients, not portions: each recipient gets every meal slot of the day.
    daily_capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The latest hygiene inspection (by inspection date), kept here because every assignment
    # query asks "may this stall cook today?". None: never inspected.
    hygiene_inspected_on: Mapped[dt.date | None]
    hygiene_passed: Mapped[bool | None]
    # Last day the certificate holds (inspected_on + the validity in force when it was issued).
    hygiene_valid_until: Mapped[dt.date | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    village: Mapped[Area] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the stalls ``scope`` reaches: a stall's user its own; everyone else every stall."""
        return cls.id == scope.stall if scope.stall is not None else true()

    @hybrid_method
    def hygiene_status_on(self, day: dt.date) -> str:
        """none | valid | expired | failed, on ``day`` (the program's local date)."""
        if self.hygiene_passed is None:
            return "none"
        if not self.hygiene_passed:
            return "failed"
        return "valid" if self.hygiene_valid_until is not None and self.hygiene_valid_until >= day else "expired"

    @hygiene_status_on.inplace.expression
    @classmethod
    def _hygiene_status_on_sql(cls, day) -> ColumnElement[str]:
        return case(*((cls.hygiene_is(status, day), status) for status in ("none", "failed", "valid")),
                    else_="expired")

    @classmethod
    def hygiene_is(cls, status: str, day) -> ColumnElement[bool]:
        """SQL: the stall's hygiene status is ``status`` on ``day``, as ``hygiene_status_on`` says,
        written as plain column conditions: filters use these rather than comparing the CASE, whose
        selectivity the planner cannot estimate (it took every stall for one, and a nested loop of
        stalls x recipients scheduled a day in minutes)."""
        return {
            "none": cls.hygiene_passed.is_(None),
            "failed": cls.hygiene_passed == false(),
            "valid": and_(cls.hygiene_passed == true(), cls.hygiene_valid_until >= day),
            "expired": and_(cls.hygiene_passed == true(),
                            or_(cls.hygiene_valid_until.is_(None), cls.hygiene_valid_until < day)),
        }[status]

    @hybrid_method
    def may_cook_on(self, day: dt.date) -> bool:
        """The stall may cook on ``day``: active, with a hygiene certificate valid that day."""
        return self.status == "active" and self.hygiene_status_on(day) == "valid"

    @may_cook_on.inplace.expression
    @classmethod
    def _may_cook_on_sql(cls, day) -> ColumnElement[bool]:
        return and_(cls.status == "active", cls.hygiene_is("valid", day))


class Inspection(Regional, Base):
    """One inspection of a stall by the health agency. History: never edited, never deleted."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_vendor_id_kind_inspected_on", "vendor_id", "kind", "inspected_on"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"))
    kind: Mapped[str] = mapped_column(String(16))
    inspected_on: Mapped[dt.date]
    score: Mapped[int]
    passed: Mapped[bool]
    findings: Mapped[str | None] = mapped_column(Text)
    # Hygiene only: the last day the certificate this inspection issued holds.
    valid_until: Mapped[dt.date | None]
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(Inspection, "before_update")
def _inspections_are_history(mapper, connection, target: Inspection) -> None:
    raise RuntimeError(f"inspection {target.id} is history and cannot be changed; record a new inspection")
