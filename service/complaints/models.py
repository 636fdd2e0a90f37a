"""A complaint (or a report of an elderly person nobody reaches) from the public, with its tracking
code, its working-day deadlines, the agency that answers for it and its history; and the routing
table the coordinator edits."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_, false, func, or_, true
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.models import Agency
from service.accounts.scope import Scope
from service.db import Base, JSONType, Regional, in_same_region, utcnow
from service.program.models import Area
from service.vendors.models import Vendor

CATEGORIES = ("missed_meal", "food_quality", "hygiene", "behaviour", "unreached_elderly", "other")
STATUSES = ("received", "forwarded", "in_progress", "answered", "closed", "rejected")
OPEN = ("received", "forwarded", "in_progress")  # not answered yet: the deadlines run
REJECT_REASONS = ("spam", "out_of_scope", "duplicate", "not_enough_information")
CHANNELS = ("api", "open311")

FORWARD_WORKING_DAYS = 3  # SP4N-LAPOR!: forwarded to the responsible office within 3 working days,
RESPOND_WORKING_DAYS = 5  # answered within 5
REOPEN_DAYS = 10  # the complainant may reopen (once) within 10 days of the answer; then it closes

# Who answers for a category unless the routing table says otherwise: an agency of this kind (the
# least loaded), or nobody (None: the coordinator's triage forwards it).
DEFAULT_ROUTES: dict[str, str | None] = {
    "hygiene": "health", "food_quality": "health", "missed_meal": "social", "behaviour": "social",
    "unreached_elderly": "social", "other": None,
}
ROUTABLE = ("missed_meal", "behaviour", "other")  # what the coordinator may map to another agency

# Reports that are about a place, which whoever answers must find: a stall (dirty, bad food), a home
# (a missed meal, an elderly person nobody feeds). Filed without any way to find it, they are refused.
NEEDS_PLACE = ("missed_meal", "food_quality", "hygiene", "unreached_elderly")
# Reports about a stall: when none is named, the stall nearest the point (within
# ``COMPLAINT_STALL_NEAR_KM``) is the likely one, shown to staff as found that way.
ABOUT_A_STALL = ("hygiene", "food_quality")
# Reports about the meals a named recipient gets: the stall that feeds them is the likely one.
ABOUT_THE_MEALS = ("missed_meal", "food_quality")
VILLAGE_SOURCES = ("given", "point", "elderly", "stall")  # how the complaint's village was known
STALL_SOURCES = ("recipient", "point")  # how a stall none named was found


class Complaint(Regional, Base):
    """One report from the public. ``code`` is its tracking code, the complainant's only key to it.

    The contact (``contact_name``, ``contact_phone``, ``contact_email``) is not kept at all when
    ``anonymous``; when ``confidential`` only the coordinator sees it.

    Where it is: the point, the ``address`` and a ``media_url`` as the reporter sent them; the
    ``village_id`` given, or found (``village_source``: the village whose centre is nearest the
    point, the reported elderly person's, the stall's); the stall named (``vendor_id``), or one
    found when none is (``found_vendor_id``: the one that feeds the recipient named, or the nearest
    to the point, ``found_vendor_m`` metres away; ``found_vendor_by`` says which).

    ``elderly`` holds what the reporter said of an elderly person nobody reaches (shown to the
    coordinator and the responsible agency only);
    ``reported_recipient_id`` the registry's record of them, found or made a candidate.
    ``answered_on`` is the local day of the first answer: on time when it is not after ``respond_by``.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_respond_by", "status", "respond_by"),
        Index("ix_complaints_agency_id_status", "agency_id", "status"),
        Index("ix_complaints_respond_by", "respond_by"),
        UniqueConstraint("region_code", "code", name="uq_complaints_region_code_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="received")
    channel: Mapped[str] = mapped_column(String(16), default="api")
    anonymous: Mapped[bool] = mapped_column(default=False)
    confidential: Mapped[bool] = mapped_column(default=False)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    contact_email: Mapped[str | None] = mapped_column(String(254))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    village_source: Mapped[str | None] = mapped_column(String(16))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"), index=True)
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    found_vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    found_vendor_by: Mapped[str | None] = mapped_column(String(16))
    found_vendor_m: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(String(500))
    media_url: Mapped[str | None] = mapped_column(String(2000))
    elderly: Mapped[dict | None] = mapped_column(JSONType)
    reported_recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_on: Mapped[dt.date] = mapped_column(index=True)  # its local day
    counts_from: Mapped[dt.date]  # the working day the deadlines count from
    forward_by: Mapped[dt.date]
    respond_by: Mapped[dt.date]
    forwarded_at: Mapped[dt.datetime | None]
    answered_at: Mapped[dt.datetime | None]  # the first answer
    answered_on: Mapped[dt.date | None]  # its local day: on time when not after respond_by
    closed_at: Mapped[dt.datetime | None]
    public_answer: Mapped[str | None] = mapped_column(Text)  # what the complainant reads
    internal_notes: Mapped[str | None] = mapped_column(Text)  # what they do not
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    reopened_at: Mapped[dt.datetime | None]
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    reanswer_by: Mapped[dt.date | None]  # the answer to a reopened complaint: 5 working days on
    forward_missed_on: Mapped[dt.date | None]  # marked by the job runner
    answer_missed_on: Mapped[dt.date | None]
    escalated_at: Mapped[dt.datetime | None]  # to the coordinator, when a deadline was missed
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency | None] = relationship()
    village: Mapped[Area | None] = relationship()
    vendor: Mapped[Vendor | None] = relationship(
        foreign_keys=[vendor_id], primaryjoin=lambda: in_same_region(Complaint.vendor_id, Vendor))
    found_vendor: Mapped[Vendor | None] = relationship(
        foreign_keys=[found_vendor_id], primaryjoin=lambda: in_same_region(Complaint.found_vendor_id, Vendor))
    history: Mapped[list[ComplaintEvent]] = relationship(
        order_by="ComplaintEvent.id", lazy="selectin", back_populates="complaint",
        primaryjoin=lambda: in_same_region(ComplaintEvent.complaint_id, Complaint))

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the complaints ``scope`` reaches: the program office every one; an agency those it
        answers for now; nobody else any."""
        if scope.agency is not None:
            return cls.agency_id == scope.agency
        return true() if scope.everything else false()

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @hybrid_method
    def overdue_on(self, day: dt.date) -> bool:
        """Past a deadline on ``day``: not forwarded by ``forward_by``, or not answered by
        ``respond_by`` (a reopened one: by ``reanswer_by``)."""
        if self.status not in OPEN:
            return False
        due = self.reanswer_by or self.respond_by
        return (self.status == "received" and self.forward_by < day) or due < day

    @overdue_on.inplace.expression
    @classmethod
    def _overdue_on_sql(cls, day: dt.date) -> ColumnElement[bool]:
        due = func.coalesce(cls.reanswer_by, cls.respond_by)
        return and_(cls.status.in_(OPEN), or_(and_(cls.status == "received", cls.forward_by < day), due < day))

    @hybrid_method
    def on_time(self) -> bool:
        """Answered (first) by ``respond_by``."""
        return self.answered_on is not None and self.answered_on <= self.respond_by

    @on_time.inplace.expression
    @classmethod
    def _on_time_sql(cls) -> ColumnElement[bool]:
        return and_(cls.answered_on.is_not(None), cls.answered_on <= cls.respond_by)


class ComplaintEvent(Regional, Base):
    """A step of a complaint's history: its status from then on, when, and who moved it (a user,
    an agency; neither for the public and the job runner). The public reads status and time only."""

    __tablename__ = "complaint_events"
    __audited__ = False  # the complaint's own changes are in the trail

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # received, forwarded, started, answered, reopened, ...
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))

    complaint: Mapped[Complaint] = relationship(
        back_populates="history", primaryjoin=lambda: in_same_region(ComplaintEvent.complaint_id, Complaint))


class ComplaintRoute(Regional, Base):
    """The coordinator's routing table: the agency that answers for a category, instead of the
    default kind (``DEFAULT_ROUTES``)."""

    __tablename__ = "complaint_routes"
    __table_args__ = (UniqueConstraint("region_code", "category", name="uq_complaint_routes_region_code_category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")


class ComplaintCode(Base):
    """Which region holds a tracking code: the public's key (and Open311's request id) finds its
    complaint's region in one row keyed by the code (on Citus, one shard, not every region's), and
    two regions cannot hand out one code."""

    __tablename__ = "complaint_codes"
    __audited__ = False  # a by-product of the complaint's row, whose creation the trail records

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(8), ForeignKey("regions.code"))
