"""Which meals are planned, in set-based SQL: scheduling a day, and keeping the meals already
scheduled in step with pauses, exits and changes of stall.

A meal is due on day D for a recipient who is enrolled, not paused on D, and placed within the
program's reach at a stall that may cook on D. Assignment, recipient and stall changes call
:func:`follow` for the recipients they touched, so a scheduled meal always names the stall that
will cook it; the scheduling job inserts what is missing with ``ON CONFLICT DO NOTHING``.

This module reads models only, so the assignment service can call it without a cycle.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, case, literal, not_, select, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from service.assignments.models import Assignment
from service.db import UTCDateTime
from service.deliveries.models import Delivery, DeliveryDay
from service.extensions import db
from service.program import service as program_service
from service.program.service import Settings, settings, today
from service.recipients.models import Recipient, paused_on
from service.vendors.models import Vendor

SCHEDULE_LOCK = 0x52414E55  # "RANU": one scheduling or closing run at a time, across processes


def local_moment(day: dt.date, at: dt.time, program: Settings) -> dt.datetime:
    """``at`` o'clock on ``day`` in the program's timezone."""
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(program.timezone))


def cutoff_at(day: dt.date, program: Settings | None = None) -> dt.datetime:
    """The moment day ``day`` closes: its ``delivery_cutoff``, in the program's timezone."""
    program = program or settings()
    return local_moment(day, program.delivery_cutoff, program)


def first_open_day(program: Settings | None = None) -> dt.date:
    """Today while its cut-off has not passed, else tomorrow: the first day whose meals can change."""
    program = program or settings()
    day = today(program)
    return day if program_service.now() < cutoff_at(day, program) else day + dt.timedelta(days=1)


def _meals(slots: Sequence[str]):
    return union_all(*(select(literal(slot, String(16)).label("meal")) for slot in slots)).subquery("meals")


def _insert(statement_table, values):
    dialect = db.session.connection().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(statement_table).from_select(
        ["recipient_id", "vendor_id", "village_id", "date", "meal", "status", "created_at"], values
    ).on_conflict_do_nothing(index_elements=["recipient_id", "date", "meal"])


def insert_due(day: dt.date, recipient_ids: Sequence[int] | None = None) -> int:
    """Insert the meals due on ``day`` that do not exist yet (for ``recipient_ids``, or everyone);
    how many were created. One INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    program = settings()
    meals = _meals(program.meal_slots)
    rows = (
        select(Recipient.id, Assignment.vendor_id, Recipient.village_id, literal(day, Date),
               meals.c.meal, literal("scheduled", String(16)), literal(program_service.now(), UTCDateTime()))
        .select_from(Recipient)
        .join(Assignment, Assignment.recipient_id == Recipient.id)
        .join(Vendor, Vendor.id == Assignment.vendor_id)
        .join(meals, true())
        .where(Recipient.status == "enrolled", Vendor.eligible_on(day),
               Assignment.distance_km <= program.max_vendor_distance_km, not_(paused_on(day)))
    )
    if recipient_ids is not None:
        rows = rows.where(Recipient.id.in_(recipient_ids))
    # rowcount of an INSERT is kept only when asked for (SQLAlchemy 2.0.28+).
    return db.session.execute(_insert(Delivery.__table__, rows).execution_options(preserve_rowcount=True)).rowcount


def _cooking_stall():
    """SQL, correlated to a delivery: the stall that should cook it now, or NULL if none should."""
    program = settings()
    return (
        select(Assignment.vendor_id)
        .join(Vendor, Vendor.id == Assignment.vendor_id)
        .join(Recipient, Recipient.id == Assignment.recipient_id)
        .where(Assignment.recipient_id == Delivery.recipient_id, Recipient.status == "enrolled",
               Vendor.eligible_on(Delivery.date), Assignment.distance_km <= program.max_vendor_distance_km,
               not_(paused_on(Delivery.date, Delivery.recipient_id)))
        .scalar_subquery()
    )


def _why_cancelled():
    status = select(Recipient.status).where(Recipient.id == Delivery.recipient_id).scalar_subquery()
    return case(
        (status != "enrolled", literal("recipient exited")),
        (paused_on(Delivery.date, Delivery.recipient_id), literal("recipient paused")),
        else_=literal("no stall may cook for the recipient"),
    )


_CHUNK = 5_000


def follow(recipient_ids: Sequence[int] | None, from_day: dt.date | None = None) -> None:
    """Bring the scheduled meals of ``recipient_ids`` (None: everyone) from ``from_day`` on in line
    with who should cook them now: hand them to the recipient's new stall, cancel those nobody
    should cook (paused, exited, uncovered), revive cancelled ones that are due again, and add the
    missing meals of days already scheduled. Delivered, failed and missed meals are history and
    never change; nor does a day whose cut-off has passed."""
    if recipient_ids is not None and len(recipient_ids) > _CHUNK:  # bound the SQL parameters
        for first in range(0, len(recipient_ids), _CHUNK):
            follow(recipient_ids[first:first + _CHUNK], from_day)
        return
    if recipient_ids is not None and not recipient_ids:
        return
    program = settings()
    start = max(from_day or today(program), first_open_day(program))
    scope = [Delivery.date >= start, Delivery.volunteer_id.is_(None)]
    if recipient_ids is not None:
        scope.append(Delivery.recipient_id.in_(recipient_ids))
    stall = _cooking_stall()
    db.session.execute(
        update(Delivery)
        .where(*scope, Delivery.status.in_(("scheduled", "cancelled")), stall.is_not(None),
               (Delivery.status == "cancelled") | Delivery.vendor_id.is_distinct_from(stall))
        .values(vendor_id=stall, status="scheduled", reason=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(*scope, Delivery.status == "scheduled", stall.is_(None))
        .values(status="cancelled", reason=_why_cancelled())
        .execution_options(synchronize_session=False)
    )
    for day in scheduled_days(start):
        insert_due(day, recipient_ids)


def scheduled_days(from_day: dt.date) -> list[dt.date]:
    return list(db.session.scalars(
        select(DeliveryDay.date).where(DeliveryDay.date >= from_day, DeliveryDay.scheduled_at.is_not(None))
        .order_by(DeliveryDay.date)
    ))

