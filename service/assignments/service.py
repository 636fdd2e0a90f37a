"""Who feeds whom: placing recipients at stalls, moving them when a stall may no longer cook, and
the global rebalance.

Every change of place is written to the assignment row with its reason, in the caller's
transaction, and so to the audit trail (``entity=assignment``, ``entity_id=<recipient id>``).
Changes are serialised by one lock per program (a PostgreSQL advisory lock held to the end of the
transaction), so two enrolments cannot both take a stall's last place.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from flask import current_app
from geopy.distance import geodesic
from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, delete, exists, not_, or_, select
from sqlalchemy.orm import joinedload

from service.assignments import solver
from service.assignments.models import Assignment
from service.audit.service import record
from service.db import advisory_lock, bulk_insert, utcnow
from service.extensions import db
from service.program.service import settings, today
from service.deliveries import planning
from service.recipients.models import Recipient, paused_on
from service.vendors.models import Vendor

_LOCK_KEY = 0x52414E54  # "RANT": the program's assignment lock
_GEODESIC = geodesic()
_KM_PER_DEGREE_LAT = 110.574


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """geopy's geodesic distance (WGS-84), in km rounded to the metre: the figure stored and shown."""
    return round(_GEODESIC.measure((lat1, lon1), (lat2, lon2)), 3)


# The solver's local distance is within a millimetre of the geodesic up to this range; see
# geodesic_km_many.
_LOCAL_EXACT_M = 15_000.0
_ROUNDING_MARGIN_M = 0.002


def geodesic_km_many(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> list[float]:
    """``geodesic_km`` for many pairs, equal to it pair by pair, at a fraction of the cost.

    geopy's geodesic costs about 45 microseconds a pair (2 s for a rebalance's 50,000). The
    solver's local ellipsoidal distance is within 1 mm of it up to 15 km, so wherever that
    distance is more than 2 mm from a half metre, rounding it to the metre gives exactly the
    figure geopy's would; geopy itself is asked for the rest (about 1 pair in 250) and for
    anything farther than 15 km. A test holds the two to equality.
    """
    metres = solver.distance_m(lat1, lon1, lat2, lon2)
    whole = np.rint(metres)
    sure = (metres <= _LOCAL_EXACT_M) & (np.abs(np.abs(metres - np.floor(metres)) - 0.5) > _ROUNDING_MARGIN_M)
    out = (whole / 1000).tolist()
    for i in np.flatnonzero(~sure).tolist():
        out[i] = geodesic_km(float(lat1[i]), float(lon1[i]), float(lat2[i]), float(lon2[i]))
    return out


def lock() -> None:
    """Serialise changes of assignments until the transaction ends."""
    advisory_lock(db.session, _LOCK_KEY)


def near(model, points: Sequence[tuple[float, float]], km: float):
    """SQL: the rows of ``model`` inside one box that holds every point within ``km`` of any of
    ``points`` (the exact distance is checked afterwards, on the few rows inside)."""
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    widest = max(abs(lat) for lat in lats)  # a degree of longitude is shortest there
    dlat = km / _KM_PER_DEGREE_LAT * 1.01
    dlon = km / (111.320 * max(math.cos(math.radians(widest)), 0.01)) * 1.01
    return and_(model.latitude.between(min(lats) - dlat, max(lats) + dlat),
                model.longitude.between(min(lons) - dlon, max(lons) + dlon))


def _open_stalls(day: dt.date, points: Sequence[tuple[float, float]], km: float,
                 exclude: int | None = None) -> list[Vendor]:
    """Stalls that may cook on ``day``, have room, and lie near the points."""
    if not points:
        return []
    query = select(Vendor).where(Vendor.eligible_on(day), Vendor.daily_capacity > Vendor.assigned_count,
                                 near(Vendor, points, km))
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
    kms = geodesic_km_many(r_lat, r_lon, v_lat, v_lon)
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


def _set(assignment: Assignment, vendor: Vendor | None, km: float | None, reason: str) -> None:
    assignment.vendor = vendor
    assignment.distance_km = km
    assignment.reason = reason[:300]
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
        _set(assignment, vendor, km, f"enrolled: nearest eligible stall with room ({km:.1f} km)")
    else:
        _set(assignment, None, None,
             f"enrolled: no eligible stall with room within {program.max_vendor_distance_km:g} km")
    recipient.assignment = assignment
    db.session.flush()
    _expire_loads(stalls)
    planning.follow([recipient.id], day + dt.timedelta(days=1))  # meals of days already scheduled
    return assignment


def release(recipient: Recipient) -> None:
    """Give up the recipient's place (exit): the stall's place is free at once."""
    if recipient.assignment is not None:
        lock()
        vendor = recipient.assignment.vendor
        recipient.assignment = None
        db.session.flush()
        _expire_loads([vendor] if vendor else [])
        planning.follow([recipient.id])  # the meals not yet delivered are cancelled


@dataclass
class Moves:
    """What a change at one stall did to recipients."""

    moved: int = 0
    uncovered: int = 0
    placed: int = 0


def settle(vendor: Vendor, cause: str, relocated: bool = False, day: dt.date | None = None) -> Moves:
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
            a.distance_km = geodesic_km(a.recipient.latitude, a.recipient.longitude, vendor.latitude, vendor.longitude)
        db.session.flush()
    within = sum(1 for a in mine if a.distance_km is not None and a.distance_km <= program.max_vendor_distance_km)
    keep = min(vendor.daily_capacity, within)
    moves = displace(vendor, cause, keep=keep, day=day) if len(mine) > keep else Moves()
    moves.placed = fill(vendor, cause, day=day)
    return moves


def displace(vendor: Vendor, cause: str, keep: int = 0, day: dt.date | None = None) -> Moves:
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
            _set(assignment, new, km, f"moved: stall {vendor.id} {cause} ({km:.1f} km)")
            moves.moved += 1
        else:
            _set(assignment, None, None, f"uncovered: stall {vendor.id} {cause}; no eligible stall with "
                 f"room within {program.max_vendor_distance_km:g} km")
            moves.uncovered += 1
    db.session.flush()
    _expire_loads([vendor, *stalls])
    planning.follow([a.recipient_id for a in leaving],
                    now_day if not vendor.may_cook_on(now_day) else max(day, now_day + dt.timedelta(days=1)))
    return moves


def fill(vendor: Vendor, cause: str, day: dt.date | None = None) -> int:
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
               near(Recipient, [(vendor.latitude, vendor.longitude)], program.max_vendor_distance_km))
        .options(joinedload(Assignment.recipient))
    ).all()
    placed = _nearest_pairs_first([a.recipient for a in waiting], [vendor], program.max_vendor_distance_km)
    for assignment in waiting:
        if assignment.recipient_id in placed:
            km = placed[assignment.recipient_id][1]
            _set(assignment, vendor, km, f"placed: stall {vendor.id} {cause} ({km:.1f} km)")
    db.session.flush()
    _expire_loads([vendor])
    planning.follow(list(placed), max(day, now_day + dt.timedelta(days=1)))
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
    beyond = exists().where(Assignment.vendor_id == Vendor.id,
                            Assignment.distance_km > program.max_vendor_distance_km)
    stale = db.session.scalars(
        select(Vendor).where(or_(
            and_(not_(Vendor.eligible_on(day)), Vendor.assigned_count > 0),
            and_(Vendor.eligible_on(day), or_(beyond, Vendor.assigned_count > Vendor.daily_capacity)),
        )).order_by(Vendor.id)
    ).all()
    cause = f"is beyond the program's reach of {program.max_vendor_distance_km:g} km"
    return {v.id: settle(v, cause, day=day) for v in stale}


def why_ineligible(vendor: Vendor, day: dt.date) -> str:
    if vendor.status != "active":
        return f"is {vendor.status}"
    status = vendor.hygiene_status_on(day)
    if status == "expired":
        return f"hygiene certificate expired on {vendor.hygiene_valid_until}"
    if status == "failed":
        return f"failed its hygiene inspection of {vendor.hygiene_inspected_on}"
    return "has no hygiene certificate"


def covered_condition(day: dt.date):
    """SQL: the recipient has a place within the program's reach at a stall that may cook on ``day``."""
    return exists().where(
        Assignment.recipient_id == Recipient.id, Assignment.vendor_id == Vendor.id, Vendor.eligible_on(day),
        Assignment.distance_km <= settings().max_vendor_distance_km,
    )


def uncovered_query(day: dt.date):
    """Verified or enrolled, not paused on ``day``, and fed by no stall that may cook that day
    within the program's reach."""
    return (select(Recipient).where(Recipient.status.in_(("verified", "enrolled")),
                                    not_(paused_on(day)), not_(covered_condition(day))))


@dataclass
class RebalanceReport:
    enrolled: int
    covered: int
    assigned: int
    moved: int
    unassigned: int
    total_distance_km: float
    seconds: float

    @property
    def mean_distance_km(self) -> float:
        return round(self.total_distance_km / self.covered, 3) if self.covered else 0.0


_CHUNK = 10_000


def rebalance() -> RebalanceReport:
    """Place every enrolled recipient optimally: as many covered as can be, nobody who has a place
    losing it, then the least total distance, and nobody farther than ``max_vendor_distance_km``.

    Set-based: one query loads the recipients, one the stalls; the solver works on arrays; the
    changed rows are rewritten in bulk with an audit event each.
    """
    started = time.perf_counter()
    lock()
    program = settings()
    day = today(program)
    people = db.session.execute(
        select(Recipient.id, Recipient.latitude, Recipient.longitude, Assignment.vendor_id,
               Assignment.distance_km, Assignment.reason, Assignment.recipient_id.is_not(None))
        .outerjoin(Assignment, Assignment.recipient_id == Recipient.id)
        .where(Recipient.status == "enrolled").order_by(Recipient.id)
    ).all()
    stalls = db.session.execute(
        select(Vendor.id, Vendor.latitude, Vendor.longitude, Vendor.daily_capacity)
        .where(Vendor.eligible_on(day), Vendor.daily_capacity > 0).order_by(Vendor.id)
    ).all()
    vendor_ids = np.array([s[0] for s in stalls], dtype=np.int64)
    slot = {vid: i for i, vid in enumerate(vendor_ids.tolist())}
    current = np.array([slot.get(p[3], -1) for p in people], dtype=np.int64)
    problem = solver.Problem(
        r_lat=np.array([p[1] for p in people], dtype=float), r_lon=np.array([p[2] for p in people], dtype=float),
        v_lat=np.array([s[1] for s in stalls], dtype=float), v_lon=np.array([s[2] for s in stalls], dtype=float),
        capacity=np.array([s[3] for s in stalls], dtype=np.int64),
        max_m=program.max_vendor_distance_km * 1000, current=current,
    )
    result = solver.rebalance(problem, k=current_app.config["ASSIGNMENT_NEIGHBOURS"])

    now = utcnow()
    placed = result >= 0
    new_vendor = np.where(placed, vendor_ids[np.maximum(result, 0)] if len(vendor_ids) else -1, -1)
    old_vendor = np.array([p[3] if p[3] is not None else -1 for p in people], dtype=np.int64)
    stays = placed & (new_vendor == old_vendor) & np.array([p[4] is not None for p in people], dtype=bool)
    has_row = np.array([p[6] for p in people], dtype=bool)
    changed = np.flatnonzero(~stays & ~(~placed & (old_vendor < 0) & has_row))
    going = changed[placed[changed]]
    km_of = dict(zip(going.tolist(), geodesic_km_many(
        problem.r_lat[going], problem.r_lon[going], problem.v_lat[result[going]], problem.v_lon[result[going]])))
    total = float(sum(people[i][4] for i in np.flatnonzero(stays).tolist()))
    rows, events, ids = [], [], []
    assigned = moved = 0
    for i in changed.tolist():
        recipient_id, _, _, old, old_km, old_reason, exists_ = people[i]
        vendor = int(new_vendor[i]) if placed[i] else None
        km = km_of.get(i)
        if vendor is not None:
            total += km
            if old is None:
                assigned += 1
                reason = f"rebalance: placed at stall {vendor} ({km:.1f} km)"
            else:
                moved += 1
                reason = f"rebalance: moved from stall {old} ({km:.1f} km)"
        else:
            reason = (f"rebalance: no eligible stall with room within {program.max_vendor_distance_km:g} km"
                      + (f"; stall {old} {'cannot keep them' if old in slot else 'may not cook'}"
                         if old is not None else ""))
        rows.append({"recipient_id": recipient_id, "vendor_id": vendor, "distance_km": km,
                     "reason": reason, "since": now})
        if exists_:
            ids.append(recipient_id)
        changes = {"vendor_id": [old, vendor], "distance_km": [old_km, km], "reason": [old_reason, reason]}
        events.append(("update" if exists_ else "create", "assignment", recipient_id, changes))

    # Changed rows are deleted and written again: one DELETE and one COPY (or multi-row INSERT)
    # beat tens of thousands of single-row UPDATEs on both engines.
    if db.session.connection().dialect.name == "postgresql":  # one array parameter, not 50,000
        db.session.execute(delete(Assignment).where(
            Assignment.recipient_id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))))
    else:
        for start in range(0, len(ids), _CHUNK):
            db.session.execute(delete(Assignment).where(Assignment.recipient_id.in_(ids[start:start + _CHUNK])))
    bulk_insert(db.session, Assignment.__table__, rows)
    record(db.session, events)
    db.session.expire_all()
    # Meals already scheduled for the coming days follow (today's stay with the stall cooking them).
    planning.follow([people[i][0] for i in changed.tolist()], day + dt.timedelta(days=1))
    covered = int(np.count_nonzero(result >= 0))
    return RebalanceReport(
        enrolled=len(people), covered=covered, assigned=assigned, moved=moved,
        unassigned=len(people) - covered, total_distance_km=round(total, 3),
        seconds=round(time.perf_counter() - started, 3),
    )
