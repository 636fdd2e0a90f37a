"""The daily loop: schedule a day, give each stall its manifest, take confirmations and photo
evidence from phones, close the day at the cut-off, and count what each stall is owed."""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Integer, Row, String, bindparam, case, func, insert, literal_column, null, select, update

from service.assignments import service as assignments
from service.audit.models import AuditEvent
from service.audit.service import acting, plain, record
from service.db import Page, advisory_lock, paginate
from service.deliveries import coverage, planning
from service.deliveries.models import OUTCOMES, Delivery, DeliveryDay, DeliveryPhoto
from service.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound, TooLarge, UnsupportedMedia
from service.extensions import db
from service.program import service as program_service
from service.program.service import settings, today
from service.recipients.models import Recipient
from service.vendors import service as vendors

SCHEDULE_AHEAD_DAYS = 7  # how far ahead a day may be scheduled by hand
FLAG_AFTER_DAYS = 3  # days running without a delivered meal before the social agency is told
CLOCK_SKEW = dt.timedelta(minutes=10)  # a phone's clock may run this much ahead


@dataclass
class ScheduleReport:
    date: dt.date
    created: int
    existing: int
    moved: int = 0  # recipients moved off stalls that may not cook that day


def _day_row(day: dt.date) -> DeliveryDay:
    row = db.session.get(DeliveryDay, day)
    if row is None:
        row = DeliveryDay(date=day)
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
    first, last = planning.first_open_day(program), today(program) + dt.timedelta(days=SCHEDULE_AHEAD_DAYS)
    if not first <= day <= last:
        raise Invalid({"date": [f"must be from {first} (the first day not closed) to {last}"]})
    advisory_lock(db.session, planning.SCHEDULE_LOCK)
    moved = sum(m.moved + m.uncovered for m in assignments.sweep(day).values())
    created = planning.insert_due(day)
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.date == day)) or 0
    row = _day_row(day)
    row.scheduled_at = row.scheduled_at or program_service.now()
    db.session.flush()
    return ScheduleReport(date=day, created=created, existing=total - created, moved=moved)


def _own(delivery_id: int, vendor_id: int | None, for_update: bool = False) -> Delivery:
    """The delivery, if the caller may see it (``vendor_id``: the calling stall's); else 404."""
    delivery = db.session.get(Delivery, delivery_id, with_for_update=for_update)
    if delivery is None or (vendor_id is not None and delivery.vendor_id != vendor_id):
        raise NotFound("delivery", delivery_id)
    return delivery


# A delivery as those whose work is not the registry see it (the health, education and other
# agencies): the meal and how it went, not whom it fed, where (a meal's GPS point is within metres
# of a home), nor the stall's words about the person. Selected as columns, so the rest never leaves
# the database.
WITHOUT_PERSON = (Delivery.id, Delivery.vendor_id, Delivery.volunteer_id, Delivery.village_id, Delivery.date,
                  Delivery.meal, Delivery.status, Delivery.delivered_at, Delivery.confirmed_at, Delivery.confirmed_by,
                  Delivery.has_evidence.label("has_evidence"))


def get_delivery(delivery_id: int, own: int | None = None, with_person: bool = True) -> Delivery | Row:
    """The delivery (``own``: the calling stall's only); without ``with_person``, only its
    ``WITHOUT_PERSON`` columns."""
    if with_person:
        return _own(delivery_id, own)
    found = db.session.execute(select(*WITHOUT_PERSON).where(Delivery.id == delivery_id)).first()
    if found is None:
        raise NotFound("delivery", delivery_id)
    return found


def list_deliveries(
    page: int, per_page: int, date: dt.date | None = None, vendor_id: int | None = None,
    status: str | None = None, village_id: int | None = None, recipient_id: int | None = None,
    meal: str | None = None, own: int | None = None, with_person: bool = True,
) -> Page[Delivery] | Page[Row]:
    """Deliveries, newest day first (``own``: the calling stall's only). Without ``with_person``,
    only their ``WITHOUT_PERSON`` columns, and no following one recipient day by day."""
    if with_person:
        query = select(Delivery)
    elif recipient_id is not None:
        raise Forbidden("deliveries by recipient are for the registry's staff and the stall that feeds them")
    else:
        query = select(*WITHOUT_PERSON)
    query = query.order_by(Delivery.date.desc(), Delivery.id)
    if own is not None:
        query = query.where(Delivery.vendor_id == own)
    for column, value in ((Delivery.date, date), (Delivery.vendor_id, vendor_id), (Delivery.status, status),
                          (Delivery.village_id, village_id), (Delivery.recipient_id, recipient_id),
                          (Delivery.meal, meal)):
        if value is not None:
            query = query.where(column == value)
    return paginate(db.session, query, page, per_page)


@dataclass
class Manifest:
    date: dt.date
    vendor_id: int
    deliveries: list = field(default_factory=list)


def manifest(vendor_id: int, day: dt.date | None = None) -> Manifest:
    """The stall's meals of ``day`` (today by default), with what the cook and the rider need to
    know of each recipient; one query."""
    day = day or today()
    slot = {meal: i for i, meal in enumerate(settings().meal_slots)}
    rows = db.session.execute(
        select(Delivery.id, Delivery.meal, Delivery.status, Recipient.id, Recipient.name, Recipient.address,
               Recipient.latitude, Recipient.longitude, Recipient.phone, Recipient.dietary_needs)
        .join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(Delivery.vendor_id == vendor_id, Delivery.date == day)
        .order_by(Recipient.name, Recipient.id)
    ).all()
    rows.sort(key=lambda r: slot.get(r[1], len(slot)))  # lunch round, then dinner round; stable by name
    keys = ("id", "meal", "status", "recipient_id", "name", "address", "latitude", "longitude", "phone",
            "dietary_needs")
    return Manifest(date=day, vendor_id=vendor_id, deliveries=[dict(zip(keys, r)) for r in rows])


def _confirm_statement(own: bool, dialect: str):
    """``UPDATE deliveries SET <the stall's word> WHERE <today's scheduled meal> RETURNING *``,
    built once: this is the hottest write of the program, and building and hashing a statement
    per request costs more than running it. Core, not the ORM's bulk UPDATE, for the same reason.

    On PostgreSQL the confirmation's audit event is written by the same statement (a
    data-modifying CTE): the trail costs no round trip. SQLite, which has none, gets a second
    statement in-process (``_audit_confirmation``)."""
    columns = Delivery.__table__.c
    scope = [columns.id == bindparam("delivery_id"), columns.status == "scheduled", columns.date == bindparam("today")]
    if own:
        scope.append(columns.vendor_id == bindparam("own"))
    confirming = update(Delivery.__table__).where(*scope).values(
        status=bindparam("new_status"), reason=bindparam("new_reason"), delivered_at=bindparam("new_delivered_at"),
        latitude=bindparam("new_latitude"), longitude=bindparam("new_longitude"), confirmed_at=bindparam("now"),
        confirmed_by=bindparam("by"),
    ).returning(*columns, Delivery.has_evidence.label("has_evidence"))
    if dialect != "postgresql":
        return confirming
    confirmed = confirming.cte("confirmed")
    c = confirmed.c

    def change(column):  # [old, new] of a field the confirmation set; none for a field it left empty
        return case((column.is_not(None), func.jsonb_build_array(null(), column)))

    changes = func.jsonb_strip_nulls(func.jsonb_build_object(
        literal_column("'status'"), func.jsonb_build_array(literal_column("'scheduled'"), c.status),
        *(part for name in CONFIRMED_FIELDS for part in (literal_column(f"'{name}'"), change(c[name])))))
    audit = insert(AuditEvent.__table__).from_select(
        ["at", "actor_id", "actor", "action", "entity", "entity_id", "changes"],
        select(bindparam("now"), bindparam("actor_id", type_=Integer), bindparam("actor", type_=String),
               literal_column("'confirm'"), literal_column("'delivery'"), c.id, changes),
    ).cte("audit")
    return select(confirmed).add_cte(audit)


# What a confirmation writes besides its status, as the audit trail shows it.
CONFIRMED_FIELDS = ("reason", "delivered_at", "latitude", "longitude")
_CONFIRM = {(dialect, own): _confirm_statement(own, dialect) for dialect in ("postgresql", "sqlite")
            for own in (False, True)}


def _audit_confirmation(row: Row) -> None:
    """The confirmation's event in the trail, where the confirming statement could not write it."""
    changes = {"status": ["scheduled", row.status]}
    changes.update({name: [None, plain(getattr(row, name))] for name in CONFIRMED_FIELDS
                    if getattr(row, name) is not None})
    record(db.session, [("confirm", "delivery", row.id, changes)])


def confirm(
    delivery_id: int, status: str, *, by: int, own: int | None, reason: str | None = None,
    delivered_at: dt.datetime | None = None, latitude: float | None = None, longitude: float | None = None,
) -> Delivery | Row:
    """The stall's word on one meal: ``delivered``, or ``failed`` with a reason.

    Confirming again with the same outcome changes nothing (a phone's retry); another outcome is
    a conflict, as is any confirmation after the day's cut-off (the meal is ``missed``), of a
    cancelled meal, or of a day not begun.
    """
    errors: dict[str, list[str]] = {}
    if status not in OUTCOMES:
        errors["status"] = [f"must be one of {', '.join(OUTCOMES)}"]
    if status == "failed" and not (reason or "").strip():
        errors["reason"] = ["say why the meal could not be delivered"]
    if (latitude is None) != (longitude is None):
        errors["latitude"] = ["send latitude and longitude together"]
    if delivered_at is not None and delivered_at.tzinfo is None:
        errors["delivered_at"] = ["give the time with its offset, such as 2026-11-23T11:30:00+07:00"]
    if errors:
        raise Invalid(errors)
    program = settings()
    moment = program_service.now()
    day = today(program)  # only today's meals can be confirmed, and only before its cut-off
    if delivered_at is not None:
        local = delivered_at.astimezone(ZoneInfo(program.timezone))
        if local.date() != day or delivered_at > moment + CLOCK_SKEW:
            raise Invalid({"delivered_at": [f"must be today ({day}) and not in the future"]})
    if moment < planning.cutoff_at(day, program):
        # The usual case in one statement: a scheduled meal of today becomes confirmed. A retry
        # racing its original waits for the row, then finds it confirmed and changes nothing.
        connection = db.session.connection()
        actor_id, actor = acting(db.session)
        confirmed = connection.execute(_CONFIRM[connection.dialect.name, own is not None], {
            "delivery_id": delivery_id, "today": day, "own": own, "new_status": status,
            "new_reason": reason.strip()[:300] if status == "failed" and reason else None,
            "new_delivered_at": (delivered_at or moment) if status == "delivered" else None,
            "new_latitude": latitude, "new_longitude": longitude, "now": moment, "by": by,
            "actor_id": actor_id, "actor": actor,
        }).first()
        if confirmed is not None:
            if connection.dialect.name != "postgresql":
                _audit_confirmation(confirmed)
            return confirmed
    # Not confirmed: say why (or, for the same answer again, change nothing).
    delivery = _own(delivery_id, own)
    if delivery.status == status:
        return delivery
    if delivery.status in OUTCOMES:
        raise InvalidTransition(f"delivery {delivery_id} was confirmed as {delivery.status} already",
                                delivery_status=delivery.status)
    if delivery.status == "missed":
        raise InvalidTransition(f"delivery {delivery_id} was missed: its day closed at the cut-off",
                                delivery_status=delivery.status)
    if delivery.status == "cancelled":
        raise InvalidTransition(f"delivery {delivery_id} was cancelled ({delivery.reason})",
                                delivery_status=delivery.status)
    if delivery.date > day:
        raise InvalidTransition(f"delivery {delivery_id} is for {delivery.date}, not today",
                                delivery_status=delivery.status)
    raise InvalidTransition(f"the day {delivery.date} closed at {program.delivery_cutoff:%H:%M}: too late to "
                            "confirm", delivery_status=delivery.status)


JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
EXTENSION = {"jpeg": "jpg", "png": "png"}
MEDIA_TYPE = {"jpg": "image/jpeg", "png": "image/png"}


def _image_kind(data: bytes) -> str:
    """``jpeg`` or ``png`` if ``data`` is one (its signature and a decoder's check), else refused;
    an image of more than ``PHOTO_MAX_PIXELS`` pixels is too large, whatever its bytes (a small
    file can unpack into gigabytes: Pillow's decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    kind = "jpeg" if data.startswith(JPEG) else "png" if data.startswith(PNG) else None
    if kind is None:
        raise UnsupportedMedia("the photo must be a JPEG or PNG image")
    max_pixels = current_app.config["PHOTO_MAX_PIXELS"]
    too_large = TooLarge(f"the photo has more than {max_pixels / 1e6:g} million pixels: send a smaller one")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format.lower() != kind:
                    raise UnsupportedMedia("the photo must be a JPEG or PNG image")
                if image.width * image.height > max_pixels:
                    raise too_large
                image.verify()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"the photo is not a readable {kind.upper()} image") from exc
    return kind


def photo_folder() -> str:
    return current_app.config["PHOTO_FOLDER"] or os.path.join(current_app.instance_path, "photos")


def _photo_file(digest: str, extension: str) -> str:
    return os.path.join(photo_folder(), digest[:2], f"{digest}.{extension}")


def photo_file(delivery: Delivery) -> tuple[str, str] | None:
    """Where the delivery's photo is kept and its media type (as its content was checked), or None."""
    if delivery.photo_sha256 is None:
        return None
    for extension, media_type in MEDIA_TYPE.items():
        if os.path.exists(path := _photo_file(delivery.photo_sha256, extension)):
            return path, media_type
    return None


def attach_photo(delivery_id: int, data: bytes, *, own: int | None, by: int | None) -> Delivery:
    """Keep a photo of the handover as evidence, stored once under the instance folder by its
    sha256 (``photos/ab/abcd....jpg``): JPEG or PNG by content, at most ``PHOTO_MAX_BYTES`` and
    ``PHOTO_MAX_PIXELS``.

    Evidence belongs to the meal as it happened: only a meal confirmed delivered or failed, and the
    stall (``own``) adds it only on the meal's own day before the cut-off; after that only the
    program office (``own`` None) may, and every upload is in the audit trail. An image already
    evidence for another delivery is refused; sending the same one again changes nothing."""
    delivery = _own(delivery_id, own, for_update=True)
    if delivery.status not in OUTCOMES:
        hint = "confirm it first" if delivery.status == "scheduled" else "no evidence to add"
        raise InvalidTransition(f"delivery {delivery_id} is {delivery.status}: {hint}", delivery_status=delivery.status)
    program = settings()
    if own is not None and (delivery.date != today(program) or program_service.now() >= planning.cutoff_at(
            delivery.date, program)):
        raise InvalidTransition(f"the day {delivery.date} is closed: evidence after the cut-off is added by the "
                                "program office", delivery_status=delivery.status)
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if len(data) > limit:
        raise TooLarge(f"the photo is larger than {limit // (1024 * 1024)} MB")
    kind = _image_kind(data)
    digest = hashlib.sha256(data).hexdigest()
    kept = db.session.scalar(select(DeliveryPhoto).where(DeliveryPhoto.sha256 == digest))
    if kept is not None and kept.delivery_id != delivery.id:
        raise Conflict("this photo is evidence for another delivery already: take a photo of this handover")
    if kept is None:
        db.session.add(DeliveryPhoto(sha256=digest, delivery_id=delivery.id, delivery_date=delivery.date,
                                     uploaded_by=by))
    if delivery.photo_sha256 == digest:
        return delivery  # the same photo again: nothing changes
    path = _photo_file(digest, EXTENSION[kind])
    if not os.path.exists(path):
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:  # never a half-written file
            tmp.write(data)
        os.replace(tmp.name, path)
    record(db.session, [("photo", "delivery", delivery.id, {"photo_sha256": [delivery.photo_sha256, digest]})])
    delivery.photo_sha256 = digest
    db.session.flush()
    return delivery


@dataclass
class CloseReport:
    date: dt.date
    missed: int
    flagged: int
    coverage_rate: float


def close_day(day: dt.date) -> CloseReport:
    """The cut-off of ``day``: meals still ``scheduled`` become ``missed``; a recipient without a
    delivered meal for three days running is flagged for the social agency; the day's coverage is
    written to the summary the trend reads. Running it again changes nothing more."""
    program = settings()
    if program_service.now() < planning.cutoff_at(day, program):
        raise Invalid({"date": [f"{day} closes at {program.delivery_cutoff:%H:%M} ({program.timezone})"]})
    advisory_lock(db.session, planning.SCHEDULE_LOCK)
    missed = db.session.execute(
        update(Delivery).where(Delivery.date == day, Delivery.status == "scheduled")
        .values(status="missed", reason="not confirmed by the cut-off")
        .execution_options(synchronize_session=False)
    ).rowcount
    flagged = _flag_unfed(day)
    summary = coverage.write_summary(day)
    row = _day_row(day)
    row.closed_at = row.closed_at or program_service.now()
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
        recipient.flag_reason = f"no meal delivered from {first} to {day} (failed or missed)"
    db.session.flush()
    return len(people)


@dataclass
class StatementLine:
    date: dt.date
    delivered: int
    with_evidence: int
    failed: int
    missed: int
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


def statement(vendor_id: int, month: dt.date, own: int | None = None) -> Statement:
    """What the stall is owed for ``month`` (its first day): delivered meals per day, how many carry
    evidence (a photo or the phone's GPS), and the amount at ``meal_price``."""
    vendor = vendors.get_vendor(vendor_id, own=own)
    price = settings().meal_price
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
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
                                   amount=n * price))
    return Statement(
        vendor_id=vendor.id, vendor_name=vendor.name, month=f"{month:%Y-%m}", meal_price=price,
        delivered=sum(line.delivered for line in lines), with_evidence=sum(line.with_evidence for line in lines),
        amount=sum(line.amount for line in lines), lines=lines,
    )

