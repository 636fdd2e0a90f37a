"""Placing recipients at stalls one change at a time: a new enrolment, an exit, and a stall that
may no longer cook (or has less room, or moved) handing its recipients to others, or one with room
taking in those nobody reaches. The global optimum is ``rebalance``.

Every change of place is written to the assignment row with its reason, in the caller's
transaction, and so to the audit trail (``entity=assignment``, ``entity_id=<recipient id>``).
Changes are serialised by one lock per program (a PostgreSQL advisory lock held to the end of the
transaction), so two enrolments cannot both take a stall's last place. When places change, the
recipients' meals follow (``PlacesChanged``, which the daily loop acts on).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.orm import joinedload

from service import events, geo
from service.assignments.events import PlacesChanged
from service.assignments.models import Assignment
from service.codes import Code, code
from service.db import advisory_lock, utcnow
from service.extensions import db
from service.program.clock import today
from service.program.service import settings
from service.recipients.events import RecipientEnrolled, RecipientExited
from service.recipients.models import Recipient
from service.vendors.events import Moves, StallChanged
from service.vendors.models import Vendor

_LOCK_KEY = 0x52414E54  # "RANT": the program's assignment lock


def lock() -> None:
    """Serialise changes of assignments until the transaction ends."""
    advisory_lock(db.session, _LOCK_KEY)


def _open_stalls(day: dt.date, points: Sequence[tuple[float, float]], km: float,
                 exclude: int | None = None) -> list[Vendor]:
    """Stalls that may cook on ``day``, have room, and lie near the points."""
    if not points:
        return []
    query = select(Vendor).where(Vendor.may_cook_on(day), Vendor.daily_capacity > Vendor.assigned_count,
                                 geo.near(Vendor, points, km))
    if exclude is not None:
        query = query.where(Vendor.id != exclude)
    # Loads are counted now, not taken from stalls the session loaded before.
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def _nearest_pairs_first(
    recipients: Sequence[Recipient], stalls: Sequence[Vendor], max_km: float
) -> dict[int, tuple[Vendor, float]]:
    """Recipient id -> (stall, km): the nearest pair with room first, then the next nearest."""
    if not recipients or not stalls:
        return {}
    r_lat, r_lon = (np.repeat([[r.latitude, r.longitude] for r in recipients], len(stalls), axis=0).T)
    v_lat, v_lon = (np.tile([[v.latitude, v.longitude] for v in stalls], (len(recipients), 1)).T)
    kms = geo.geodesic_km_many(r_lat, r_lon, v_lat, v_lon)
    pairs = sorted(
        (km, r.id, v.id)
        for (r, v), km in zip(((r, v) for r in recipients for v in stalls), kms) if km <= max_km
    )
    room = {v.id: v.daily_capacity - v.assigned_count for v in stalls}
    by_id = {v.id: v for v in stalls}
    placed: dict[int, tuple[Vendor, float]] = {}
    for km, recipient_id, vendor_id in pairs:
        if recipient_id not in placed and room[vendor_id] > 0:
            placed[recipient_id] = (by_id[vendor_id], km)
            room[vendor_id] -= 1
    return placed


def _set(assignment: Assignment, vendor: Vendor | None, km: float | None, reason: Code) -> None:
    assignment.vendor = vendor
    assignment.distance_km = km
    assignment.reason = reason
    assignment.since = utcnow()


def assign_on_enrolment(recipient: Recipient) -> Assignment:
    """Place a newly enrolled recipient at the nearest eligible stall with room within reach, or
    leave them enrolled and uncovered (they appear in ``GET /recipients/uncovered``)."""
    lock()
    program = settings()
    day = today(program)
    stalls = _open_stalls(day, [(recipient.latitude, recipient.longitude)], program.max_vendor_distance_km)
    placed = _nearest_pairs_first([recipient], stalls, program.max_vendor_distance_km)
    assignment = recipient.assignment or Assignment(recipient_id=recipient.id)
    if recipient.id in placed:
        vendor, km = placed[recipient.id]
        _set(assignment, vendor, km, code("enrolled_placed", km=km))
    else:
        _set(assignment, None, None, code("enrolled_unplaced", reach_km=program.max_vendor_distance_km))
    recipient.assignment = assignment
    db.session.flush()
    _expire_loads(stalls)
    events.publish(PlacesChanged([recipient.id], day + dt.timedelta(days=1)))  # days already scheduled
    return assignment


def release(recipient: Recipient) -> None:
    """Give up the recipient's place (exit): the stall's place is free at once."""
    if recipient.assignment is not None:
        lock()
        vendor = recipient.assignment.vendor
        recipient.assignment = None
        db.session.flush()
        _expire_loads([vendor] if vendor else [])
        events.publish(PlacesChanged([recipient.id]))  # the meals not yet delivered are cancelled


def settle(vendor: Vendor, cause: Code, relocated: bool = False, day: dt.date | None = None) -> Moves:
    """Bring the stall's recipients in line with what it is on ``day`` (today by default), in the
    caller's transaction.

    A stall that may not cook loses all its recipients to other stalls (or to the uncovered
    list); one with less room than recipients, or whose kitchen moved out of someone's reach,
    loses the farthest; one with room left takes uncovered recipients near it.
    """
    program = settings()
    day = day or today(program)
    if not vendor.may_cook_on(day):
        return displace(vendor, why_ineligible(vendor, day), day=day)
    lock()
    mine = db.session.scalars(
        select(Assignment).where(Assignment.vendor_id == vendor.id).options(joinedload(Assignment.recipient))
    ).all()
    if relocated:
        for a in mine:
            a.distance_km = geo.geodesic_km(a.recipient.latitude, a.recipient.longitude, vendor.latitude,
                                            vendor.longitude)
        db.session.flush()
    within = sum(1 for a in mine if a.within_reach)
    keep = min(vendor.daily_capacity, within)
    moves = displace(vendor, cause, keep=keep, day=day) if len(mine) > keep else Moves()
    moves.placed = fill(vendor, cause, day=day)
    return moves


def displace(vendor: Vendor, cause: Code, keep: int = 0, day: dt.date | None = None) -> Moves:
    """Move the stall's recipients to other stalls that may cook on ``day`` (today by default),
    nearest first, keeping the ``keep`` nearest to it; those that no stall within reach can take
    become uncovered. In the caller's transaction; every move carries ``cause`` in the trail.

    Their scheduled meals follow them: from today if the stall may not cook today (what it has
    not delivered yet goes to the new stall), else from the day after (today's are cooking)."""
    lock()
    program = settings()
    now_day = today(program)
    day = day or now_day
    rows = db.session.scalars(
        select(Assignment).where(Assignment.vendor_id == vendor.id)
        .options(joinedload(Assignment.recipient)).order_by(Assignment.distance_km, Assignment.recipient_id)
    ).all()
    leaving = rows[keep:]
    if not leaving:
        return Moves()
    recipients = [a.recipient for a in leaving]
    stalls = _open_stalls(day, [(r.latitude, r.longitude) for r in recipients],
                          program.max_vendor_distance_km, exclude=vendor.id)
    placed = _nearest_pairs_first(recipients, stalls, program.max_vendor_distance_km)
    moves = Moves()
    for assignment in leaving:
        if assignment.recipient_id in placed:
            new, km = placed[assignment.recipient_id]
            _set(assignment, new, km, code("moved", from_vendor_id=vendor.id, cause=cause, km=km))
            moves.moved += 1
        else:
            _set(assignment, None, None, code("uncovered", from_vendor_id=vendor.id, cause=cause,
                                              reach_km=program.max_vendor_distance_km))
            moves.uncovered += 1
    db.session.flush()
    _expire_loads([vendor, *stalls])
    from_day = now_day if not vendor.may_cook_on(now_day) else max(day, now_day + dt.timedelta(days=1))
    events.publish(PlacesChanged([a.recipient_id for a in leaving], from_day))
    return moves


def fill(vendor: Vendor, cause: Code, day: dt.date | None = None) -> int:
    """A stall that may cook on ``day`` (today by default) and has room takes uncovered recipients
    near it, nearest first; returns how many. Their meals start with the next day scheduled."""
    program = settings()
    now_day = today(program)
    day = day or now_day
    if not vendor.may_cook_on(day):
        return 0
    lock()
    db.session.refresh(vendor, ["assigned_count"])
    if vendor.assigned_count >= vendor.daily_capacity:
        return 0
    waiting = db.session.scalars(
        select(Assignment).join(Assignment.recipient)
        .where(Assignment.vendor_id.is_(None), Recipient.status == "enrolled",
               geo.near(Recipient, [(vendor.latitude, vendor.longitude)], program.max_vendor_distance_km))
        .options(joinedload(Assignment.recipient))
    ).all()
    placed = _nearest_pairs_first([a.recipient for a in waiting], [vendor], program.max_vendor_distance_km)
    for assignment in waiting:
        if assignment.recipient_id in placed:
            km = placed[assignment.recipient_id][1]
            _set(assignment, vendor, km, code("placed", vendor_id=vendor.id, cause=cause, km=km))
    db.session.flush()
    _expire_loads([vendor])
    events.publish(PlacesChanged(list(placed), max(day, now_day + dt.timedelta(days=1))))
    return len(placed)


def _expire_loads(vendors: Iterable[Vendor]) -> None:
    for v in vendors:
        db.session.expire(v, ["assigned_count"])


def sweep(day: dt.date | None = None) -> dict[int, Moves]:
    """Bring every stall in line with the rules of ``day``: the recipients of a stall that may no
    longer cook (a certificate that expired yesterday, mostly) move, as do those now beyond the
    program's reach (``max_vendor_distance_km`` lowered); a stall with room takes in uncovered
    people near it. Idempotent: the job runner runs it daily, ``flask assignments sweep`` at will."""
    program = settings()
    day = day or today(program)
    beyond = exists().where(Assignment.vendor_id == Vendor.id, not_(Assignment.within_reach))
    stale = db.session.scalars(
        select(Vendor).where(or_(
            and_(not_(Vendor.may_cook_on(day)), Vendor.assigned_count > 0),
            and_(Vendor.may_cook_on(day), or_(beyond, Vendor.assigned_count > Vendor.daily_capacity)),
        )).order_by(Vendor.id)
    ).all()
    cause = code("beyond_reach", reach_km=program.max_vendor_distance_km)
    return {v.id: settle(v, cause, day=day) for v in stale}


def why_ineligible(vendor: Vendor, day: dt.date) -> Code:
    if vendor.status != "active":
        return code("stall_status", status=vendor.status)
    status = vendor.hygiene_status_on(day)
    if status == "expired":
        return code("certificate_expired", on=vendor.hygiene_valid_until)
    if status == "failed":
        return code("inspection_failed", on=vendor.hygiene_inspected_on)
    return code("no_certificate")


# What the registry's and the stalls' events ask of placement (wired in service/wiring.py).

def on_enrolled(event: RecipientEnrolled) -> Assignment:
    return assign_on_enrolment(event.recipient)


def on_exited(event: RecipientExited) -> None:
    release(event.recipient)


def on_stall_changed(event: StallChanged) -> Moves:
    return settle(event.vendor, event.cause, relocated=event.relocated, day=event.day)
