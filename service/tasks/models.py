"""Agency tasks: one piece of work on the program by one agency, from open to done."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, false, select, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.models import Agency
from service.accounts.scope import Scope
from service.db import Base, JSONType, Regional, in_same_region, utcnow
from service.recipients.models import Recipient
from service.volunteers.models import Visit

TYPES = ("verification_visit", "hygiene_inspection", "nutrition_check", "school_visit", "follow_up", "complaint",
         "other")
STATUSES = ("open", "done", "cancelled")
# volunteer: a claim ended, a concern raised; complaint: the public's complaint, routed to the agency
ORIGINS = ("manual", "recurring", "referral", "log", "volunteer", "complaint")

# Work only one kind of agency does; every agency may have follow-ups (a referral can go to any),
# complaints (the one the complaint concerns answers it) and other work of its own.
SHARED_TYPES = frozenset({"follow_up", "complaint", "other"})
KIND_TYPES = {
    "social": frozenset({"verification_visit"}) | SHARED_TYPES,
    "health": frozenset({"hygiene_inspection", "nutrition_check"}) | SHARED_TYPES,
    "education": frozenset({"school_visit"}) | SHARED_TYPES,
    "data": SHARED_TYPES,
    "other": SHARED_TYPES,
}

# What completing a task of each type may say happened. The first word of each list is the
# usual outcome; some outcomes act (see service.complete_task).
OUTCOMES = {
    "verification_visit": ("verified", "rejected", "not_found"),
    "hygiene_inspection": ("passed", "failed"),
    "nutrition_check": ("passed", "failed"),
    "school_visit": ("visited", "concern", "not_at_home"),
    "follow_up": ("resolved", "unresolved"),
    "complaint": ("resolved", "unfounded", "unresolved"),
    "other": ("done", "not_done"),
}
VISITED = ("visited", "concern")  # school-visit outcomes that count for visit_rate
# Which of a task's subjects each type needs.
NEEDS_RECIPIENT = frozenset({"verification_visit", "school_visit"})
NEEDS_VENDOR = frozenset({"hygiene_inspection", "nutrition_check"})


def school_visited(day: dt.date, interval_days: int):
    """SQL: the ids of recipients with a school visit done (``VISITED``) in the ``interval_days``
    ending ``day``: a way of being visited (``recipients.models.visited_recipients``), read by the
    index on type, status and day."""
    return select(Task.recipient_id).where(
        Task.type == "school_visit", Task.status == "done", Task.outcome.in_(VISITED), Task.recipient_id.is_not(None),
        Task.completed_on.between(day - dt.timedelta(days=interval_days - 1), day))


FLAG_FOLLOW_UP = "follow_up:flag:"


def flag_follow_up_key(recipient_id: int, flagged_on) -> str:
    """The ``dedupe_key`` of the follow-up opened for one flag of a recipient: once per flag."""
    return f"{FLAG_FOLLOW_UP}{recipient_id}:{flagged_on}"


class Task(Regional, Base):
    """A piece of an agency's work: a visit, an inspection, a follow-up. Opened by a person, by
    the job runner (recurring work) or by a referral from another task; done once, with its
    outcome, notes and who did it.

    ``dedupe_key`` names the recurring need a task answers ("school visit of recipient 12"): at
    most one open task per key, so the job runner opening work twice opens it once.
    ``external_ref`` is the agency's own id for a task log pushed from its system: pushing the
    same log again finds the task instead of making a second one.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_agency_id_status_due_date", "agency_id", "status", "due_date"),
        Index("ix_tasks_recipient_id_type", "recipient_id", "type"),
        Index("ix_tasks_vendor_id_type", "vendor_id", "type"),
        Index("ix_tasks_source_task_id", "source_task_id"),
        # visit_rate: completed school visits by day
        Index("ix_tasks_type_status_completed_on", "type", "status", "completed_on"),
        Index("uq_tasks_open_region_code_dedupe_key", "region_code", "dedupe_key", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        UniqueConstraint("region_code", "agency_id", "external_ref",
                         name="uq_tasks_region_code_agency_id_external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # A title people gave it; else the service's, as a code (service/codes.py), and so its notes
    # and the outcome of work the service closed.
    title: Mapped[str | None] = mapped_column(String(200))
    title_code: Mapped[dict | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_on: Mapped[dt.date]  # the program's local day it was opened: what performance counts by
    due_date: Mapped[dt.date]
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    notes_code: Mapped[dict | None] = mapped_column(JSONType)
    origin: Mapped[str] = mapped_column(String(16), default="manual")
    source_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    outcome_code: Mapped[dict | None] = mapped_column(JSONType)
    completed_on: Mapped[dt.date | None]
    completed_at: Mapped[dt.datetime | None]
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The inspection a hygiene or nutrition task recorded on the stall.
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    # The volunteer's visit whose concern this follow-up answers.
    volunteer_visit_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_visits.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    # Loaded with the task as it is shown (service.AS_SHOWN), not by default: a referral is a task
    # whose own subjects and referrals nobody reads through it.
    recipient: Mapped[Recipient | None] = relationship(primaryjoin=lambda: in_same_region(Task.recipient_id, Recipient))
    referrals: Mapped[list[Task]] = relationship(order_by="Task.id",
                                                 back_populates="source_task")
    source_task: Mapped[Task | None] = relationship(remote_side=[id], back_populates="referrals")

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def visible_to(cls, scope: Scope) -> ColumnElement[bool]:
        """SQL: the tasks ``scope`` reaches: agency staff their agency's; the program office and
        the program every task; nobody else any."""
        if scope.agency is not None:
            return cls.agency_id == scope.agency
        return true() if scope.everything else false()

    def overdue_on(self, today: dt.date) -> bool:
        return self.status == "open" and self.due_date < today

    @property
    def referral_ids(self) -> list[int]:
        return [t.id for t in self.referrals]


# A volunteer's concern as they read it back: the status of the follow-up it opened (not what the
# agency wrote).
Visit.follow_up = relationship(Task, primaryjoin=Task.volunteer_visit_id == Visit.id, uselist=False, viewonly=True,
                               lazy="selectin")
