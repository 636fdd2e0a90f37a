"""The global rebalance: every enrolled recipient placed again, as a whole, optimally (the solver
in ``solver.py``): as many covered as can be, nobody who has a place losing it, then the least
total distance, nobody farther than the program's reach, and nobody moved for nothing."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import ARRAY, Integer, any_, bindparam, delete, select

from service import events, geo
from service.assignments import solver
from service.assignments.events import PlacesChanged
from service.assignments.models import Assignment
from service.assignments.placement import lock
from service.audit.service import record
from service.codes import code
from service.db import bulk_insert, utcnow
from service.extensions import db
from service.program.clock import today
from service.program.service import settings
from service.recipients.models import Recipient
from service.vendors.models import Vendor


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
               Assignment.distance_km, Assignment.reason, Assignment.recipient_id.is_not(None).label("has_row"))
        .outerjoin(Assignment, Assignment.recipient_id == Recipient.id)
        .where(Recipient.status == "enrolled").order_by(Recipient.id)
    ).all()
    stalls = db.session.execute(
        select(Vendor.id, Vendor.latitude, Vendor.longitude, Vendor.daily_capacity)
        .where(Vendor.may_cook_on(day), Vendor.daily_capacity > 0).order_by(Vendor.id)
    ).all()
    plan = _solve(people, stalls, program.max_vendor_distance_km)
    changed = _rewrite(people, plan, program.max_vendor_distance_km)
    # Meals already scheduled for the coming days follow (today's stay with the stall cooking them).
    events.publish(PlacesChanged([people[i].id for i in plan.changed.tolist()], day + dt.timedelta(days=1)))
    covered = int(np.count_nonzero(plan.result >= 0))
    return RebalanceReport(
        enrolled=len(people), covered=covered, assigned=changed.assigned, moved=changed.moved,
        unassigned=len(people) - covered, total_distance_km=round(plan.kept_km + changed.km, 3),
        seconds=round(time.perf_counter() - started, 3),
    )


@dataclass
class _Plan:
    """The solver's answer, read against where everyone is now."""

    result: np.ndarray  # each recipient's stall (an index into the stalls), or -1
    new_vendor: np.ndarray  # each recipient's stall id after the rebalance, or -1
    changed: np.ndarray  # the recipients whose row is written again
    km_of: dict[int, float]  # the geodesic distance of those newly placed
    kept_km: float  # the distance of those who stay where they are
    stalls_open: set[int]  # the stalls that may cook


def _solve(people, stalls, reach_km: float) -> _Plan:
    vendor_ids = np.array([s.id for s in stalls], dtype=np.int64)
    slot = {vendor_id: i for i, vendor_id in enumerate(vendor_ids.tolist())}
    problem = solver.Problem(
        r_lat=np.array([p.latitude for p in people], dtype=float),
        r_lon=np.array([p.longitude for p in people], dtype=float),
        v_lat=np.array([s.latitude for s in stalls], dtype=float),
        v_lon=np.array([s.longitude for s in stalls], dtype=float),
        capacity=np.array([s.daily_capacity for s in stalls], dtype=np.int64),
        max_m=reach_km * 1000, current=np.array([slot.get(p.vendor_id, -1) for p in people], dtype=np.int64),
    )
    result = solver.rebalance(problem, k=current_app.config["ASSIGNMENT_NEIGHBOURS"])
    placed = result >= 0
    new_vendor = np.where(placed, vendor_ids[np.maximum(result, 0)] if len(vendor_ids) else -1, -1)
    old_vendor = np.array([p.vendor_id if p.vendor_id is not None else -1 for p in people], dtype=np.int64)
    stays = placed & (new_vendor == old_vendor) & np.array([p.distance_km is not None for p in people], dtype=bool)
    has_row = np.array([p.has_row for p in people], dtype=bool)
    changed = np.flatnonzero(~stays & ~(~placed & (old_vendor < 0) & has_row))  # not: still nowhere
    going = changed[placed[changed]]
    km_of = dict(zip(going.tolist(), geo.geodesic_km_many(
        problem.r_lat[going], problem.r_lon[going], problem.v_lat[result[going]], problem.v_lon[result[going]])))
    kept_km = float(sum(people[i].distance_km for i in np.flatnonzero(stays).tolist()))
    return _Plan(result, new_vendor, changed, km_of, kept_km, set(slot))


@dataclass
class _Written:
    assigned: int = 0
    moved: int = 0
    km: float = 0.0


def _rewrite(people, plan: _Plan, reach_km: float) -> _Written:
    """Write the changed places: each one's new row, and its event in the trail. Changed rows are
    deleted and written again: one DELETE and one COPY (or multi-row INSERT) beat tens of thousands
    of single-row UPDATEs on both engines."""
    now = utcnow()
    written = _Written()
    rows, audit_events, ids = [], [], []
    for i in plan.changed.tolist():
        person = people[i]
        old = person.vendor_id
        vendor = int(plan.new_vendor[i]) if plan.result[i] >= 0 else None
        km = plan.km_of.get(i)
        if vendor is not None:
            written.km += km
            if old is None:
                written.assigned += 1
                reason = code("rebalance_placed", vendor_id=vendor, km=km)
            else:
                written.moved += 1
                reason = code("rebalance_moved", from_vendor_id=old, km=km)
        else:
            reason = code("rebalance_unplaced", reach_km=reach_km, from_vendor_id=old,
                          why=None if old is None else "cannot_keep" if old in plan.stalls_open else "may_not_cook")
        rows.append({"recipient_id": person.id, "vendor_id": vendor, "distance_km": km, "reason": reason,
                     "since": now})
        if person.has_row:
            ids.append(person.id)
        changes = {"vendor_id": [old, vendor], "distance_km": [person.distance_km, km],
                   "reason": [person.reason, reason]}
        audit_events.append(("update" if person.has_row else "create", "assignment", person.id, changes))
    if db.session.connection().dialect.name == "postgresql":  # one array parameter, not 50,000
        db.session.execute(delete(Assignment).where(
            Assignment.recipient_id == any_(bindparam("ids", ids, type_=ARRAY(Integer)))))
    else:
        for start in range(0, len(ids), _CHUNK):
            db.session.execute(delete(Assignment).where(Assignment.recipient_id.in_(ids[start:start + _CHUNK])))
    bulk_insert(db.session, Assignment.__table__, rows)
    record(db.session, audit_events)
    db.session.expire_all()
    return written
