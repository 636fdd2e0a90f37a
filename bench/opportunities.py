"""A volunteer's opportunities: whom nobody reaches within 5 km of them, nearest first.

100,000 enrolled recipients over Banyuwangi's real places, 4,000 stalls placed by the rebalance,
then 5% of the recipients left without a stall (unreached), and 5,000 approved volunteers; 200 of
them signed in. Through the served app (gunicorn, one worker, one thread, keep-alive), one client
asks ``GET /volunteers/me/opportunities`` as a random volunteer, on PostgreSQL and SQLite: p50,
p90, p99. Beside it, in-process, the same answer computed by the service (its pre-filter, then the
distance between the cells of the two points) and by a full scan (every unreached recipient read,
every distance between cells computed): the cost the spatial pre-filter saves. It fails if a
request is refused or an answer differs from the full scan's.

Goal: p90 under 20 ms on PostgreSQL.

    .venv/bin/python bench/opportunities.py [--recipients 100000] [--volunteers 5000] [--requests 500]
                                            [--engine postgresql|sqlite|both]
    With BENCH_SMOKE=1 the defaults are small (1,000 recipients, 50 volunteers, 50 requests): the smoke
    run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from api_latency import call, free_port
from assignment import load, spread
from common import fresh_app, percentile, postgres_url, size, sqlite_url
from sqlalchemy import select, text, update

from blueprints import create_web_app
from service import geo
from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.assignments.models import Assignment
from service.db import bulk_insert, refresh_statistics, utcnow
from service.demo.data import read_places
from service.extensions import db
from service.program.clock import today
from service.program.models import Area
from service.recipients.models import Recipient
from service.volunteers import claims
from service.volunteers.models import Volunteer

ROOT = Path(__file__).resolve().parent.parent
SIGNED_IN = 200
PASSWORD = "bench-password-7"


def build(url: str, recipients: int, volunteers: int) -> tuple[list[str], list[int]]:
    """The program as above; the tokens of the signed-in volunteers and their ids."""
    app = fresh_app(url)
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        load(recipients, recipients // 25, capacity=30, jitter=0.03)
        rebalancing.rebalance()
        ids = db.session.scalars(select(Recipient.id).order_by(Recipient.id)).all()
        unreached = random.Random(5).sample(ids, recipients // 20)
        for first in range(0, len(unreached), 5000):
            db.session.execute(update(Assignment).where(Assignment.recipient_id.in_(unreached[first:first + 5000]))
                               .values(vendor_id=None, distance_km=None))
        rng = np.random.default_rng(7)
        places = read_places()
        villages = {v.name: v.id for v in db.session.scalars(select(Area).where(Area.kind == "village"))}
        index, lat, lon = spread(rng, volunteers, places, 0.03)
        now = utcnow()
        volunteer_ids = bulk_insert(db.session, Volunteer.__table__, [
            {"name": f"Relawan {i}", "phone": f"+62812{i:08d}", "email": None, "village_id": villages[places[p][0]],
             "latitude": float(a), "longitude": float(o), "skills": ["deliver", "visit"], "capacity": 3,
             "status": "approved", "consented_at": now, "created_at": now, "updated_at": now, "version": 1}
            for i, (p, a, o) in enumerate(zip(index.tolist(), lat, lon))])
        chosen = random.Random(9).sample(volunteer_ids, min(SIGNED_IN, len(volunteer_ids)))
        tokens = []
        for n, volunteer_id in enumerate(chosen):
            accounts.create_user(f"relawan{n}@bench.example", PASSWORD, f"Relawan {n}", "volunteer",
                                 volunteer_id=volunteer_id)
            tokens.append(accounts.issue_token(f"relawan{n}@bench.example", PASSWORD)[0])
        refresh_statistics(db.session)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return tokens, chosen


def in_process(url: str, volunteer_ids: list[int], samples: int) -> tuple[list[float], list[float], int]:
    """Milliseconds of the service's answer and of a full scan, for the same volunteers; and how
    many answers differed (none should)."""
    app = create_web_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    served, scanned, differ = [], [], 0
    with app.app_context():
        day = today()
        for volunteer_id in volunteer_ids[:samples]:
            scope = Scope(role="volunteer", user_id=None, label="bench", volunteer_id=volunteer_id)
            started = time.perf_counter()
            answer = claims.opportunities("deliver", 5.0, per_page=50, scope=scope)
            served.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            volunteer = db.session.get(Volunteer, volunteer_id)
            rows = db.session.execute(select(Recipient.id, Recipient.latitude, Recipient.longitude)
                                      .where(claims.needs_of("deliver", day))).all()
            # The service's rule: the distance between the cells of the two points, ties by id.
            lat, lon = geo.cells_of(*claims.point_of(volunteer))
            cell_lats, cell_lons = geo.cells_of([r.latitude for r in rows], [r.longitude for r in rows])
            kms = geo.geodesic_km_many(np.full(len(rows), float(lat)), np.full(len(rows), float(lon)),
                                       cell_lats, cell_lons)
            near = sorted((km, r.id) for km, r in zip(kms, rows) if km <= 5.0)[:50]
            scanned.append((time.perf_counter() - started) * 1000)
            differ += [i for _, i in near] != [o.recipient_id for o in answer.items]
            db.session.rollback()
        db.engine.dispose()
    return served, scanned, differ


def serve_and_ask(url: str, tokens: list[str], requests: int) -> tuple[list[float], int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "1", "--keep-alive", "30",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url},  # as deployed: rate limiting on
    )
    try:
        for _ in range(100):
            try:
                call(port, "GET", "/api/v1/me", tokens[0])
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(3)
        path = "/api/v1/volunteers/me/opportunities"
        for token in tokens:  # warm up: each caller remembered, statements prepared
            call(port, "GET", path, token)
        timings, errors = [], 0
        for _ in range(requests):
            elapsed, status = call(port, "GET", path, rng.choice(tokens))
            timings.append(elapsed)
            errors += status != 200
        return timings, errors
    finally:
        server.terminate()
        server.wait(10)


def run(engine: str, url: str, args) -> None:
    started = time.perf_counter()
    tokens, chosen = build(url, args.recipients, args.volunteers)
    print(f"\n== {engine}: {args.recipients:,} enrolled, {args.recipients // 20:,} unreached, "
          f"{args.volunteers:,} approved volunteers (set up in {time.perf_counter() - started:.0f} s) ==")
    timings, errors = serve_and_ask(url, tokens, args.requests)
    p90 = percentile(timings, 90)
    goal = f"   goal p90 < 20 ms: {'met' if p90 < 20 else 'NOT met'}" if engine == "PostgreSQL" else ""
    print(f"GET /volunteers/me/opportunities, served   p50 {percentile(timings, 50):6.2f} ms   p90 {p90:6.2f} ms   "
          f"p99 {percentile(timings, 99):6.2f} ms   errors {errors}{goal}")
    served, scanned, differ = in_process(url, chosen, min(100, len(chosen)))
    print(f"the answer in-process, pre-filtered        p50 {percentile(served, 50):6.2f} ms   "
          f"p90 {percentile(served, 90):6.2f} ms")
    print(f"the same answer by a full scan             p50 {percentile(scanned, 50):6.2f} ms   "
          f"p90 {percentile(scanned, 90):6.2f} ms   ({percentile(scanned, 50) / percentile(served, 50):.0f}x the "
          f"pre-filtered; answers that differ: {differ})")
    if errors or differ:  # refused requests or another answer than the rule's: the figures are not the path's
        sys.exit(f"{engine}: {errors} requests answered other than 200, {differ} answers differ from the full scan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=size(100_000, 1_000))
    parser.add_argument("--volunteers", type=int, default=size(5_000, 50))
    parser.add_argument("--requests", type=int, default=size(500, 50))
    parser.add_argument("--engine", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    if args.engine in ("postgresql", "both"):
        run("PostgreSQL", postgres_url(), args)
    if args.engine in ("sqlite", "both"):
        run("SQLite", sqlite_url(), args)


if __name__ == "__main__":
    main()
