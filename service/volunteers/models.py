"""A volunteer (someone of the public who signed up to help the elderly no stall reaches), the
elderly they take on (claims), and the visits they log; with the rules, for Python and SQL, of
being reached by a volunteer and visited by one."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    exists,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.scope import Scope
from service.db import Base, JSONType, Regional, in_same_region, same_region, utcnow
from service.program.models import Area
from service.recipients.models import Recipient

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


class Volunteer(Regional, Base):
    """A volunteer's record. Their sign-in is a user of role ``volunteer`` (``users.volunteer_id``);
    closing the account keeps the row (their history) and removes their personal data."""

    __tablename__ = "volunteers"
    __table_args__ = (CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
                      UniqueConstraint("region_code", "phone", name="uq_volunteers_region_code_phone"),
                      UniqueConstraint("region_code", "email", name="uq_volunteers_region_code_email"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164; None once closed
    email: Mapped[str | None] = mapped_column(String(254))
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
    # A new phone or email the volunteer asked for, kept apart until it is confirmed (by staff who
    # call it now; by a code sent to it once notices exist): asking tells nobody whether it is
    # anyone's, and the sign-in follows only a confirmed contact.
    pending_phone: Mapped[str | None] = mapped_column(String(16))
    pending_email: Mapped[str | None] = mapped_column(String(254))
    contact_requested_at: Mapped[dt.datetime | None]
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


CLAIM_KINDS = ("deliver", "visit")  # each needs the skill of the same name
CLAIM_STATUSES = ("open", "ended")
# Why a claim ended: the volunteer let go, staff ended it, a stall can reach the recipient, the
# volunteer's meals went undelivered two days running, the recipient paused or left the program,
# the volunteer was suspended or closed their account.
END_REASONS = ("released", "ended_by_staff", "stall", "no_show", "paused", "exited", "suspended", "closed")
# Ends that leave a recipient without the help nobody decided to take away: the social agency
# gets a follow-up for each.
FOLLOWED_UP = frozenset({"released", "no_show", "suspended", "closed"})
NO_SHOW_DAYS = 2  # days running of missed or failed meals that end a deliver claim
VISIT_OUTCOMES = ("visited", "not_at_home", "concern")
VISITED = ("visited", "concern")  # outcomes that count for visit_rate, as a school visit's do


class Claim(Regional, Base):
    """A volunteer taking on one recipient, to bring their meals (``deliver``) or to visit them
    (``visit``). At most one open claim of each kind per recipient (the unique partial index: of
    two volunteers claiming at once, exactly one wins). While a ``deliver`` claim is open the
    recipient is reached, and their meals are the volunteer's."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("uq_claims_open_region_code_recipient_id_kind", "region_code", "recipient_id", "kind", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_claims_volunteer_id_status", "volunteer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(16))
    # Staff's words when they end a claim (``ended_by_staff``); the service's ends are codes alone.
    end_note: Mapped[str | None] = mapped_column(String(500))
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    volunteer: Mapped[Volunteer] = relationship(primaryjoin=lambda: in_same_region(Claim.volunteer_id, Volunteer))
    recipient: Mapped[Recipient] = relationship(primaryjoin=lambda: in_same_region(Claim.recipient_id, Recipient))

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the claims of the volunteers ``scope`` may see (``Volunteer.visible_to``)."""
        if scope.everything:
            return true()
        return cls.volunteer_id.in_(select(Volunteer.id).where(Volunteer.visible_to(scope)))


class Visit(Regional, Base):
    """A visit a volunteer logged, under an open ``visit`` claim. ``visited`` and ``concern`` count
    for ``visit_rate`` as a school visit does; a ``concern`` opens a follow-up for the social agency
    (the tasks area links it, ``Task.volunteer_visit_id``)."""

    __tablename__ = "volunteer_visits"
    __table_args__ = (
        Index("ix_volunteer_visits_outcome_visited_on", "outcome", "visited_on"),
        Index("ix_volunteer_visits_volunteer_id", "volunteer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    visited_on: Mapped[dt.date]
    outcome: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    concern: Mapped[str | None] = mapped_column(String(500))  # what worried the volunteer, their words
    hours: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # The social agency's follow-up of a concern: a relationship the tasks area adds (``follow_up``).

    @property
    def raised(self) -> Visit | None:
        """The visit as the concern it raised, if it raised one."""
        return self if self.concern else None

    @property
    def concern_status(self) -> str:
        """Where the social agency's follow-up stands: ``received`` until one is opened."""
        follow_up = getattr(self, "follow_up", None)
        return follow_up.status if follow_up is not None else "received"


def claimed_to_deliver(day: dt.date) -> ColumnElement[bool]:
    """SQL, on ``Recipient``: held by an open ``deliver`` claim: how a volunteer reaches a
    recipient (``Recipient.reached_on``). A claim is about now: open today, it reaches every day."""
    return exists().where(same_region(Claim, Recipient), Claim.recipient_id == Recipient.id, Claim.kind == "deliver",
                          Claim.status == "open")


def visited_by_volunteers(day: dt.date, interval_days: int):
    """SQL: the ids of recipients a volunteer visited (``VISITED``) in the ``interval_days`` ending
    ``day``: a way of being visited (``recipients.models.visited_recipients``)."""
    return select(Visit.recipient_id).where(
        Visit.outcome.in_(VISITED), Visit.visited_on.between(day - dt.timedelta(days=interval_days - 1), day))
