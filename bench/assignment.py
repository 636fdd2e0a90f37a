"""The full rebalance: 50,000 enrolled recipients and 2,000 stalls of capacity 30.

Recipients and stalls are spread over the 135 real places of ../shared/data (service/demo's copy)
with jitter. Every recipient is enrolled and without a stall (a launch day: stalls registered
after the lists were enrolled), every stall may cook. The rebalance runs as the API runs it
(``rebalancing.rebalance()`` then the commit: loading, solving, geopy distances, writing the rows
and their audit events); then again, when nothing should move. Beside it, on the same arrays:

- greedy: each recipient in enrolment order takes the nearest stall with room within reach, as
  enrolment does one at a time;
- exact: a min-cost flow over every stall within reach of every recipient (no pre-filter).

Goal: the rebalance, writes included, under 5 s and in at most half the exact solver's time; as
many covered as the exact optimum; total distance within 1% of it.

    .venv/bin/python bench/assignment.py [--recipients 50000] [--stalls 2000] [--capacity 30]
                                         [--engine postgresql|sqlite|both] [--jitter 0.03]
    With BENCH_SMOKE=1 the defaults are small (500 recipients, 20 stalls): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
from common import fresh_app, postgres_url, size, sqlite_url
from sqlalchemy import delete, func, select

from service import geo
from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.assignments import solver
from service.assignments.models import Assignment
from service.db import bulk_insert, utcnow
from service.demo.data import read_places
from service.extensions import db
from service.program.clock import today
from service.program.models import Area
from service.program.service import get_program
from service.recipients.models import Recipient
from service.vendors.models import Vendor


def spread(rng: np.random.Generator, count: int, places: list, jitter: float):
    index = rng.integers(0, len(places), count)
    lat = np.array([places[i][1] for i in index]) + rng.uniform(-jitter, jitter, count)
    lon = np.array([places[i][2] for i in index]) + rng.uniform(-jitter, jitter, count)
    return index, lat, lon


def load(recipients: int, stalls: int, capacity: int, jitter: float) -> None:
    """Stalls that may cook and enrolled recipients without a stall, written in bulk."""
    rng = np.random.default_rng(2026)
    places = read_places()
    villages = {v.name: v.id for v in db.session.scalars(select(Area).where(Area.kind == "village"))}
    village_ids = [villages[name] for name, _, _ in places]
    now, day = utcnow(), today()
    valid_until = day + dt.timedelta(days=get_program().hygiene_validity_days - 10)
    index, lat, lon = spread(rng, stalls, places, jitter)
    bulk_insert(db.session, Vendor.__table__, [
        {"name": f"Warung {i}", "owner_name": "Pemilik", "address": "Jl. Raya", "village_id": village_ids[p],
         "latitude": float(a), "longitude": float(o), "daily_capacity": capacity, "status": "active",
         "hygiene_inspected_on": day - dt.timedelta(days=10), "hygiene_passed": True,
         "hygiene_valid_until": valid_until, "version": 1, "created_at": now, "updated_at": now}
        for i, (p, a, o) in enumerate(zip(index, lat, lon))])
    index, lat, lon = spread(rng, recipients, places, jitter)
    ids = bulk_insert(db.session, Recipient.__table__, [
        {"nik": f"3510{i:012d}", "name": f"Warga {i}", "birth_date": dt.date(1950, 1, 1), "sex": "F",
         "address": "Dusun Krajan", "village_id": village_ids[p], "latitude": float(a), "longitude": float(o),
         "location_source": "gps", "dietary_needs": [], "status": "enrolled", "enrolled_at": now,
         "version": 1, "created_at": now, "updated_at": now}
        for i, (p, a, o) in enumerate(zip(index, lat, lon))])
    bulk_insert(db.session, Assignment.__table__, [
        {"recipient_id": rid, "vendor_id": None, "distance_km": None, "since": now,
         "reason": {"code": "text", "text": "enrolled before any stall was registered"}} for rid in ids])
    db.session.commit()


def problem_from_database() -> solver.Problem:
    people = db.session.execute(select(Recipient.latitude, Recipient.longitude)
                                .where(Recipient.status == "enrolled").order_by(Recipient.id)).all()
    stalls = db.session.execute(select(Vendor.latitude, Vendor.longitude, Vendor.daily_capacity)
                                .order_by(Vendor.id)).all()
    return solver.Problem(
        r_lat=np.array([p[0] for p in people]), r_lon=np.array([p[1] for p in people]),
        v_lat=np.array([s[0] for s in stalls]), v_lon=np.array([s[1] for s in stalls]),
        capacity=np.array([s[2] for s in stalls], dtype=np.int64), max_m=get_program().max_vendor_distance_km * 1000)


def set_places(assignment: np.ndarray) -> None:
    """Write ``assignment`` (stall index per recipient, by id order) as the current places."""
    ids = db.session.scalars(select(Recipient.id).where(Recipient.status == "enrolled").order_by(Recipient.id)).all()
    vendor_ids = db.session.scalars(select(Vendor.id).order_by(Vendor.id)).all()
    db.session.execute(delete(Assignment))
    problem = problem_from_database()
    placed = np.flatnonzero(assignment >= 0)
    km = dict(zip(placed.tolist(), geo.geodesic_km_many(
        problem.r_lat[placed], problem.r_lon[placed], problem.v_lat[assignment[placed]],
        problem.v_lon[assignment[placed]])))
    now = utcnow()
    bulk_insert(db.session, Assignment.__table__, [
        {"recipient_id": rid, "vendor_id": vendor_ids[v] if v >= 0 else None, "distance_km": km.get(i),
         "reason": {"code": "text", "text": "enrolled"}, "since": now}
        for i, (rid, v) in enumerate(zip(ids, assignment.tolist()))])
    db.session.commit()


def timed_rebalance() -> tuple[float, rebalancing.RebalanceReport]:
    started = time.perf_counter()
    report = rebalancing.rebalance()
    db.session.commit()
    return time.perf_counter() - started, report


def run(engine: str, url: str, args) -> None:
    app = fresh_app(url)
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        started = time.perf_counter()
        load(args.recipients, args.stalls, args.capacity, args.jitter)
        print(f"\n== {engine}: {args.recipients:,} enrolled recipients, {args.stalls:,} stalls of capacity "
              f"{args.capacity} (loaded in {time.perf_counter() - started:.1f} s) ==")
        seconds, report = timed_rebalance()
        again_seconds, again = timed_rebalance()
        stored = db.session.execute(select(func.count(Assignment.vendor_id), func.sum(Assignment.distance_km))).one()
        assert stored[0] == report.covered and abs(stored[1] - report.total_distance_km) < 0.01, stored

        problem = problem_from_database()
        index = solver.Index(problem)
        t = time.perf_counter()
        exact_edges = index.within_reach()
        exact = solver.min_cost_flow_assign(problem, exact_edges)
        exact_seconds = time.perf_counter() - t
        t = time.perf_counter()
        greedy = solver.greedy(problem, index.within_reach())
        greedy_seconds = time.perf_counter() - t

        exact_covered = int(np.count_nonzero(exact >= 0))
        exact_km = solver.total_distance_m(problem, exact) / 1000
        rows = [
            ("rebalance (API, writes included)", seconds, report.covered, report.total_distance_km),
            ("greedy nearest with room", greedy_seconds, int(np.count_nonzero(greedy >= 0)),
             solver.total_distance_m(problem, greedy) / 1000),
            (f"exact min-cost flow ({len(exact_edges):,} pairs)", exact_seconds, exact_covered, exact_km),
        ]
        print(f"{'method':<40} {'seconds':>8} {'covered':>8} {'total km':>11} {'mean km':>8} "
              f"{'covered/exact':>14} {'total/exact':>12}")
        for name, secs, covered, km in rows:
            mean = km / covered if covered else 0
            print(f"{name:<40} {secs:>8.2f} {covered:>8,} {km:>11,.1f} {mean:>8.3f} "
                  f"{covered / exact_covered:>14.4f} {km / exact_km:>12.4f}")
        print(f"rebalance: {report.assigned:,} placed, {report.moved:,} moved, {report.unassigned:,} without a "
              f"stall within reach; solver and writes inside the API call: {report.seconds:.2f} s")
        print(f"rebalance again (nothing to change): {again_seconds:.2f} s, {again.moved} moved, "
              f"{again.assigned} placed")
        # Day to day: recipients placed one by one as they were enrolled (greedy), then a rebalance.
        set_places(greedy)
        day_seconds, day = timed_rebalance()
        print(f"rebalance after one-by-one enrolments: {day_seconds:.2f} s, {day.moved:,} moved, "
              f"{day.assigned:,} placed, covered {day.covered:,}, total {day.total_distance_km:,.1f} km "
              f"(greedy had {rows[1][3]:,.1f} km)")
        goal = (seconds < 5 and seconds <= exact_seconds / 2 and report.covered >= exact_covered
                and report.total_distance_km <= exact_km * 1.01)
        print(f"rebalance / exact: {seconds / exact_seconds:.2f}  goal (< 5 s and at most half the exact solver's "
              f"time, covered = exact, total within 1%): {'met' if goal else 'NOT met'}")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=size(50_000, 500))
    parser.add_argument("--stalls", type=int, default=size(2_000, 20))
    parser.add_argument("--capacity", type=int, default=30)
    parser.add_argument("--jitter", type=float, default=0.03, help="degrees around each place (0.03 = 3.3 km)")
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    if args.engine in ("postgresql", "both"):
        run("PostgreSQL", postgres_url(), args)
    if args.engine in ("sqlite", "both"):
        run("SQLite", sqlite_url(), args)


if __name__ == "__main__":
    main()
