"""The day's plan, in set-based SQL: scheduling a day, keeping the meals already scheduled in step
with pauses, exits and changes of stall, and closing the day at the cut-off.

A meal is due on day D for a recipient who is eligible on D (enrolled, not paused) and placed
within the program's reach at a stall that may cook on D (``assignments.models.cooks_for``), or,
when no stall can, held by a volunteer's open ``deliver`` claim: a stall first, always. When
places, pauses or claims change, the area below publishes an event and :func:`follow` brings the
scheduled meals in line, so a scheduled meal always names the stall or the volunteer that will
bring it; the scheduling job inserts what is missing with ``ON CONFLICT DO NOTHING``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Date, Integer, String, case, exists, func, literal, null, select, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from service.assignments import placement
from service.assignments.events import PlacesChanged
from service.assignments.models import Assignment, cooks_for
from service.codes import code
from service.db import (
    IN_CHUNK,
    JSONType,
    UTCDateTime,
    advisory_lock,
    in_bound_regions,
    on_citus,
    one_of,
    one_region,
    same_region,
    working_region,
)
from service.deliveries import coverage
from service.deliveries.models import Delivery, DeliveryDay
from service.errors import Invalid
from service.extensions import db
from service.i18n import _l
from service.program import clock
from service.program.clock import today
from service.program.service import Settings, settings
from service.recipients.events import PausesChanged
from service.recipients.models import Recipient, paused
from service.vendors.models import Vendor
from service.volunteers import claims
from service.volunteers.events import ClaimOpened, ClaimsEnded
from service.volunteers.models import NO_SHOW_DAYS, Claim

SCHEDULE_AHEAD_DAYS = 7  # how far ahead a day may be scheduled by hand
FLAG_AFTER_DAYS = 3  # days running without a delivered meal before the social agency is told
SCHEDULE_LOCK = 0x52414E55  # "RANU": one scheduling or closing run at a time, across processes


def cutoff_at(day: dt.date, program: Settings | None = None) -> dt.datetime:
    """The moment day ``day`` closes: its ``delivery_cutoff``, in the program's timezone."""
    program = program or settings()
    return clock.at(day, program.delivery_cutoff, program)


def day_open(day: dt.date, program: Settings | None = None) -> bool:
    """Whether ``day``'s meals may still change and be confirmed: its cut-off has not passed and it
    was not closed. A day once closed stays closed, even when the cut-off is moved later that
    evening: what the cut-off counted is the day's coverage, its flags and no-shows were acted on,
    and it is what the stalls are paid for (a meal made or confirmed after it would be paid and
    never counted)."""
    program = program or settings()
    return clock.now() < cutoff_at(day, program) and not db.session.scalar(
        select(DeliveryDay.closed(day, one_region(db.session))))


def first_open_day(program: Settings | None = None) -> dt.date:
    """Today while it is open (``day_open``), else tomorrow: the first day whose meals can change."""
    program = program or settings()
    day = today(program)
    return day if day_open(day, program) else day + dt.timedelta(days=1)


def _meals(slots: Sequence[str]):
    return union_all(*(select(literal(slot, String(16)).label("meal")) for slot in slots)).subquery("meals")


def _insert(statement_table, values):
    dialect = db.session.connection().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(statement_table).from_select(
        ["recipient_id", "vendor_id", "volunteer_id", "village_id", "date", "meal", "status", "created_at",
         "region_code"], values
    ).on_conflict_do_nothing(index_elements=["region_code", "recipient_id", "date", "meal"])


def insert_due(day: dt.date, recipient_ids: Sequence[int] | None = None) -> int:
    """Insert the meals due on ``day`` that do not exist yet (for ``recipient_ids``, or everyone);
    how many were created. One INSERT ... SELECT ... ON CONFLICT DO NOTHING for the stalls' meals,
    then one for the volunteers' (a recipient a stall feeds has the stall's)."""
    program = settings()
    meals = _meals(program.meal_slots)
    when = literal(clock.now(), UTCDateTime())
    by_stalls = (
        select(Recipient.id, Assignment.vendor_id, null().cast(Integer), Recipient.village_id, literal(day, Date),
               meals.c.meal, literal("scheduled", String(16)), when, Recipient.region_code)
        .select_from(Recipient)
        .join(Assignment, same_region(Assignment, Recipient) & (Assignment.recipient_id == Recipient.id))
        .join(Vendor, same_region(Vendor, Assignment) & (Vendor.id == Assignment.vendor_id))
        .join(meals, true())
        .where(in_bound_regions(db.session, Recipient.region_code), cooks_for(day),
               Recipient.eligible_on(day))  # the pause check last: it costs most
    )
    by_volunteers = (
        select(Recipient.id, null().cast(Integer), Claim.volunteer_id, Recipient.village_id, literal(day, Date),
               meals.c.meal, literal("scheduled", String(16)), when, Recipient.region_code)
        .select_from(Claim)
        .join(Recipient, same_region(Recipient, Claim) & (Recipient.id == Claim.recipient_id))
        .join(meals, true())
        .where(in_bound_regions(db.session, Recipient.region_code), Claim.kind == "deliver",
               Claim.status == "open", Recipient.eligible_on(day))
    )
    created = 0
    for rows in (by_stalls, by_volunteers):
        if recipient_ids is not None:
            rows = rows.where(one_of(db.session, Recipient.id, recipient_ids))
        statement = _insert(Delivery.__table__, rows)
        if on_citus(db.session.connection()):
            # Citus runs this INSERT ... SELECT through the coordinator, whose row count is of the
            # rows it sent, conflicts included: count the rows inserted instead.
            created += len(db.session.execute(statement.returning(Delivery.id)).all())
        else:
            # rowcount of an INSERT is kept only when asked for (SQLAlchemy 2.0.28+).
            created += db.session.execute(statement.execution_options(preserve_rowcount=True)).rowcount
    return created


def _cooking_stall():
    """SQL, correlated to a delivery: the stall that should cook it now, or NULL if none should."""
    return (
        select(Assignment.vendor_id)
        .join(Vendor, same_region(Vendor, Assignment) & (Vendor.id == Assignment.vendor_id))
        .join(Recipient, same_region(Recipient, Assignment) & (Recipient.id == Assignment.recipient_id))
        .where(same_region(Assignment, Delivery), Assignment.recipient_id == Delivery.recipient_id,
               cooks_for(Delivery.date),
               Recipient.eligible_on(Delivery.date))
        .scalar_subquery()
    )


def _claiming_volunteer():
    """SQL, correlated to a delivery: the volunteer whose open ``deliver`` claim should bring it
    now (the recipient eligible that day), or NULL. At most one: one open claim per recipient."""
    return (
        select(Claim.volunteer_id)
        .join(Recipient, same_region(Recipient, Claim) & (Recipient.id == Claim.recipient_id))
        .where(same_region(Claim, Delivery), Claim.recipient_id == Delivery.recipient_id, Claim.kind == "deliver",
               Claim.status == "open",
               Recipient.eligible_on(Delivery.date))
        .scalar_subquery()
    )


def _why_cancelled():
    """SQL: the code of why a meal nobody should bring is cancelled."""
    status = select(Recipient.status).where(same_region(Recipient, Delivery),
                                            Recipient.id == Delivery.recipient_id).scalar_subquery()
    return case(
        (status != "enrolled", literal(code("recipient_exited"), JSONType)),
        (paused(Delivery.date, Delivery.recipient_id, Delivery.region_code),
         literal(code("recipient_paused"), JSONType)),
        (Delivery.volunteer_id.is_not(None), literal(code("claim_ended"), JSONType)),
        else_=literal(code("no_stall"), JSONType),
    )


def follow(recipient_ids: Sequence[int] | None, from_day: dt.date | None = None) -> None:
    """Bring the scheduled meals of ``recipient_ids`` (None: everyone) from ``from_day`` on in line
    with who should cook them now: hand them to the recipient's new stall, cancel those nobody
    should cook (paused, exited, uncovered), revive cancelled ones that are due again, and add the
    missing meals of days already scheduled. Delivered, failed and missed meals are history and
    never change; nor does a day whose cut-off has passed."""
    chunk = IN_CHUNK if db.session.get_bind().dialect.name != "postgresql" else None  # one array on PostgreSQL
    if recipient_ids is not None and chunk and len(recipient_ids) > chunk:  # bound the SQL parameters
        for first in range(0, len(recipient_ids), chunk):
            follow(recipient_ids[first:first + chunk], from_day)
        return
    if recipient_ids is not None and not recipient_ids:
        return
    program = settings()
    start = max(from_day or today(program), first_open_day(program))
    days = scheduled_days(start)
    if not days and not db.session.scalar(select(exists().where(
            Delivery.date >= start, in_bound_regions(db.session, Delivery.region_code)))):
        return  # no meal from that day on, none to add: a rebalance by day need not touch the meals
    scope = [Delivery.date >= start]
    if recipient_ids is not None:
        scope.append(one_of(db.session, Delivery.recipient_id, recipient_ids))
    stall, volunteer = _cooking_stall(), _claiming_volunteer()
    following = Delivery.status.in_(("scheduled", "cancelled"))
    db.session.execute(
        update(Delivery)
        .where(*scope, following, stall.is_not(None),
               (Delivery.status == "cancelled") | Delivery.vendor_id.is_distinct_from(stall)
               | Delivery.volunteer_id.is_not(None))
        .values(vendor_id=stall, volunteer_id=None, status="scheduled", cause=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(*scope, following, stall.is_(None), volunteer.is_not(None),
               (Delivery.status == "cancelled") | Delivery.volunteer_id.is_distinct_from(volunteer)
               | Delivery.vendor_id.is_not(None))
        .values(volunteer_id=volunteer, vendor_id=None, status="scheduled", cause=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(*scope, Delivery.status == "scheduled", stall.is_(None), volunteer.is_(None))
        .values(status="cancelled", cause=_why_cancelled())
        .execution_options(synchronize_session=False)
    )
    for day in days:
        insert_due(day, recipient_ids)


def first_scheduled_day() -> dt.date | None:
    """The first day the loop scheduled: none before it can be closed (there was no loop)."""
    return db.session.scalar(select(func.min(DeliveryDay.date)).where(DeliveryDay.scheduled_at.is_not(None)))


def scheduled_days(from_day: dt.date) -> list[dt.date]:
    return list(db.session.scalars(
        select(DeliveryDay.date).where(DeliveryDay.date >= from_day, DeliveryDay.scheduled_at.is_not(None))
        .order_by(DeliveryDay.date)
    ))


@dataclass
class ScheduleReport:
    date: dt.date
    created: int
    existing: int
    moved: int = 0  # recipients moved off stalls that may not cook that day


def _day_row(day: dt.date) -> DeliveryDay:
    """The day's row of the region the session works in (a day is a region's)."""
    code = working_region(db.session)
    row = db.session.get(DeliveryDay, (code, day))
    if row is None:
        row = DeliveryDay(region_code=code, date=day)
        db.session.add(row)
    return row


def schedule_day(day: dt.date) -> ScheduleReport:
    """Create ``day``'s deliveries: one per meal slot for each recipient who is enrolled, not
    paused that day, and placed at a stall that may cook that day.

    Idempotent and safe to run in several processes at once: a PostgreSQL advisory lock makes a
    second run wait, and the unique (recipient, date, meal) key with ``ON CONFLICT DO NOTHING``
    makes it create nothing twice, so a run killed half-way is completed by the next. First the
    recipients of stalls that may not cook that day (a certificate expiring tonight) move to
    stalls that may, so their meals are scheduled there.
    """
    program = settings()
    first, last = first_open_day(program), today(program) + dt.timedelta(days=SCHEDULE_AHEAD_DAYS)
    if not first <= day <= last:
        raise Invalid({"date": [_l("must be from %(first)s (the first day not closed) to %(last)s",
                                   first=first, last=last)]})
    advisory_lock(db.session, SCHEDULE_LOCK)
    moved = sum(m.moved + m.uncovered for m in placement.sweep(day).values())
    claims.end_paused(day)  # a volunteer's claim ends with the recipient's pause
    created = insert_due(day)
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.date == day)) or 0
    row = _day_row(day)
    row.scheduled_at = row.scheduled_at or clock.now()
    db.session.flush()
    return ScheduleReport(date=day, created=created, existing=total - created, moved=moved)


@dataclass
class CloseReport:
    date: dt.date
    missed: int
    flagged: int
    coverage_rate: float | None


def close_day(day: dt.date) -> CloseReport:
    """The cut-off of ``day``: meals still ``scheduled`` become ``missed``; a recipient without a
    delivered meal for three days running is flagged for the social agency; the day's coverage is
    written to the summary the trend reads. Running it again changes nothing more."""
    program = settings()
    if clock.now() < cutoff_at(day, program):
        raise Invalid({"date": [_l("%(day)s closes at %(delivery_cutoff)s (%(timezone)s)",
                                   day=day,
                                   delivery_cutoff=format(program.delivery_cutoff, '%H:%M'),
                                   timezone=program.timezone)]})
    first = first_scheduled_day()
    if first is None or day < first:
        since = (_l("the first day scheduled is %(first)s", first=first) if first
                 else _l("no day has been scheduled yet"))
        raise Invalid({"date": [_l("%(day)s cannot be closed: %(since)s", day=day, since=since)]})
    advisory_lock(db.session, SCHEDULE_LOCK)
    missed = db.session.execute(
        update(Delivery).where(Delivery.date == day, Delivery.status == "scheduled")
        .values(status="missed", cause=code("not_confirmed"))
        .execution_options(synchronize_session=False)
    ).rowcount
    flagged = _flag_unfed(day)
    _end_no_shows(day)
    summary = coverage.write_summary(day)
    row = _day_row(day)
    coverage.keep_day_figures(row)
    row.closed_at = row.closed_at or clock.now()
    db.session.flush()
    return CloseReport(date=day, missed=missed, flagged=flagged, coverage_rate=summary.coverage_rate)


def _flag_unfed(day: dt.date) -> int:
    """Flag recipients who had meals due on each of the last three days and got none of them."""
    first = day - dt.timedelta(days=FLAG_AFTER_DAYS - 1)
    unfed = (
        select(Delivery.recipient_id)
        .where(Delivery.date.between(first, day), Delivery.status.in_(("delivered", "failed", "missed")))
        .group_by(Delivery.recipient_id)
        .having(func.count(Delivery.date.distinct()) == FLAG_AFTER_DAYS,
                func.sum(case((Delivery.status == "delivered", 1), else_=0)) == 0)
    )
    people = db.session.scalars(
        select(Recipient).where(Recipient.id.in_(unfed), Recipient.flagged_on.is_(None))
    ).all()
    for recipient in people:  # through the ORM: each flag is in the audit trail
        recipient.flagged_on = day
        recipient.flag_reason = code("unfed", from_=first, to=day)
    db.session.flush()
    return len(people)


def _end_no_shows(day: dt.date) -> int:
    """A volunteer whose meals of a recipient were missed or failed on each of the last two days,
    none delivered, has the claim ended (``no_show``): the recipient is uncovered again, and the
    social agency follows up."""
    first = day - dt.timedelta(days=NO_SHOW_DAYS - 1)
    undelivered = (
        select(Delivery.volunteer_id, Delivery.recipient_id)
        .where(Delivery.date.between(first, day), Delivery.volunteer_id.is_not(None),
               Delivery.status.in_(("delivered", "failed", "missed")))
        .group_by(Delivery.volunteer_id, Delivery.recipient_id)
        .having(func.count(Delivery.date.distinct()) == NO_SHOW_DAYS,
                func.sum(case((Delivery.status == "delivered", 1), else_=0)) == 0)
        .subquery()
    )
    mine = select(undelivered.c.recipient_id).where(undelivered.c.volunteer_id == Claim.volunteer_id,
                                                    undelivered.c.recipient_id == Claim.recipient_id)
    return claims.end_where("no_show", Claim.kind == "deliver", mine.exists())


def first_meal_of_a_claim() -> dt.date:
    """The first day whose meals a volunteer's deliver claim made now brings: the first day that can
    still change, if it is scheduled (the claim takes its meals at once); else the day the next
    evening's scheduling creates."""
    day = first_open_day()
    if day in scheduled_days(day)[:1]:
        return day
    return max(day, today() + dt.timedelta(days=1))


def on_claim_opened(event: ClaimOpened) -> None:
    if event.kind == "deliver":  # the days already scheduled: their meals are the volunteer's
        follow([event.recipient_id])


def on_claims_ended(event: ClaimsEnded) -> None:
    """The meals not yet delivered go to a stall if one cooks for them now, else are cancelled:
    from today; for a stall that took the recipient in, from tomorrow (today's is on its way)."""
    ended = [c for c in event.claims if c.kind == "deliver"]
    for to_stall in (False, True):
        ids = sorted({c.recipient_id for c in ended if (c.reason == "stall") == to_stall})
        if ids:
            follow(ids, today() + dt.timedelta(days=1) if to_stall else None)


def delivered_by(volunteer_id: int) -> int:
    """Meals a volunteer delivered (their record's count)."""
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.volunteer_id == volunteer_id, Delivery.status == "delivered")) or 0


def on_places_changed(event: PlacesChanged) -> None:
    follow(list(event.recipient_ids), event.from_day)


def on_pauses_changed(event: PausesChanged) -> None:
    follow([event.recipient_id], event.from_day)
