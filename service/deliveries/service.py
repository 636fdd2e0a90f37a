"""Meals as the stalls and the agencies meet them: the lists, each stall's manifest, the
confirmations from phones, and what each stall is owed. Scheduling and closing a day are
``scheduling``; photos, ``photos``."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Integer, Row, String, bindparam, case, func, insert, literal_column, null, select, true, update

from service.accounts.scope import Scope
from service.audit.models import AuditEvent
from service.audit.service import plain, record
from service.db import Page, equals, fetch_visible, on_citus, paginate, working_region
from service.deliveries.models import OUTCOMES, Delivery, DeliveryDay
from service.deliveries.scheduling import cutoff_at
from service.errors import Forbidden, Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _l
from service.program import clock
from service.program import service as program_service
from service.program.clock import today
from service.program.service import settings
from service.recipients.models import Recipient
from service.vendors import service as vendors
from service.volunteers import claims

CLOCK_SKEW = dt.timedelta(minutes=10)  # a phone's clock may run this much ahead


def own_delivery(delivery_id: int, scope: Scope, for_update: bool = False) -> Delivery:
    """The delivery, if ``scope`` reaches it (a stall: its own); else 404."""
    return fetch_visible(db.session, Delivery, delivery_id, scope, for_update=for_update)


def sees_people(scope: Scope) -> bool:
    """Whom a meal fed and where: for the registry's staff, and for the stall or the volunteer
    (their own meals)."""
    return scope.reads_registry or scope.stall is not None or scope.helper is not None


# A delivery as those whose work is not the registry see it (the health, education and other
# agencies): the meal and how it went, not whom it fed, where (a meal's GPS point is within metres
# of a home), nor the stall's words about the person. Selected as columns, so the rest never leaves
# the database.
WITHOUT_PERSON = (Delivery.id, Delivery.vendor_id, Delivery.volunteer_id, Delivery.village_id, Delivery.date,
                  Delivery.meal, Delivery.status, Delivery.delivered_at, Delivery.confirmed_at, Delivery.confirmed_by,
                  Delivery.has_evidence.label("has_evidence"))


def get_delivery(delivery_id: int, scope: Scope) -> Delivery | Row:
    """The delivery, as ``scope`` may see it: a stall its own; agencies that do not keep the
    registry only its ``WITHOUT_PERSON`` columns."""
    if sees_people(scope):
        return own_delivery(delivery_id, scope)
    found = db.session.execute(select(*WITHOUT_PERSON).where(Delivery.id == delivery_id,
                                                             Delivery.visible_to(scope))).first()
    if found is None:
        raise NotFound("delivery", delivery_id)
    return found


def list_deliveries(
    page: int, per_page: int, date: dt.date | None = None, vendor_id: int | None = None,
    status: str | None = None, village_id: int | None = None, recipient_id: int | None = None,
    meal: str | None = None, *, scope: Scope,
) -> Page[Delivery] | Page[Row]:
    """Deliveries, newest day first, as ``scope`` may see them: a stall its own; agencies that do
    not keep the registry only their ``WITHOUT_PERSON`` columns, and no following one recipient
    day by day."""
    if sees_people(scope):
        query = select(Delivery)
    elif recipient_id is not None:
        raise Forbidden(_l("deliveries by recipient are for the registry's staff and the stall that feeds them"))
    else:
        query = select(*WITHOUT_PERSON)
    query = query.where(Delivery.visible_to(scope)).order_by(Delivery.date.desc(), Delivery.id)
    for column, value in ((Delivery.date, date), (Delivery.vendor_id, vendor_id), (Delivery.status, status),
                          (Delivery.village_id, village_id), (Delivery.recipient_id, recipient_id),
                          (Delivery.meal, meal)):
        if value is not None:
            query = query.where(equals(column, value))
    return paginate(db.session, query, page, per_page)


@dataclass
class Manifest:
    date: dt.date
    vendor_id: int | None
    volunteer_id: int | None = None
    deliveries: list = field(default_factory=list)


def manifest(day: dt.date | None = None, *, scope: Scope) -> Manifest:
    """The calling stall's (or volunteer's) meals of ``day`` (today by default), with what the
    cook and the rider need to know of each recipient; one query."""
    day = day or today()
    if scope.stall is not None:
        own, shown = Delivery.vendor_id == scope.stall, true()
    elif scope.helper is not None:
        claims.approved(scope)  # pending, suspended, rejected: 403
        # A volunteer knows whom a meal is for while they hold that person, no longer: a meal of a
        # claim that ended (another day's, or today's cancelled one) shows its status alone.
        own, shown = Delivery.volunteer_id == scope.helper, claims.held_by(scope.helper, Delivery.recipient_id)
    else:
        raise Forbidden(_l("a manifest is a stall's or a volunteer's"))
    slot = {meal: i for i, meal in enumerate(settings().meal_slots)}
    person = (Recipient.id.label("recipient_id"), Recipient.name, Recipient.address, Recipient.latitude,
              Recipient.longitude, Recipient.phone, Recipient.dietary_needs)
    rows = db.session.execute(
        select(Delivery.id, Delivery.meal, Delivery.status, shown.label("shown"),
               *(case((shown, column), else_=null()).label(column.key) for column in person))
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(own, Delivery.date == day)
        .order_by(*([] if scope.stall is not None else [shown.desc()]), Recipient.name, Delivery.id)
    ).all()
    rows.sort(key=lambda r: slot.get(r.meal, len(slot)))  # lunch round, then dinner round; stable by name
    return Manifest(date=day, vendor_id=scope.stall, volunteer_id=scope.helper,
                    deliveries=[{k: v for k, v in r._asdict().items() if k != "shown"} for r in rows])


def _confirm_statement(own: str | None, audit_inside: bool):
    """``UPDATE deliveries SET <the stall's word> WHERE <today's scheduled meal> RETURNING *``,
    built once: this is the hottest write of the program, and building and hashing a statement
    per request costs more than running it. Core, not the ORM's bulk UPDATE, for the same reason.

    On PostgreSQL (``audit_inside``) the confirmation's audit event is written by the same statement
    (a data-modifying CTE): the trail costs no round trip. SQLite, which has none, gets a second
    statement in-process (``_audit_confirmation``), as does Citus, which would run such a CTE
    through the coordinator rather than on the meal's shard."""
    columns = Delivery.__table__.c
    # Today's meal, before the cut-off (the caller checks the clock) and while the day is not
    # closed: a closed day stays closed when the cut-off is moved later (``scheduling.day_open``).
    scope = [columns.id == bindparam("delivery_id"), columns.status == "scheduled", columns.date == bindparam("today"),
             columns.region_code == bindparam("region"), ~DeliveryDay.closed(bindparam("today"), columns.region_code)]
    if own:
        scope.append(columns[own] == bindparam("own"))
    confirming = update(Delivery.__table__).where(*scope).values(
        status=bindparam("new_status"), reason=bindparam("new_reason"), delivered_at=bindparam("new_delivered_at"),
        latitude=bindparam("new_latitude"), longitude=bindparam("new_longitude"), confirmed_at=bindparam("now"),
        confirmed_by=bindparam("by"),
    ).returning(*columns, Delivery.has_evidence.label("has_evidence"))
    if not audit_inside:
        return confirming
    confirmed = confirming.cte("confirmed")
    c = confirmed.c

    def change(column):  # [old, new] of a field the confirmation set; none for a field it left empty
        return case((column.is_not(None), func.jsonb_build_array(null(), column)))

    changes = func.jsonb_strip_nulls(func.jsonb_build_object(
        literal_column("'status'"), func.jsonb_build_array(literal_column("'scheduled'"), c.status),
        *(part for name in CONFIRMED_FIELDS for part in (literal_column(f"'{name}'"), change(c[name])))))
    audit = insert(AuditEvent.__table__).from_select(
        ["at", "actor_id", "actor", "action", "entity", "entity_id", "changes", "region_code"],
        select(bindparam("now"), bindparam("actor_id", type_=Integer), bindparam("actor", type_=String),
               literal_column("'confirm'"), literal_column("'delivery'"), c.id, changes, c.region_code),
    ).cte("audit")
    return select(confirmed).add_cte(audit)


# What a confirmation writes besides its status, as the audit trail shows it.
CONFIRMED_FIELDS = ("reason", "delivered_at", "latitude", "longitude")
# By the column that must name the caller: a stall's meals, a volunteer's, or (staff) any.
_CONFIRM = {(inside, own): _confirm_statement(own, inside) for inside in (True, False)
            for own in (None, "vendor_id", "volunteer_id")}


def _audit_confirmation(row: Row, scope: Scope) -> None:
    """The confirmation's event in the trail, where the confirming statement could not write it."""
    changes = {"status": ["scheduled", row.status]}
    changes.update({name: [None, plain(getattr(row, name))] for name in CONFIRMED_FIELDS
                    if getattr(row, name) is not None})
    record(db.session, [("confirm", "delivery", row.id, changes, row.region_code)], actor=(scope.user_id, scope.label))


@dataclass(frozen=True)
class Confirmed:
    """A meal as its confirmation answers it: the delivery as it stands after the stall's word,
    whether the statement just changed it or it was confirmed so before."""

    id: int
    recipient_id: int
    vendor_id: int | None
    volunteer_id: int | None
    village_id: int
    date: dt.date
    meal: str
    status: str
    reason: str | None
    cause: dict | None
    delivered_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    confirmed_at: dt.datetime | None
    confirmed_by: int | None
    photo_sha256: str | None
    has_evidence: bool

    @classmethod
    def of(cls, meal: Delivery | Row) -> Confirmed:
        return cls(*(getattr(meal, name) for name in cls.__dataclass_fields__))


def confirm(
    delivery_id: int, status: str, *, scope: Scope, reason: str | None = None,
    delivered_at: dt.datetime | None = None, latitude: float | None = None, longitude: float | None = None,
) -> Confirmed:
    """The stall's (or the volunteer's) word on one meal: ``delivered``, or ``failed`` with a reason.

    Confirming again with the same outcome changes nothing (a phone's retry); another outcome is
    a conflict, as is any confirmation after the day's cut-off or once the day is closed (the meal
    is ``missed``: the day's coverage counted it so, and the statement pays what coverage counts),
    of a cancelled meal, or of a day not begun.
    """
    _check_word(status, reason, delivered_at, latitude, longitude)
    program = settings()
    moment = clock.now()
    day = today(program)  # only today's meals can be confirmed, and only before its cut-off
    if delivered_at is not None:
        if clock.day_of(delivered_at, program) != day or delivered_at > moment + CLOCK_SKEW:
            raise Invalid({"delivered_at": [_l("must be today (%(day)s) and not in the future", day=day)]})
    if moment < cutoff_at(day, program):
        # The usual case in one statement: a scheduled meal of today becomes confirmed. A retry
        # racing its original waits for the row, then finds it confirmed and changes nothing.
        connection = db.session.connection()
        own = "vendor_id" if scope.stall is not None else "volunteer_id" if scope.helper is not None else None
        if own is None and scope.role in ("vendor", "volunteer"):  # one who acts for nobody reaches no meal
            raise NotFound("delivery", delivery_id)
        audit_inside = connection.dialect.name == "postgresql" and not on_citus(connection)
        confirmed = connection.execute(_CONFIRM[audit_inside, own], {
            "delivery_id": delivery_id, "today": day, "own": scope.stall or scope.helper, "new_status": status,
            "new_reason": reason.strip()[:300] if status == "failed" and reason else None,
            "new_delivered_at": (delivered_at or moment) if status == "delivered" else None,
            "new_latitude": latitude, "new_longitude": longitude, "now": moment, "by": scope.user_id,
            "actor_id": scope.user_id, "actor": scope.label, "region": working_region(db.session),
        }).first()
        if confirmed is not None:
            if not audit_inside:
                _audit_confirmation(confirmed, scope)
            return Confirmed.of(confirmed)
    delivery = own_delivery(delivery_id, scope)
    if delivery.status == status:  # the same answer again: nothing changes
        return Confirmed.of(delivery)
    raise _why_not(delivery, day, program)


def _check_word(status: str, reason: str | None, delivered_at: dt.datetime | None, latitude: float | None,
                longitude: float | None) -> None:
    """The stall's word, field by field, before anything is read."""
    errors: dict[str, list[str]] = {}
    if status not in OUTCOMES:
        errors["status"] = [_l("must be one of %(value)s", value=', '.join(OUTCOMES))]
    if status == "failed" and not (reason or "").strip():
        errors["reason"] = [_l("say why the meal could not be delivered")]
    if (latitude is None) != (longitude is None):
        errors["latitude"] = [_l("send latitude and longitude together")]
    if delivered_at is not None and delivered_at.tzinfo is None:
        errors["delivered_at"] = [_l("give the time with its offset, such as 2026-11-23T11:30:00+07:00")]
    if errors:
        raise Invalid(errors)


def closed_day(day: dt.date, program) -> tuple[str, dict[str, str]]:
    """Why ``day`` takes no more confirmations, in words that name its cut-off and the program's
    local time (someone trying after 21:00 WIB, or from another timezone, learns why), and the same
    two moments as fields of the refusal (``cutoff_at``, ``local_time``)."""
    closes = cutoff_at(day, program)
    now = clock.now().astimezone(closes.tzinfo)
    words = _l("the day %(day)s closed at its cut-off, %(closes)s (%(timezone)s), and it is %(now)s there now",
               day=day, closes=closes.strftime("%H:%M %Z"), timezone=program.timezone,
               now=now.strftime("%Y-%m-%d %H:%M %Z"))
    return words, {"cutoff_at": closes.isoformat(), "local_time": now.isoformat(timespec="seconds")}


def _why_not(delivery: Delivery, day: dt.date, program) -> InvalidTransition:
    """Why a meal cannot take the stall's word now."""
    said = {"delivery_status": delivery.status}
    if delivery.status in OUTCOMES:
        return InvalidTransition(_l("delivery %(id)s was confirmed as %(status)s already",
                                    id=delivery.id, status=delivery.status), **said)
    if delivery.status == "cancelled":
        return InvalidTransition(_l("delivery %(id)s was cancelled", id=delivery.id), cause=delivery.cause, **said)
    if delivery.date > day:
        now = clock.local(clock.now(), program)
        return InvalidTransition(_l("delivery %(id)s is for %(date)s, not today (%(day)s, %(now)s in "
                                    "%(timezone)s): it is confirmed on its day",
                                    id=delivery.id,
                                    date=delivery.date,
                                    day=day,
                                    now=format(now, '%H:%M %Z'),
                                    timezone=program.timezone),
                                 local_time=now.isoformat(timespec="seconds"), **said)
    closed, moments = closed_day(delivery.date, program)
    if delivery.status == "missed":
        return InvalidTransition(_l("delivery %(id)s was missed: %(closed)s", id=delivery.id, closed=closed),
                                 **moments, **said)
    return InvalidTransition(_l("too late to confirm delivery %(id)s: %(closed)s; a meal is confirmed on "
                                "its day, before the cut-off",
                                id=delivery.id, closed=closed), **moments, **said)


@dataclass
class StatementLine:
    date: dt.date
    delivered: int
    with_evidence: int
    failed: int
    missed: int
    meal_price: int
    amount: int


@dataclass
class Statement:
    vendor_id: int
    vendor_name: str
    month: str
    meal_price: int
    delivered: int
    with_evidence: int
    amount: int
    lines: list[StatementLine]


def statement(vendor_id: int, month: dt.date, *, scope: Scope) -> Statement:
    """What the stall is owed for ``month`` (its first day): delivered meals per day, how many carry
    evidence (a photo or the phone's GPS), and the amount at the meal price in force that day
    (a price changed later changes nothing owed before)."""
    vendor = vendors.stall_of(vendor_id, scope)
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    price_on = program_service.meal_prices(month, last)
    delivered = Delivery.status == "delivered"
    evidence = delivered & Delivery.has_evidence
    counts = {
        row.date: row for row in db.session.execute(
            select(Delivery.date,
                   func.sum(case((delivered, 1), else_=0)).label("delivered"),
                   func.sum(case((evidence, 1), else_=0)).label("with_evidence"),
                   func.sum(case((Delivery.status == "failed", 1), else_=0)).label("failed"),
                   func.sum(case((Delivery.status == "missed", 1), else_=0)).label("missed"))
            .where(Delivery.vendor_id == vendor_id, Delivery.date.between(month, last))
            .group_by(Delivery.date)
        )
    }
    lines = []
    for number in range(1, last.day + 1):
        day = month.replace(day=number)
        row = counts.get(day)
        n = int(row.delivered) if row else 0
        lines.append(StatementLine(date=day, delivered=n, with_evidence=int(row.with_evidence) if row else 0,
                                   failed=int(row.failed) if row else 0, missed=int(row.missed) if row else 0,
                                   meal_price=price_on(day), amount=n * price_on(day)))
    return Statement(
        vendor_id=vendor.id, vendor_name=vendor.name, month=f"{month:%Y-%m}", meal_price=price_on(last),
        delivered=sum(line.delivered for line in lines), with_evidence=sum(line.with_evidence for line in lines),
        amount=sum(line.amount for line in lines), lines=lines,
    )

