"""Deliveries (one meal each), the days they belong to, and each closed day's coverage."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    exists,
    false,
    or_,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.scope import Scope
from service.db import Base, JSONType, Regional, in_same_region, utcnow
from service.recipients.models import Recipient

STATUSES = ("scheduled", "delivered", "failed", "missed", "cancelled")
OUTCOMES = ("delivered", "failed")  # what a stall may confirm
# Why a meal could not be handed over, as the pages offer it (stored as the code in ``reason``; the
# API takes any reason, and older ones are words).
FAILURE_REASONS = ("not_at_home", "refused", "in_hospital", "address_not_found", "stall_problem", "other")
# A bigint on PostgreSQL (a national program writes billions); SQLite's rowid is 64-bit anyway.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Delivery(Regional, Base):
    """One meal for one recipient on one day and slot, from a stall or from a volunteer who took
    the recipient on (``volunteer_id``; never both).

    The row is its own record of who confirmed what and when (``confirmed_by``, ``confirmed_at``),
    so it is kept out of the generic audit trail, which would double every confirmation's writes.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("region_code", "recipient_id", "date", "meal",
                         name="uq_deliveries_region_code_recipient_id_date_meal"),
        Index("ix_deliveries_vendor_id_date", "vendor_id", "date"),
        # Coverage counts a day by village and status, and covered recipients (by stalls and by
        # volunteers), from this index alone.
        Index("ix_deliveries_date_village_id_status_recipient_id_volunteer_id", "date", "village_id", "status",
              "recipient_id", "volunteer_id"),
        Index("ix_deliveries_volunteer_id_date", "volunteer_id", "date"),
        CheckConstraint("vendor_id IS NULL OR volunteer_id IS NULL", name="one_carrier"),
    )
    __audited__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    # The recipient's village when the meal was scheduled: coverage by village without a join.
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    date: Mapped[dt.date]
    meal: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # Why a meal failed, in the stall's words.
    reason: Mapped[str | None] = mapped_column(String(300))
    # Why the service cancelled it or marked it missed, as a code (service/codes.py).
    cause: Mapped[dict | None] = mapped_column(JSONType)
    # The stall's own account: when and where the meal was handed over.
    delivered_at: Mapped[dt.datetime | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # sha256 of the photo evidence, stored under the instance folder by its hash.
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recipient: Mapped[Recipient] = relationship(primaryjoin=lambda: in_same_region(Delivery.recipient_id, Recipient))

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the deliveries ``scope`` reaches: a stall's user its own stall's, a volunteer their
        own; staff every one."""
        if scope.stall is not None:
            return cls.vendor_id == scope.stall
        if scope.helper is not None:
            return cls.volunteer_id == scope.helper
        return false() if scope.role == "volunteer" else true()

    @hybrid_property
    def has_evidence(self) -> bool:
        """The handover carries evidence: a photo, or the phone's GPS point."""
        return self.photo_sha256 is not None or self.latitude is not None

    @has_evidence.inplace.expression
    @classmethod
    def _has_evidence(cls):
        return or_(cls.photo_sha256.is_not(None), cls.latitude.is_not(None))


class DeliveryPhoto(Regional, Base):
    """A photo kept as evidence of one delivery: its sha256 names the file under the photo folder
    and is unique, so the same image can never be evidence for two meals (a photo replaced by a
    better one stays here, reserved to its delivery). The delivery's ``photo_sha256`` names the one
    it shows. Uploads are in the audit trail as ``photo`` events of the delivery."""

    __tablename__ = "delivery_photos"
    __audited__ = False  # recorded as an event of its delivery instead (photos.attach_photo)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("deliveries.id"), index=True)
    delivery_date: Mapped[dt.date]
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # What the picture shows: a perceptual hash (pHash, 64 bits as a signed integer) of the decoded
    # image, so that the same picture re-encoded, with metadata added or a pixel changed, is known
    # as the same (``photos.near_duplicate``). None for photos kept before it was taken.
    phash: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_delivery_photos_delivery_date", "delivery_date"),
                      UniqueConstraint("region_code", "sha256", name="uq_delivery_photos_region_code_sha256"))


class DeliveryDay(Regional, Base):
    """A day of the loop: when its deliveries were scheduled and when it was closed.

    The job runner's catch-up reads it to do what was missed while it was down, once.
    """

    __tablename__ = "delivery_days"
    __audited__ = False  # keyed by a date; the jobs log what they did

    region_code: Mapped[str] = mapped_column(String(8), ForeignKey("regions.code"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    scheduled_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # Counted by the cut-off for the targets' indicators (null: closed before they were kept):
    # recipients enrolled at the day's end; of the eligible, those visited in the visit interval
    # ending it; active stalls and, of them, those with a valid hygiene certificate that day.
    enrolled: Mapped[int | None]
    visited: Mapped[int | None]
    stalls_active: Mapped[int | None]
    stalls_certified: Mapped[int | None]

    @classmethod
    def closed(cls, day, region) -> ColumnElement[bool]:
        """SQL: ``day`` (a date or a bound parameter) was closed in ``region`` (a code, or a
        column to correlate): its cut-off ran, and its meals are history whatever the clock says
        now (``scheduling.day_open``)."""
        return exists().where(cls.region_code == region, cls.date == day, cls.closed_at.is_not(None))


class CoverageDay(Regional, Base):
    """A day's counts for one village: final when the cut-off wrote them, else a snapshot of the
    open day that the job runner takes every minute. Coverage and its trend read these rather
    than hundreds of thousands of deliveries a day. Meal counts (``scheduled`` ...) count meals in
    the village they were scheduled in; the rest count eligible recipients in their village.
    ``coverage.Counts`` says what each is."""

    __tablename__ = "coverage_days"
    __audited__ = False  # derived from the deliveries; rewritten if a day is closed again

    date: Mapped[dt.date] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    eligible: Mapped[int]
    covered: Mapped[int]  # eligible recipients with at least one delivered meal
    # Eligible recipients with no meal planned that day (none scheduled, or all cancelled): null on
    # days counted before it was kept (migration 0013s).
    unplanned: Mapped[int | None]
    scheduled: Mapped[int]
    delivered: Mapped[int]
    failed: Mapped[int]
    missed: Mapped[int]
    # Of ``covered`` and ``delivered``: recipients and meals a volunteer brought (by_source).
    volunteer_covered: Mapped[int] = mapped_column(default=0, server_default="0")
    volunteer_delivered: Mapped[int] = mapped_column(default=0, server_default="0")
    # Eligible recipients who got at least 90% of their meals in the 7 days ending this day
    # (weekly_meal_rate): counted by the cut-off only, null on snapshots of the open day.
    fed_week: Mapped[int | None]
    final: Mapped[bool] = mapped_column(default=True)
    counted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
