"""The recipient registry: registration, the lifecycle, pauses, search."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import joinedload

from service import events
from service.accounts.scope import Scope
from service.db import Page, bound, bulk_insert, check_version, equals, fetch, paginate, utcnow
from service.errors import Conflict, Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _l, lazy, pgettext
from service.program.clock import today
from service.program.models import Area
from service.program.service import get_village, not_a_village, settings
from service.recipients.events import FlagCleared, PausesChanged, RecipientEnrolled, RecipientExited, RecipientVerified
from service.recipients.locating import locate
from service.recipients.models import EXIT_REASONS, NikHolder, Pause, Recipient
from service.recipients.rules import coordinates_error, identity_errors, point_error

# Which statuses each action may start from.
TRANSITIONS = {
    "verify": ("candidate",),
    "enrol": ("verified",),
    "pause": ("verified", "enrolled"),
    "exit": ("verified", "enrolled"),
}


# A recipient is shown with its village, the village's district, its pauses and its place (which
# the place's relationship loads by itself): one query.
AS_SHOWN = (joinedload(Recipient.village).joinedload(Area.parent), joinedload(Recipient.pauses))


def get_recipient(recipient_id: int) -> Recipient:
    return fetch(db.session, Recipient, recipient_id, options=AS_SHOWN)


_COVERED = "recipients.covered_by"  # the session's answers of covered_by: (recipient id, day) -> source


def covered_by(recipient: Recipient) -> str | None:
    """Who reaches the recipient today: ``stall``, ``volunteer`` or None (``Recipient.covered_by_on``).
    A page of a list reads its recipients' at once (``_read_covered``); one recipient, in one query."""
    if recipient.status not in ("verified", "enrolled"):  # a candidate or a person gone: nobody reaches them
        return None
    day = today()
    known = db.session.info.setdefault(_COVERED, {})
    if (recipient.id, day) not in known:
        _read_covered([recipient.id], day)
    return known.get((recipient.id, day))


def _read_covered(ids: list[int], day) -> None:
    known = db.session.info.setdefault(_COVERED, {})
    found = dict(db.session.execute(
        select(Recipient.id, Recipient.covered_by_on(day)).where(Recipient.id.in_(ids))).all())
    known.update({(i, day): found.get(i) for i in ids})


def _with_covered(found: Page[Recipient]) -> Page[Recipient]:
    if found.items:
        _read_covered([r.id for r in found.items], today())
    return found


def _village(village_id: int, nik: str | None = None) -> Area:
    """The village; with ``nik``, also refuse a NIK registered already, here or in another region
    (one round trip for all three)."""
    holder = select(Recipient.id).where(Recipient.nik == nik).scalar_subquery()
    region = select(NikHolder.region_code).where(NikHolder.nik == nik).scalar_subquery()
    row = db.session.execute(select(Area, holder.label("holder"), region.label("region"))
                             .where(Area.id == village_id)).first()
    if row is None or row.Area.kind != "village":
        raise not_a_village(village_id)
    if nik is not None:
        _refuse_held(nik, row.holder, row.region)
    return row.Area


def _refuse_held(nik: str, here: int | None, region: str | None, own_id: int | None = None) -> None:
    """A NIK is one person's, enrolled in one region: registered here (``here``, not the one being
    edited), or held by another region (``region``), it is a 409. Another region's holder is named
    by its region's code alone, never by its id or anything of theirs."""
    if here is not None and here != own_id:
        raise Conflict(_l("a recipient with NIK %(nik)s is registered as %(existing)s", nik=nik, existing=here),
                       existing_id=here)
    if region is not None and here is None and region not in (bound(db.session) or (region,)):
        raise Conflict(_l("a person with NIK %(nik)s is registered in region %(region)s: a person is enrolled in "
                          "one region only (that region can let them go)", nik=nik, region=region), region=region)


def hold_niks(held: list[tuple[str, int]]) -> None:
    """The session's region holds these NIKs (NIK, the recipient's id); one moving to another NIK
    lets the old one go (``release_nik``)."""
    bulk_insert(db.session, NikHolder.__table__, [{"nik": nik, "recipient_id": rid} for nik, rid in held])


def release_nik(nik: str) -> None:
    db.session.execute(delete(NikHolder).where(NikHolder.nik == nik))


def _check_identity(nik: str, birth_date: dt.date, sex: str) -> None:
    program = settings()
    errors = identity_errors(nik, birth_date, sex, program.min_age, today(program))
    if errors:
        raise Invalid(errors)


def _check_unique_nik(nik: str, own_id: int | None = None) -> None:
    here = db.session.scalar(select(Recipient.id).where(Recipient.nik == nik))
    region = db.session.scalar(select(NikHolder.region_code).where(NikHolder.nik == nik))
    _refuse_held(nik, here, region, own_id)


def _place(recipient: Recipient, latitude: float | None, longitude: float | None) -> None:
    """GPS when given, else the geocoder or the village centre (``locate``)."""
    error = coordinates_error(latitude, longitude)
    if error:
        raise Invalid({error[0]: [error[1]]})
    if latitude is not None:
        if error := point_error(latitude, longitude, recipient.village):
            raise Invalid({error[0]: [error[1]]})
        recipient.latitude, recipient.longitude, recipient.location_source = latitude, longitude, "gps"
    else:
        where = locate(recipient.address, recipient.village)
        recipient.latitude, recipient.longitude, recipient.location_source = (
            where.latitude, where.longitude, where.source)


def register_recipient(
    nik: str, name: str, birth_date: dt.date, sex: str, address: str, village_id: int,
    phone: str | None = None, latitude: float | None = None, longitude: float | None = None,
    dietary_needs: list[str] | None = None, notes: str | None = None, source: str = "registry",
) -> Recipient:
    """A new candidate. Checks the NIK against birth date and sex, the age and the village."""
    _check_identity(nik, birth_date, sex)
    village = _village(village_id, nik=nik)
    recipient = Recipient(
        nik=nik, name=name.strip(), birth_date=birth_date, sex=sex, address=address.strip(),
        village=village, phone=phone, dietary_needs=dietary_needs or [], notes=notes,
        status="candidate", source=source, pauses=[],  # a new recipient has none: no query for that
    )
    recipient.assignment = None
    _place(recipient, latitude, longitude)
    db.session.add(recipient)
    db.session.flush()
    hold_niks([(recipient.nik, recipient.id)])
    return recipient


def update_recipient(recipient_id: int, changes: dict[str, Any], expected_version: int | None = None) -> Recipient:
    recipient = get_recipient(recipient_id)
    check_version(recipient, expected_version)
    if recipient.status == "exited":
        raise InvalidTransition(_l("recipient %(recipient_id)s has exited and cannot be edited",
                                   recipient_id=recipient_id))
    if changes.keys() & {"nik", "birth_date", "sex"}:
        nik = changes.get("nik", recipient.nik)
        _check_identity(nik, changes.get("birth_date", recipient.birth_date), changes.get("sex", recipient.sex))
        _check_unique_nik(nik, own_id=recipient.id)
        if nik != recipient.nik:
            release_nik(recipient.nik)
            hold_niks([(nik, recipient.id)])
    changes = dict(changes)
    moved = bool(changes.keys() & {"address", "village_id"})
    if "village_id" in changes:
        recipient.village = get_village(changes.pop("village_id"))
    point_sent = "latitude" in changes or "longitude" in changes
    latitude, longitude = changes.pop("latitude", None), changes.pop("longitude", None)
    for key, value in changes.items():
        setattr(recipient, key, value.strip() if key in ("name", "address") else value)
    if point_sent:  # new coordinates, or both null: forget the point and locate the address again
        _place(recipient, latitude, longitude)
    elif moved and recipient.location_source != "gps":  # a GPS point stays: it is where they live
        _place(recipient, None, None)
    elif moved and (error := point_error(recipient.latitude, recipient.longitude, recipient.village)):
        raise Invalid({"village_id": [_l("the recipient's GPS point is far from this village: %(value)s; "
                                         "send the new point too",
                                         value=error[1])]})
    db.session.flush()
    return recipient


# What may not be done to a recipient, in words (a verb: "pause" is also a noun, hence the context).
ACTIONS = {"verify": lazy(lambda: pgettext("recipient action", "verify")),
           "enrol": lazy(lambda: pgettext("recipient action", "enrol")),
           "pause": lazy(lambda: pgettext("recipient action", "pause")),
           "exit": lazy(lambda: pgettext("recipient action", "exit"))}


def _transition(recipient_id: int, action: str) -> Recipient:
    recipient = get_recipient(recipient_id)
    if recipient.status not in TRANSITIONS[action]:
        allowed = lazy(lambda: str(_l(" or ")).join(TRANSITIONS[action]))
        raise InvalidTransition(
            _l("cannot %(action)s recipient %(recipient_id)s: status is %(status)s, must be %(allowed)s",
               action=ACTIONS[action], recipient_id=recipient_id, status=recipient.status, allowed=allowed),
            current_status=recipient.status,
        )
    return recipient


def verify_recipient(recipient_id: int, eligible: bool, notes: str | None = None, *, scope: Scope) -> Recipient:
    """The social agency's visit decides: ``verified`` if eligible, else ``rejected``."""
    recipient = _transition(recipient_id, "verify")
    recipient.status = "verified" if eligible else "rejected"
    recipient.verification_notes = notes
    recipient.verified_at = utcnow()
    db.session.flush()
    # The visit is done, whichever way it was recorded: its open task closes with it.
    events.publish(RecipientVerified(recipient.id, recipient.status, notes, today(), scope))
    return recipient


def enrol_recipient(recipient_id: int) -> Recipient:
    """Enrol, and place at the nearest eligible stall with room within reach (or none: uncovered)."""
    recipient = _transition(recipient_id, "enrol")
    _check_identity(recipient.nik, recipient.birth_date, recipient.sex)
    recipient.status = "enrolled"
    recipient.enrolled_at = utcnow()
    db.session.flush()
    events.publish(RecipientEnrolled(recipient))  # placed at a stall near them, if one has room
    return recipient


def add_pause(recipient_id: int, start_date: dt.date, end_date: dt.date, reason: str) -> Pause:
    """No meals from ``start_date`` to ``end_date`` inclusive. The past cannot be paused."""
    recipient = _transition(recipient_id, "pause")
    errors: dict[str, list[str]] = {}
    if start_date < today():
        errors["start_date"] = [_l("cannot be in the past")]
    if end_date < start_date:
        errors["end_date"] = [_l("cannot be before start_date")]
    if errors:
        raise Invalid(errors)
    _check_overlap(recipient, start_date, end_date)
    pause = Pause(recipient=recipient, start_date=start_date, end_date=end_date, reason=reason)
    db.session.add(pause)
    db.session.flush()
    events.publish(PausesChanged(recipient.id, start_date))  # meals already scheduled in the pause are cancelled
    return pause


def _check_overlap(recipient: Recipient, start_date: dt.date, end_date: dt.date, own: Pause | None = None) -> None:
    for other in recipient.pauses:
        if other is not own and other.start_date <= end_date and start_date <= other.end_date:
            raise Conflict(
                _l("overlaps pause %(id)s (%(start_date)s to %(end_date)s)",
                   id=other.id, start_date=other.start_date, end_date=other.end_date), existing_id=other.id
            )


def _pause_of(recipient_id: int, pause_id: int) -> Pause:
    pause = db.session.get(Pause, pause_id)
    if pause is None or pause.recipient_id != get_recipient(recipient_id).id:
        raise NotFound("pause", pause_id)
    return pause


def change_pause(recipient_id: int, pause_id: int, end_date: dt.date, reason: str | None = None) -> Pause:
    """Move a pause's end: shorten it (home early from hospital) or extend it.

    Days already past stay as they were: meals resume at the earliest today, so the new end can be
    yesterday but no earlier.
    """
    pause = _pause_of(recipient_id, pause_id)
    _transition(recipient_id, "pause")
    earliest = max(pause.start_date, today() - dt.timedelta(days=1))
    if end_date < earliest:
        raise Invalid({"end_date": [_l("cannot be before %(value)s", value=earliest.isoformat())]})
    _check_overlap(pause.recipient, pause.start_date, end_date, own=pause)
    pause.end_date = end_date
    if reason:
        pause.reason = reason
    db.session.flush()
    events.publish(PausesChanged(recipient_id))
    return pause


def cancel_pause(recipient_id: int, pause_id: int) -> None:
    """Drop a pause that has not begun; one that has begun is shortened instead."""
    pause = _pause_of(recipient_id, pause_id)
    if pause.start_date <= today():
        raise InvalidTransition(_l("pause %(pause_id)s began on %(start_date)s: change its end_date instead",
                                   pause_id=pause_id, start_date=pause.start_date))
    db.session.delete(pause)
    db.session.flush()
    events.publish(PausesChanged(recipient_id))


def exit_recipient(recipient_id: int, reason: str) -> Recipient:
    if reason not in EXIT_REASONS:
        raise Invalid({"reason": [_l("must be one of %(value)s", value=', '.join(EXIT_REASONS))]})
    recipient = _transition(recipient_id, "exit")
    recipient.status = "exited"
    recipient.exit_reason = reason
    recipient.exited_at = utcnow()
    events.publish(RecipientExited(recipient))  # the stall's place is free for someone else at once
    db.session.flush()
    return recipient


def clear_flag(recipient_id: int, *, scope: Scope) -> Recipient:
    """The social agency has looked in on a recipient flagged for days without a meal."""
    recipient = get_recipient(recipient_id)
    if recipient.flagged_on is None:
        raise InvalidTransition(_l("recipient %(recipient_id)s is not flagged", recipient_id=recipient_id))
    flagged_on = recipient.flagged_on
    recipient.flagged_on = None
    recipient.flag_reason = None
    db.session.flush()
    events.publish(FlagCleared(recipient.id, flagged_on, today(), scope))  # its follow-up is done
    return recipient


def _nik_prefix(q: str):
    if len(q) == 16:
        return Recipient.nik == q
    # A range on the unique index, which a LIKE on PostgreSQL's default collation would not use.
    return and_(Recipient.nik >= q.ljust(16, "0"), Recipient.nik <= q.ljust(16, "9"))


def list_recipients(
    page: int, per_page: int, status: list[str] | None = None, village_id: int | None = None,
    district_id: int | None = None, q: str | None = None, vendor_id: int | None = None,
    covered: bool | None = None, flagged: bool | None = None,
) -> Page[Recipient]:
    """Recipients in id order; ``q`` is a NIK (or its first digits) or part of a name; ``covered``
    means reached today (by a stall that may cook or a volunteer's claim)."""
    query = select(Recipient).options(*AS_SHOWN).order_by(Recipient.id)
    if vendor_id is not None:
        query = query.where(Recipient.assignment.has(vendor_id=vendor_id))
    if covered is not None:
        condition = Recipient.reached_on(today())
        query = query.where(condition if covered else ~condition)
    if flagged is not None:
        query = query.where(Recipient.flagged_on.is_not(None) if flagged else Recipient.flagged_on.is_(None))
    if status:
        query = query.where(Recipient.status.in_(status))
    if village_id is not None:
        query = query.where(Recipient.village_id == village_id)
    if district_id is not None:
        query = query.where(Recipient.village_id.in_(select(Area.id).where(Area.parent_id == district_id)))
    q = (q or "").strip()
    if q:
        if q.isascii() and q.isdigit() and len(q) <= 16:
            query = query.where(_nik_prefix(q))
        else:
            query = query.where(func.lower(Recipient.name).contains(q.lower(), autoescape=True))
    if len(q) == 16 and q.isdigit():
        # A whole NIK names one person at most: a lookup on the unique key, with no LIMIT that
        # would wrap the query (and its joined pauses) in a subquery.
        found = db.session.scalars(query).unique().all()
        return Page(items=found if page == 1 else [], page=page, per_page=per_page, total=len(found))
    return _with_covered(paginate(db.session, query, page, per_page))


def list_uncovered(page: int, per_page: int, status: str | None = None, village_id: int | None = None,
                   district_id: int | None = None) -> Page[Recipient]:
    """Verified or enrolled, not paused today, fed by no stall that may cook today: who the
    program does not reach yet, in registration order."""
    query = select(Recipient).where(Recipient.uncovered_on(today())).options(*AS_SHOWN).order_by(Recipient.id)
    if status:
        query = query.where(equals(Recipient.status, status))
    if village_id is not None:
        query = query.where(Recipient.village_id == village_id)
    if district_id is not None:
        query = query.where(Recipient.village_id.in_(select(Area.id).where(Area.parent_id == district_id)))
    return _with_covered(paginate(db.session, query, page, per_page))
