"""Recipients, their pauses, and the rules of who is eligible, paused, reached or uncovered on a day:
each written once, for Python and for SQL."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    exists,
    false,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, JSONType, Regional, in_same_region, utcnow
from service.program.clock import end_of, today
from service.program.models import Area

STATUSES = ("candidate", "verified", "rejected", "enrolled", "exited")
EXIT_REASONS = ("deceased", "moved", "declined", "other")


# How a recipient can be reached (fed) on a day: SQL conditions on ``Recipient`` that the areas
# above register by name (``reached_by``): ``stall``, placed at a stall that may cook, and
# ``volunteer``, held by a volunteer's claim; the first that holds says who covers them.
_REACHED: dict[str, Callable[[dt.date], ColumnElement[bool]]] = {}
# How a recipient can be visited: selects of the recipient ids visited in the days ending a day
# (``visited_by``): by a school visit, by a volunteer.
_VISITED: list[Callable[[dt.date, int], Select]] = []


def reached_by(name: str, source: Callable[[dt.date], ColumnElement[bool]]) -> None:
    """Count ``source(day)`` as a way, called ``name``, a recipient is reached on ``day`` (the
    composition root wires them; an area above adds its own without this one knowing it)."""
    _REACHED.setdefault(name, source)


def visited_by(source: Callable[[dt.date, int], Select]) -> None:
    """Count ``source(day, interval_days)`` (the ids of recipients visited in the ``interval_days``
    ending ``day``) as a way of being visited."""
    if source not in _VISITED:
        _VISITED.append(source)


def visited_recipients(day: dt.date, interval_days: int):
    """SQL: the ids of recipients visited, in any way registered, in the ``interval_days`` ending
    ``day``: who counts as visited, for ``visit_rate``, the recurring school visits and volunteers'
    visit opportunities. A set read once, not a search per recipient."""
    sources = [source(day, interval_days) for source in _VISITED]
    if not sources:
        return select(Recipient.id).where(false())
    return sources[0] if len(sources) == 1 else union(*sources)


class Recipient(Regional, Base):
    """An elderly person in the program, from candidate to exit."""

    __tablename__ = "recipients"
    __table_args__ = (
        Index("ix_recipients_status_id", "status", "id"),
        Index("ix_recipients_village_id_id", "village_id", "id"),
        Index("ix_recipients_status_village_id", "status", "village_id"),  # coverage counts by village
        Index("ix_recipients_latitude_longitude", "latitude", "longitude"),  # who is near a point (geo.near)
        # Unique in its region here; across regions, nik_holders keeps a NIK to one region.
        UniqueConstraint("region_code", "nik", name="uq_recipients_region_code_nik"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nik: Mapped[str] = mapped_column(String(16))
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
    # How the record came in: ``registry`` (an agency registered or imported it), ``public_report``
    # (someone of the public reported the person as unreached: a complaint).
    source: Mapped[str] = mapped_column(String(16), default="registry")
    verification_notes: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[dt.datetime | None]
    enrolled_at: Mapped[dt.datetime | None]
    exited_at: Mapped[dt.datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(16))
    # Set by the cut-off when the recipient went three days running without a delivered meal,
    # for the social agency to look in on them; cleared by the agency.
    flagged_on: Mapped[dt.date | None]
    flag_reason: Mapped[dict | None] = mapped_column(JSONType)  # a code (service/codes.py)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    village: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    pauses: Mapped[list[Pause]] = relationship(
        back_populates="recipient", order_by="Pause.start_date", lazy="selectin",
        primaryjoin=lambda: in_same_region(Pause.recipient_id, Recipient),
    )

    # Enrolled recipients have an ``assignment`` too (the stall that feeds them, or none and why),
    # a relationship the assignments area adds (service/assignments/models.py).

    __mapper_args__ = {"version_id_col": version}

    def pause_on(self, day: dt.date) -> Pause | None:
        return next((p for p in self.pauses if p.start_date <= day <= p.end_date), None)

    @hybrid_method
    def paused_on(self, day: dt.date) -> bool:
        """Paused on ``day`` (a date, or in SQL a date column too)."""
        return self.pause_on(day) is not None

    @paused_on.inplace.expression
    @classmethod
    def _paused_on_sql(cls, day) -> ColumnElement[bool]:
        return paused(day, cls.id, cls.region_code)

    @hybrid_method
    def enrolled_on(self, day: dt.date) -> bool:
        """Enrolled at the end of ``day`` (the program's local day): from today on that is the
        status alone (which the (status, village_id) index answers); for a past day, enrolled by
        then and not exited before its end."""
        if day >= today():
            return self.status == "enrolled"
        end = end_of(day)
        return self.enrolled_at is not None and self.enrolled_at < end and (
            self.status == "enrolled" or (self.status == "exited" and self.exited_at >= end))

    @enrolled_on.inplace.expression
    @classmethod
    def _enrolled_on_sql(cls, day) -> ColumnElement[bool]:
        """``day`` a date, or a date column of days still to come (scheduled meals)."""
        if not isinstance(day, dt.date) or day >= today():
            return cls.status == "enrolled"
        end = end_of(day)
        return and_(cls.enrolled_at < end,
                    or_(cls.status == "enrolled", and_(cls.status == "exited", cls.exited_at >= end)))

    @hybrid_method
    def eligible_on(self, day: dt.date) -> bool:
        """Eligible for meals on ``day``: enrolled and not paused."""
        return self.enrolled_on(day) and not self.paused_on(day)

    @eligible_on.inplace.expression
    @classmethod
    def _eligible_on_sql(cls, day: dt.date) -> ColumnElement[bool]:
        return and_(cls.enrolled_on(day), not_(cls.paused_on(day)))

    @classmethod
    def reached_on(cls, day: dt.date) -> ColumnElement[bool]:
        """SQL: reached (fed) on ``day`` by any of the ways the areas above registered."""
        return or_(*(source(day) for source in _REACHED.values())) if _REACHED else false()

    @classmethod
    def covered_by_on(cls, day: dt.date) -> ColumnElement[str | None]:
        """SQL: who reaches the recipient on ``day`` (``stall``, ``volunteer``), or NULL: the
        first way registered that holds."""
        if not _REACHED:
            return null()
        return case(*((source(day), literal(name, String(16))) for name, source in _REACHED.items()), else_=null())

    @classmethod
    def uncovered_on(cls, day: dt.date) -> ColumnElement[bool]:
        """SQL: verified or enrolled, not paused on ``day``, and reached by nobody: whom the
        program does not reach yet."""
        return and_(cls.status.in_(("verified", "enrolled")), not_(cls.paused_on(day)), cls.unreached_on(day))

    @classmethod
    def unreached_on(cls, day: dt.date) -> ColumnElement[bool]:
        """SQL: reached by none of the ways (``not reached_on``, written as one NOT EXISTS per way,
        which the planner turns into anti-joins it can drive from a few rows)."""
        return and_(*(not_(source(day)) for source in _REACHED.values())) if _REACHED else true()


class Pause(Regional, Base):
    """A stretch of days when an enrolled recipient needs no meal (hospital, family visit)."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), index=True)
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recipient: Mapped[Recipient] = relationship(back_populates="pauses",
                                                primaryjoin=lambda: in_same_region(Pause.recipient_id, Recipient))


def paused(day, recipient_id, region_code) -> ColumnElement[bool]:
    """SQL: the recipient ``recipient_id`` (a column naming one: ``Recipient.id``,
    ``Delivery.recipient_id``) of ``region_code`` (that row's region column) is paused on ``day``
    (a date or a date column). The one home of the rule ``Recipient.paused_on`` reads in SQL.
    The region joins too: on Citus a join between regional tables is on the region (one shard)."""
    return exists().where(Pause.region_code == region_code, Pause.recipient_id == recipient_id,
                          Pause.start_date <= day, Pause.end_date >= day)


class NikHolder(Base):
    """Which region holds a NIK: a person may be enrolled in one region only. Keyed by the NIK
    itself, so that checking one touches one row wherever the recipients are kept (on Citus, one
    shard, not every region's), and two regions enrolling one person at once collide on its key."""

    __tablename__ = "nik_holders"
    __audited__ = False  # a by-product of the recipient's row, whose creation the trail records

    nik: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(8), ForeignKey("regions.code"))
    recipient_id: Mapped[int]
