"""Which stall feeds which recipient, and the rule of being fed by a stall on a day."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, ForeignKey, exists, func, select
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from service.db import Base, JSONType, Regional, in_same_region, same_region, utcnow
from service.program.service import settings
from service.recipients.models import Recipient
from service.vendors.models import Vendor


class Assignment(Regional, Base):
    """An enrolled recipient's place at a stall, or the lack of one (``vendor_id`` null: uncovered).

    One row per enrolled recipient, keyed by the recipient, so the audit trail of ``assignment``
    ``<recipient id>`` is that person's whole history of stalls, with the reason for each change.
    Pausing keeps the row (and the place); exiting deletes it.
    """

    __tablename__ = "assignments"

    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), primary_key=True)
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    # geopy's geodesic distance from the stall to the recipient, in km.
    distance_km: Mapped[float | None]
    # Why the recipient is at this stall, or at none, as a code (service/codes.py): shown to the
    # social agency, in words, and in the trail.
    reason: Mapped[dict] = mapped_column(JSONType)
    since: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recipient: Mapped[Recipient] = relationship(
        back_populates="assignment", primaryjoin=lambda: in_same_region(Assignment.recipient_id, Recipient))
    vendor: Mapped[Vendor | None] = relationship(primaryjoin=lambda: in_same_region(Assignment.vendor_id, Vendor))

    @hybrid_property
    def within_reach(self) -> bool:
        """The recipient lives within the program's reach (``max_vendor_distance_km``) of the stall."""
        return self.distance_km is not None and self.distance_km <= settings().max_vendor_distance_km

    @within_reach.inplace.expression
    @classmethod
    def _within_reach_sql(cls) -> ColumnElement[bool]:
        return cls.distance_km <= settings().max_vendor_distance_km


# The registry shows each recipient with their place: loaded with them, in the same query.
Recipient.assignment = relationship(Assignment, back_populates="recipient", uselist=False, lazy="joined",
                                    cascade="all, delete-orphan",
                                    primaryjoin=lambda: in_same_region(Assignment.recipient_id, Recipient))

# A stall's load: how many recipients it feeds (paused ones keep their place).
Vendor.assigned_count = column_property(
    select(func.count()).where(Assignment.vendor_id == Vendor.id, same_region(Assignment, Vendor))
    .correlate_except(Assignment).scalar_subquery()
)


def cooks_for(day) -> ColumnElement[bool]:
    """SQL, on ``Assignment`` joined to its ``Vendor``: the stall may cook on ``day`` (a date or a
    date column) and the recipient lives within the program's reach of it."""
    return Vendor.may_cook_on(day) & Assignment.within_reach


def placed_to_cook_on(day: dt.date) -> ColumnElement[bool]:
    """SQL, on ``Recipient``: placed, within reach, at a stall that may cook on ``day``: how a
    stall reaches a recipient (``Recipient.reached_on``)."""
    return exists().where(same_region(Assignment, Recipient), Assignment.recipient_id == Recipient.id,
                          same_region(Vendor, Assignment), Assignment.vendor_id == Vendor.id, cooks_for(day))
