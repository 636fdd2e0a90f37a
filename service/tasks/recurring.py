"""Recurring work, opened by the job runner so that nothing is forgotten:

- a school visit for each eligible recipient not visited within ``visit_interval_days``, spread
  over the education agencies (schools) and their users, a village at a time so that the same
  students visit neighbours;
- a hygiene inspection for each active stall whose certificate expires within 14 days, has
  expired, or was never issued;
- a verification visit for each candidate;
- a social follow-up for each recipient flagged for three days without a meal.

Idempotent: each need has a ``dedupe_key`` and is opened only while no open task has that key
(a partial unique index holds it under races), and the run takes a PostgreSQL advisory lock, so
running twice, or in two runners at once, opens each task once. Work no longer needed (the
recipient exited, the stall closed) is cancelled.
"""
from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, not_, or_, select, update

from service.accounts.models import Agency, User
from service.audit.service import creation_changes, record
from service.codes import Code, code
from service.db import advisory_lock, bulk_insert, utcnow
from service.extensions import db
from service.i18n import N_, _
from service.program.clock import today
from service.program.service import settings
from service.recipients.models import Recipient, visited_recipients
from service.tasks.models import Task, flag_follow_up_key
from service.vendors.models import Vendor

TASKS_LOCK = 0x5441534B  # "TASK": one recurring run at a time, across processes
HYGIENE_WARNING_DAYS = 14  # a stall's certificate expiring this soon gets its inspection opened
SCHOOL_VISIT_DUE_DAYS = 7
VERIFICATION_DUE_DAYS = 14
INSPECTION_DUE_DAYS = 7  # for stalls without a valid certificate
FLAG_FOLLOW_UP_DUE_DAYS = 2  # an elderly person unfed three days running is urgent
CHUNK = 5_000  # ids in one statement


@dataclass
class RecurringReport:
    date: dt.date
    school_visits: int = 0
    hygiene_inspections: int = 0
    verification_visits: int = 0
    flag_follow_ups: int = 0
    cancelled: int = 0
    skipped: list[str] = field(default_factory=list)


class Spreader:
    """Hands out work to the least-loaded agency of a kind, and within it to its least-loaded
    active user (or to nobody when it has none): loads count open tasks of that type."""

    def __init__(self, kind: str, type_: str) -> None:
        agencies = db.session.scalars(select(Agency.id).where(Agency.kind == kind).order_by(Agency.id)).all()
        open_tasks = dict(db.session.execute(
            select(Task.agency_id, func.count()).where(Task.type == type_, Task.status == "open")
            .group_by(Task.agency_id)).all())
        self.agencies = [(open_tasks.get(a, 0), a) for a in agencies]
        heapq.heapify(self.agencies)
        self.users: dict[int, list[tuple[int, int]]] = defaultdict(list)
        assigned = dict(db.session.execute(
            select(Task.assignee_id, func.count()).where(Task.type == type_, Task.status == "open",
                                                         Task.assignee_id.is_not(None))
            .group_by(Task.assignee_id)).all())
        for user_id, agency_id in db.session.execute(
                select(User.id, User.agency_id).where(User.agency_id.in_(agencies), User.active)
                .order_by(User.id)):
            self.users[agency_id].append((assigned.get(user_id, 0), user_id))
        for heap in self.users.values():
            heapq.heapify(heap)

    def __bool__(self) -> bool:
        return bool(self.agencies)

    def take(self, count: int = 1) -> tuple[int, int | None]:
        """An agency and a user of it for ``count`` tasks, counted against their load."""
        load, agency_id = heapq.heappop(self.agencies)
        heapq.heappush(self.agencies, (load + count, agency_id))
        users = self.users.get(agency_id)
        if not users:
            return agency_id, None
        user_load, user_id = heapq.heappop(users)
        heapq.heappush(users, (user_load + count, user_id))
        return agency_id, user_id


def _open_task_of(subject, type_: str):
    """SQL: ``subject`` (Recipient or Vendor) has an open task of ``type_``, however it was opened."""
    column = Task.recipient_id if subject is Recipient else Task.vendor_id
    return exists().where(column == subject.id, Task.type == type_, Task.status == "open")


def _insert(rows: list[dict]) -> int:
    """Open the tasks of ``rows`` in bulk, each with its event in the audit trail."""
    if rows:
        now = utcnow()
        for row in rows:
            row.update(status="open", origin="recurring", created_at=now, updated_at=now, version=1)
        ids = bulk_insert(db.session, Task.__table__, rows)
        record(db.session, [("create", "task", task_id, creation_changes(row)) for task_id, row in zip(ids, rows)])
    return len(rows)


def open_recurring(day: dt.date | None = None) -> RecurringReport:
    """Open the recurring work due on ``day`` (today), and cancel what is no longer needed."""
    day = day or today()
    report = RecurringReport(date=day)
    advisory_lock(db.session, TASKS_LOCK)
    report.cancelled = _cancel_unneeded()
    report.school_visits = _school_visits(day, report)
    report.hygiene_inspections = _hygiene_inspections(day, report)
    report.verification_visits = _verification_visits(day, report)
    report.flag_follow_ups = _flag_follow_ups(day, report)
    db.session.flush()
    return report


def _cancel_unneeded() -> int:
    """Recurring visits of recipients who left the program, inspections of closed stalls: cancelled
    in bulk, each in the audit trail."""
    gone = select(Recipient.id).where(Recipient.status.in_(("exited", "rejected")))
    closed = select(Vendor.id).where(Vendor.status == "closed")
    unneeded = db.session.scalars(select(Task.id).where(
        Task.status == "open", Task.origin == "recurring", or_(
            and_(Task.type.in_(("school_visit", "verification_visit")), Task.recipient_id.in_(gone)),
            and_(Task.type == "hygiene_inspection", Task.vendor_id.in_(closed))))).all()
    if not unneeded:
        return 0
    day, now, why = today(), utcnow(), code("no_longer_needed")
    for first in range(0, len(unneeded), CHUNK):
        db.session.execute(
            update(Task).where(Task.id.in_(unneeded[first:first + CHUNK]), Task.status == "open")
            .values(status="cancelled", outcome_code=why, completed_on=day, completed_at=now, updated_at=now,
                    version=Task.version + 1)
            .execution_options(synchronize_session=False))
    changes = {"status": ["open", "cancelled"], "outcome_code": [None, why], "completed_on": [None, day.isoformat()]}
    record(db.session, [("update", "task", task_id, changes) for task_id in unneeded])
    return len(unneeded)


def _spreader(kind: str, type_: str, report: RecurringReport, work: str) -> Spreader | None:
    spreader = Spreader(kind, type_)
    if not spreader:
        # Said now, in the language of the moment (the request's, or the program's in the job runner).
        report.skipped.append(_("%(work)s: no %(kind)s agency", work=_(work), kind=kind))
        return None
    return spreader


def _row(type_: str, taker: tuple[int, int | None], day: dt.date, due_date: dt.date, key: str, title: Code,
         recipient_id: int | None = None, vendor_id: int | None = None, notes: Code | None = None) -> dict:
    """One recurring task's row for the bulk insert (every row with the same columns)."""
    agency_id, user_id = taker
    return {"type": type_, "agency_id": agency_id, "assignee_id": user_id, "title_code": title, "opened_on": day,
            "due_date": due_date, "dedupe_key": key, "recipient_id": recipient_id, "vendor_id": vendor_id,
            "notes_code": notes}


def _school_visits(day: dt.date, report: RecurringReport) -> int:
    spreader = _spreader("education", "school_visit", report, N_("school visits"))
    if spreader is None:
        return 0
    visited = visited_recipients(day, settings().visit_interval_days)
    due = db.session.execute(
        select(Recipient.id, Recipient.name, Recipient.village_id)
        .where(Recipient.eligible_on(day), Recipient.id.not_in(visited),
               not_(_open_task_of(Recipient, "school_visit")))
        .order_by(Recipient.village_id, Recipient.id)
    ).all()
    by_village: dict[int, list] = defaultdict(list)
    for person in due:
        by_village[person.village_id].append(person)
    rows = []
    for people in sorted(by_village.values(), key=len, reverse=True):  # biggest villages first: balanced loads
        taker = spreader.take(len(people))
        rows.extend(_row("school_visit", taker, day, day + dt.timedelta(days=SCHOOL_VISIT_DUE_DAYS),
                         f"school_visit:{p.id}", code("task_title", type="school_visit", subject=p.name),
                         recipient_id=p.id)
                    for p in people)
    return _insert(rows)


def _hygiene_inspections(day: dt.date, report: RecurringReport) -> int:
    spreader = _spreader("health", "hygiene_inspection", report, N_("hygiene inspections"))
    if spreader is None:
        return 0
    needs = or_(Vendor.hygiene_passed.is_(None),
                and_(Vendor.hygiene_passed,
                     Vendor.hygiene_valid_until <= day + dt.timedelta(days=HYGIENE_WARNING_DAYS)))
    stalls = db.session.execute(
        select(Vendor.id, Vendor.name, Vendor.hygiene_valid_until, Vendor.hygiene_status_on(day).label("hygiene"))
        .where(Vendor.status == "active", needs, not_(_open_task_of(Vendor, "hygiene_inspection"))).order_by(Vendor.id)
    ).all()
    rows = []
    for stall in stalls:
        valid = stall.hygiene == "valid"
        rows.append(_row(
            "hygiene_inspection", spreader.take(), day,
            stall.hygiene_valid_until if valid else day + dt.timedelta(days=INSPECTION_DUE_DAYS),
            f"hygiene_inspection:{stall.id}", code("task_title", type="hygiene_inspection", subject=stall.name),
            vendor_id=stall.id, notes=code("certificate_valid_until", on=stall.hygiene_valid_until) if valid else
            code("no_valid_certificate")))
    return _insert(rows)


def _verification_visits(day: dt.date, report: RecurringReport) -> int:
    spreader = _spreader("social", "verification_visit", report, N_("verification visits"))
    if spreader is None:
        return 0
    people = db.session.execute(
        select(Recipient.id, Recipient.name)
        .where(Recipient.status == "candidate", not_(_open_task_of(Recipient, "verification_visit")))
        .order_by(Recipient.id)
    ).all()
    return _insert([_row("verification_visit", spreader.take(), day, day + dt.timedelta(days=VERIFICATION_DUE_DAYS),
                         f"verification_visit:{p.id}", code("task_title", type="verification_visit", subject=p.name),
                         recipient_id=p.id)
                    for p in people])


def _flag_follow_ups(day: dt.date, report: RecurringReport) -> int:
    spreader = _spreader("social", "follow_up", report, N_("follow-ups of flagged recipients"))
    if spreader is None:
        return 0
    flagged = db.session.execute(
        select(Recipient.id, Recipient.name, Recipient.flagged_on, Recipient.flag_reason)
        .where(Recipient.flagged_on.is_not(None)).order_by(Recipient.id)
    ).all()
    keys = {flag_follow_up_key(p.id, p.flagged_on): p for p in flagged}
    known = set(db.session.scalars(select(Task.dedupe_key).where(Task.dedupe_key.in_(list(keys))))) if keys else set()
    # Once per flag: a follow-up opened for it already (and perhaps done) is not opened again.
    return _insert([_row("follow_up", spreader.take(), day, day + dt.timedelta(days=FLAG_FOLLOW_UP_DUE_DAYS), key,
                         code("unfed_follow_up", subject=p.name), recipient_id=p.id, notes=p.flag_reason)
                    for key, p in keys.items() if key not in known])
