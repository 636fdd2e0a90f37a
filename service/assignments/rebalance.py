"""The global rebalance: every enrolled recipient placed again, as a whole, optimally (the solver
in ``solver.py``): as many covered as can be, nobody who has a place losing it, then the least
total distance, nobody farther than the program's reach, and nobody moved for nothing."""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import bindparam, select, text

from service import events, geo
from service.assignments import solver
from service.assignments.events import PlacesChanged
from service.assignments.models import Assignment
from service.assignments.placement import lock
from service.audit.service import record_select
from service.codes import code, code_sql
from service.db import array_text, bulk_insert, utcnow, working_region
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


def rebalance() -> RebalanceReport:
    """Place every enrolled recipient of the session's region optimally: as many covered as can
    be, nobody who has a place losing it, then the least total distance, and nobody farther than
    ``max_vendor_distance_km``. A region is its own problem: staff of several say which
    (``working_region``).

    Set-based: one query loads the recipients, one the stalls; the solver works on arrays; the
    changed rows are rewritten in bulk with an audit event each.
    """
    started = time.perf_counter()
    region = working_region(db.session)
    lock()
    program = settings()
    day = today(program)
    people = _People(db.session.execute(
        select(Recipient.id, Recipient.latitude, Recipient.longitude, Assignment.vendor_id,
               Assignment.distance_km, Assignment.recipient_id.is_not(None))
        .outerjoin(Assignment, Assignment.recipient_id == Recipient.id)
        .where(Recipient.status == "enrolled").order_by(Recipient.id)
    ).all())
    stalls = db.session.execute(
        select(Vendor.id, Vendor.latitude, Vendor.longitude, Vendor.daily_capacity)
        .where(Vendor.may_cook_on(day), Vendor.daily_capacity > 0).order_by(Vendor.id)
    ).all()
    plan = _solve(people, stalls, program.max_vendor_distance_km)
    changed = _rewrite(region, people, plan, program.max_vendor_distance_km)
    # Meals already scheduled for the coming days follow (today's stay with the stall cooking them).
    events.publish(PlacesChanged(people.id[plan.changed].tolist(), day + dt.timedelta(days=1)))
    covered = int(np.count_nonzero(plan.result >= 0))
    return RebalanceReport(
        enrolled=len(people), covered=covered, assigned=changed.assigned, moved=changed.moved,
        unassigned=len(people) - covered, total_distance_km=round(plan.kept_km + changed.km, 3),
        seconds=round(time.perf_counter() - started, 3),
    )


class _People:
    """The enrolled recipients as columns: id, where they live, their stall (-1: none) and its
    distance (NaN: none), and whether they have an assignment row at all."""

    def __init__(self, rows) -> None:
        ids, lat, lon, vendor, km, has_row = zip(*rows) if rows else ((),) * 6
        self.id = np.array(ids, dtype=np.int64)
        self.lat = np.array(lat, dtype=float)
        self.lon = np.array(lon, dtype=float)
        self.vendor = np.array([-1 if v is None else v for v in vendor], dtype=np.int64)
        self.km = np.array(km, dtype=float)  # None becomes NaN
        self.has_row = np.array(has_row, dtype=bool)

    def __len__(self) -> int:
        return len(self.id)


@dataclass
class _Plan:
    """The solver's answer, read against where everyone is now."""

    result: np.ndarray  # each recipient's stall (an index into the stalls), or -1
    new_vendor: np.ndarray  # each recipient's stall id after the rebalance, or -1
    changed: np.ndarray  # the recipients whose row is written again
    km: np.ndarray  # the geodesic distance of those of ``changed`` newly placed (NaN: none)
    kept_km: float  # the distance of those who stay where they are
    stalls_open: np.ndarray  # the ids of the stalls that may cook


def _solve(people: _People, stalls, reach_km: float) -> _Plan:
    vendor_ids = np.array([s.id for s in stalls], dtype=np.int64)
    problem = solver.Problem(
        r_lat=people.lat, r_lon=people.lon,
        v_lat=np.array([s.latitude for s in stalls], dtype=float),
        v_lon=np.array([s.longitude for s in stalls], dtype=float),
        capacity=np.array([s.daily_capacity for s in stalls], dtype=np.int64),
        max_m=reach_km * 1000, current=_slots(people.vendor, vendor_ids),
    )
    result = solver.rebalance(problem, k=current_app.config["ASSIGNMENT_NEIGHBOURS"])
    placed = result >= 0
    new_vendor = np.where(placed, vendor_ids[np.maximum(result, 0)] if len(vendor_ids) else -1, -1)
    stays = placed & (new_vendor == people.vendor) & ~np.isnan(people.km)
    changed = np.flatnonzero(~stays & ~(~placed & (people.vendor < 0) & people.has_row))  # not: still nowhere
    going = changed[placed[changed]]
    km = np.full(len(changed), np.nan)
    km[placed[changed]] = geo.geodesic_km_many(
        problem.r_lat[going], problem.r_lon[going], problem.v_lat[result[going]], problem.v_lon[result[going]])
    return _Plan(result, new_vendor, changed, km, float(people.km[stays].sum()), vendor_ids)


def _slots(vendors: np.ndarray, vendor_ids: np.ndarray) -> np.ndarray:
    """Each of ``vendors`` (stall ids, -1: none) as an index into ``vendor_ids`` (sorted), or -1."""
    at = np.searchsorted(vendor_ids, vendors)
    found = (vendors >= 0) & (at < len(vendor_ids))
    found[found] = vendor_ids[at[found]] == vendors[found]
    return np.where(found, at, -1)


@dataclass
class _Written:
    assigned: int = 0
    moved: int = 0
    km: float = 0.0


def _rewrite(region: str, people: _People, plan: _Plan, reach_km: float) -> _Written:
    """Write the changed places: each one's new row, and its event in the trail (what it was, read
    from the row before it is written again)."""
    changed = plan.changed
    old = people.vendor[changed]
    vendor = np.where(plan.result[changed] >= 0, plan.new_vendor[changed], -1)
    going, had = vendor >= 0, old >= 0
    written = _Written(assigned=int(np.count_nonzero(going & ~had)), moved=int(np.count_nonzero(going & had)),
                       km=float(np.nansum(plan.km)))
    why = np.where(np.isin(old, plan.stalls_open), "cannot_keep", "may_not_cook")
    rows = Placements(
        recipient_id=people.id[changed].tolist(), vendor_id=_ids(vendor), distance_km=_kms(plan.km),
        has_row=people.has_row[changed].tolist(),
        code=np.where(going, np.where(had, "rebalance_moved", "rebalance_placed"), "rebalance_unplaced").tolist(),
        placed_at=_ids(np.where(going & ~had, vendor, -1)), from_vendor_id=_ids(old),
        reach_km=[None if g else reach_km for g in going.tolist()],
        why=[None if g or not h else w for g, h, w in zip(going.tolist(), had.tolist(), why.tolist())])
    write_placements(db.session, region, rows)
    db.session.expire_all()
    return written


def _ids(values: np.ndarray) -> list[int | None]:
    return [v if v >= 0 else None for v in values.tolist()]


def _kms(values: np.ndarray) -> list[float | None]:
    return [None if km != km else km for km in values.tolist()]  # NaN: none


@dataclass
class Placements:
    """Places to write, as columns: each recipient's stall (None: none) and its distance, and why
    (the reason's code and its parameters, None where a code has none)."""

    recipient_id: list[int]
    vendor_id: list[int | None]
    distance_km: list[float | None]
    has_row: list[bool]  # the recipient has an assignment row already (it is updated, not created)
    code: list[str]  # rebalance_placed (vendor_id, km), rebalance_moved (from_vendor_id, km),
    placed_at: list[int | None]  # rebalance_unplaced (reach_km, from_vendor_id, why)
    from_vendor_id: list[int | None]
    reach_km: list[float | None]
    why: list[str | None]

    def reasons(self) -> list[dict]:
        return [code(name, vendor_id=placed, from_vendor_id=was, km=km, reach_km=reach, why=why)
                for name, placed, was, km, reach, why in zip(
                    self.code, self.placed_at, self.from_vendor_id, self.distance_km, self.reach_km, self.why)]


def write_placements(session, region: str, rows: Placements) -> None:
    """Write ``rows`` and an event each in the trail, set-based: the events, read against the rows
    as they are, then the rows updated in place and the new ones created; three statements,
    whatever the count, built by the database from a parameter a column. An update leaves the
    recipient's and the region's keys alone, so their foreign keys are not checked again (the
    stall's is): half the time of a delete and a fresh insert."""
    sql = _POSTGRESQL if session.connection().dialect.name == "postgresql" else _SQLITE
    params = sql.params(rows)
    params.update(region=region, since=utcnow())
    record_select(session, (
        f"SELECT CASE WHEN a.recipient_id IS NULL THEN 'create' ELSE 'update' END, 'assignment', u.recipient_id, "
        f"{sql.changes} AS changes, :region FROM {sql.places} AS u "
        "LEFT JOIN assignments a ON a.region_code = :region AND a.recipient_id = u.recipient_id"), params)
    # The places apart (a CTE): Citus calls no function in an UPDATE with column references
    # (jsonb_build_object is one); it reads them first, then updates on the region's shard.
    session.execute(text(
        f"WITH u AS {sql.materialized} {sql.places} UPDATE assignments SET vendor_id = u.vendor_id, "
        "distance_km = u.distance_km, reason = u.reason, since = :since FROM u "
        "WHERE assignments.region_code = :region AND assignments.recipient_id = u.recipient_id",
    ).bindparams(bindparam("since", type_=Assignment.since.type)), params)
    new = [i for i, has in enumerate(rows.has_row) if not has]
    if new:
        reasons = rows.reasons()
        bulk_insert(session, Assignment.__table__, [
            {"recipient_id": rows.recipient_id[i], "vendor_id": rows.vendor_id[i],
             "distance_km": rows.distance_km[i], "reason": reasons[i], "since": params["since"],
             "region_code": region} for i in new])


@dataclass(frozen=True)
class _Dialect:
    """How one engine reads the places from its parameters, and writes an event's changes."""

    places: str  # SQL: a subquery of recipient_id, vendor_id, distance_km, reason
    changes: str  # SQL: the event's changes, of the old row ``a`` and the new ``u``
    materialized: str
    params: Callable[[Placements], dict]


_COLUMNS = ("recipient_id", "vendor_id", "distance_km", "code", "placed_at", "from_vendor_id", "reach_km", "why")
# PostgreSQL: an array a column, each as one string (50,000 rows as Python lists cost a second to
# adapt; as one JSON document, a fifth of a second to parse each time it is read); the reason is
# built by the database from its code and parameters.
_POSTGRESQL = _Dialect(
    places="(SELECT p.recipient_id, p.vendor_id, p.distance_km, " + code_sql(
        "p.code", vendor_id="p.placed_at", from_vendor_id="p.from_vendor_id", km="p.distance_km",
        reach_km="p.reach_km", why="p.why") + " AS reason FROM unnest(CAST(:recipient_id AS integer[]), "
    "CAST(:vendor_id AS integer[]), CAST(:distance_km AS double precision[]), CAST(:code AS text[]), "
    "CAST(:placed_at AS integer[]), CAST(:from_vendor_id AS integer[]), CAST(:reach_km AS double precision[]), "
    f"CAST(:why AS text[])) AS p({', '.join(_COLUMNS)}))",
    changes="jsonb_build_object('vendor_id', jsonb_build_array(a.vendor_id, u.vendor_id), "
    "'distance_km', jsonb_build_array(a.distance_km, u.distance_km), 'reason', jsonb_build_array(a.reason, u.reason))",
    materialized="MATERIALIZED",
    params=lambda rows: {name: array_text(getattr(rows, name)) for name in _COLUMNS},
)
# SQLite: one JSON document of rows, read by json_each; the reasons made by ``code``.
_SQLITE = _Dialect(
    places="(SELECT value ->> 0 AS recipient_id, value ->> 1 AS vendor_id, value ->> 2 AS distance_km, "
    "value -> 3 AS reason FROM json_each(:places))",
    changes="json_object('vendor_id', json_array(a.vendor_id, u.vendor_id), "
    "'distance_km', json_array(a.distance_km, u.distance_km), 'reason', json_array(json(a.reason), json(u.reason)))",
    materialized="",
    params=lambda rows: {"places": json.dumps(list(zip(
        rows.recipient_id, rows.vendor_id, rows.distance_km, rows.reasons())))},
)
