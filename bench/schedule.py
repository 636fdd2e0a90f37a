"""Scheduling a day: 100,000 eligible recipients x 2 meal slots, then again (nothing created).

Beside it, the rate of a bare bulk insert of the same rows into the same table on the same
engine (COPY on PostgreSQL, a multi-row INSERT on SQLite): the floor that any scheduling must
pay for writing the rows and their indexes. Scheduling runs as the API and the job runner run it
(``scheduling.schedule_day`` then the commit: the advisory lock, the sweep of stalls that may not
cook that day, one INSERT ... SELECT ... ON CONFLICT DO NOTHING).

Goal: scheduling at no less than half the bare insert's rate.

    .venv/bin/python bench/schedule.py [--recipients 100000] [--engine postgresql|sqlite|both]
    With BENCH_SMOKE=1 the defaults are small (500 recipients): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

from assignment import load
from common import fresh_app, postgres_url, size, sqlite_url
from sqlalchemy import func, select

from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.db import bulk_insert, refresh_statistics
from service.deliveries import scheduling
from service.deliveries.models import Delivery
from service.extensions import db
from service.program.clock import today


def run(engine: str, url: str, recipients: int) -> None:
    app = fresh_app(url)
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        started = time.perf_counter()
        stalls = recipients // 25
        load(recipients, stalls, capacity=30, jitter=0.03)
        report = rebalancing.rebalance()
        refresh_statistics(db.session)  # as autovacuum would have them by the time a day is scheduled
        db.session.commit()
        print(f"\n== {engine}: {report.covered:,} of {recipients:,} recipients placed at {stalls:,} stalls "
              f"(set up in {time.perf_counter() - started:.1f} s) ==")
        day = today() + dt.timedelta(days=1)

        started = time.perf_counter()
        first = scheduling.schedule_day(day)
        db.session.commit()
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = scheduling.schedule_day(day)
        db.session.commit()
        again_seconds = time.perf_counter() - started

        # The bare insert: the same rows, another day, straight into the table.
        rows = [dict(r._mapping) for r in db.session.execute(
            select(Delivery.recipient_id, Delivery.vendor_id, Delivery.village_id, Delivery.meal, Delivery.status,
                   Delivery.created_at).where(Delivery.date == day))]
        bare_day = day + dt.timedelta(days=1)
        for row in rows:
            row["date"] = bare_day
        db.session.commit()
        started = time.perf_counter()
        bulk_insert(db.session, Delivery.__table__, rows)
        db.session.commit()
        bare_seconds = time.perf_counter() - started
        stored = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.date == day))
        assert stored == first.created == len(rows) and again.created == 0, (stored, first, again)

        rate, bare_rate = first.created / seconds, len(rows) / bare_seconds
        print(f"{'run':<44} {'rows':>9} {'seconds':>8} {'rows/s':>10}")
        print(f"{'schedule_day (first run)':<44} {first.created:>9,} {seconds:>8.2f} {rate:>10,.0f}")
        print(f"{'schedule_day again (nothing created)':<44} {again.existing:>9,} {again_seconds:>8.2f} "
              f"{again.existing / again_seconds:>10,.0f}")
        bare = "COPY" if engine == "PostgreSQL" else "multi-row INSERT"
        print(f"{'bare bulk insert of the same rows (' + bare + ')':<44} {len(rows):>9,} {bare_seconds:>8.2f} "
              f"{bare_rate:>10,.0f}")
        ratio = rate / bare_rate
        print(f"scheduling / bare insert: {ratio:.2f}  goal (>= 0.5): {'met' if ratio >= 0.5 else 'NOT met'}")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=size(100_000, 500))
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    if args.engine in ("postgresql", "both"):
        run("PostgreSQL", postgres_url(), args.recipients)
    if args.engine in ("sqlite", "both"):
        run("SQLite", sqlite_url(), args.recipients)


if __name__ == "__main__":
    main()
