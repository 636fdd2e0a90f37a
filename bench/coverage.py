"""Coverage over a long history: 100,000 recipients x 100 days (20 million meals), then
``GET /coverage/trend`` for 30 days and ``GET /coverage`` for today, through the API.

Closed days are read from the counts the cut-off stores (one row per village and day); today
(200,000 meals, the lunches confirmed at noon) from the snapshot the job runner takes every
minute. Beside them: today counted on the spot (``live=true``), the runner's snapshot, and the
same 30 days counted straight from the deliveries, which is what the stored counts save. The
snapshot must equal the live count.

The history is loaded in bulk (one INSERT ... SELECT per day, constraints and indexes dropped
during the load on PostgreSQL and rebuilt after, as an ETL would), then every day is closed with
the cut-off's own function. Outcomes come from a hash of (recipient, day, meal): 95% delivered,
3% failed, 2% missed.

Goal: under 50 ms each on both engines.

    .venv/bin/python bench/coverage.py [--recipients 100000] [--days 100] [--engine postgresql|sqlite|both]
    With BENCH_SMOKE=1 the defaults are small (500 recipients, 3 days): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import datetime as dt
import statistics
import time
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from assignment import load
from common import coordinator, fresh_app, history_main, percentile
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex
from tqdm import tqdm

from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.codes import code
from service.db import JSONType
from service.deliveries import coverage, scheduling
from service.deliveries.models import Delivery, DeliveryDay
from service.extensions import db
from service.program import clock
from service.program import service as program_service

HISTORY = """
INSERT INTO deliveries (recipient_id, vendor_id, village_id, date, meal, status, reason, cause, delivered_at,
                        latitude, longitude, confirmed_at, created_at, region_code)
SELECT id, vendor_id, village_id, :day, meal,
       CASE WHEN h < 950 THEN 'delivered' WHEN h < 980 THEN 'failed' ELSE 'missed' END,
       CASE WHEN h >= 950 AND h < 980 THEN 'not at home' END, CASE WHEN h >= 980 THEN :missed END,
       CASE WHEN h < 950 THEN :at END, CASE WHEN h < 760 THEN latitude END, CASE WHEN h < 760 THEN longitude END,
       CASE WHEN h < 980 THEN :at END, :created, region_code
FROM (SELECT r.id, a.vendor_id, r.village_id, m.meal, r.latitude, r.longitude, r.region_code,
             (r.id * 7919 + :salt + m.n * 104729) % 1000 AS h
      FROM recipients r JOIN assignments a ON a.recipient_id = r.id AND a.vendor_id IS NOT NULL
      CROSS JOIN (SELECT 'lunch' AS meal, 1 AS n UNION ALL SELECT 'dinner', 2) m
      WHERE r.status = 'enrolled') s
"""


def load_history_day(day: dt.date, salt: int, engine: str) -> None:
    """``day``'s meals as the loop leaves them: scheduled the evening before, its ``DeliveryDay``
    recorded as the scheduling job records it (the cut-off refuses to close a day never scheduled);
    confirmed by the stalls at 11:30 (delivered, or failed with the stall's reason), or missed with
    the cause the cut-off gives."""
    program = program_service.settings()  # the region's (the default region's, as the bench is one)
    at = utc(clock.at(day, dt.time(11, 30), program), engine)
    db.session.execute(text(HISTORY).bindparams(bindparam("missed", type_=JSONType)),
                       {"day": day, "at": at, "created": at, "salt": salt, "missed": code("not_confirmed")})
    db.session.add(DeliveryDay(date=day, scheduled_at=clock.at(day - dt.timedelta(days=1), program.schedule_time,
                                                                program)))


@contextmanager
def bulk_loading():
    """Drop the deliveries' secondary indexes (and on PostgreSQL its foreign keys and unique key)
    for the load and build them again after: one pass each instead of one update per row."""
    table = Delivery.__table__
    postgres = db.engine.dialect.name == "postgresql"
    fks = list(table.foreign_key_constraints) if postgres else []
    uniques = [c for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"] if postgres else []
    for c in fks + uniques:
        db.session.execute(DropConstraint(c))
    for ix in table.indexes:
        db.session.execute(DropIndex(ix))
    db.session.commit()
    yield
    for ix in table.indexes:
        db.session.execute(CreateIndex(ix))
    for c in uniques + fks:
        db.session.execute(AddConstraint(c))
    db.session.commit()
    db.session.execute(text("ANALYZE deliveries"))
    db.session.commit()


def utc(moment: dt.datetime, engine: str) -> dt.datetime:
    """A timestamp for raw SQL: aware on PostgreSQL, naive UTC on SQLite (as the models store it)."""
    moment = moment.astimezone(dt.UTC)
    return moment.replace(tzinfo=None) if engine == "SQLite" else moment


def timed(client, url: str, headers: dict, runs: int = 30) -> tuple[float, float, dict]:
    times, body = [], None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
        body = response.json
    return statistics.median(times), percentile(times, 95), body


def run(engine: str, url: str, recipients: int, days: int) -> None:
    app = fresh_app(url)
    zone = ZoneInfo("Asia/Jakarta")
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        today = clock.today()
        noon = dt.datetime.combine(today, dt.time(12), tzinfo=zone)
        started = time.perf_counter()
        load(recipients, recipients // 25, capacity=30, jitter=0.03)
        db.session.execute(text("UPDATE recipients SET enrolled_at = :at"),
                           {"at": utc(noon - dt.timedelta(days=days + 30), engine)})
        rebalancing.rebalance()
        db.session.commit()
        with bulk_loading():
            for back in tqdm(range(days, 0, -1), desc=f"{engine}: {days} days of history", unit="day"):
                load_history_day(today - dt.timedelta(days=back), back * 31337, engine)
                db.session.commit()
        for back in tqdm(range(days, 0, -1), desc=f"{engine}: closing each day", unit="day"):
            scheduling.close_day(today - dt.timedelta(days=back))
            db.session.commit()
        # Today at noon: scheduled by the job, lunches confirmed.
        clock.now = lambda: noon.astimezone(dt.UTC)
        scheduling.schedule_day(today)
        db.session.execute(text("UPDATE deliveries SET status = 'delivered', delivered_at = created_at, "
                                "confirmed_at = created_at WHERE date = :day AND meal = 'lunch' AND id % 10 <> 0"),
                           {"day": today})
        db.session.commit()
        db.session.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would have them
        db.session.commit()
        started_snapshot = time.perf_counter()
        coverage.refresh_today()  # what the job runner does every minute
        db.session.commit()
        snapshot_ms = (time.perf_counter() - started_snapshot) * 1000
        total = db.session.scalar(select(func.count()).select_from(Delivery))
        print(f"\n== {engine}: {total:,} deliveries over {days + 1} days, {recipients:,} recipients "
              f"(loaded in {time.perf_counter() - started:.0f} s) ==")

        _, token = coordinator()
        db.session.commit()
        db.session.remove()
    # Requests in an app context of their own, as a web worker runs them.
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    first = today - dt.timedelta(days=29)
    trend_ms, trend_p95, trend = timed(client, f"/api/v1/coverage/trend?from={first}&to={today}", headers)
    today_ms, today_p95, now_body = timed(client, "/api/v1/coverage", headers)
    live_ms, live_p95, live_body = timed(client, "/api/v1/coverage?live=true", headers, runs=10)
    assert {k: v for k, v in live_body.items() if k != "counted_at"} == {
        k: v for k, v in now_body.items() if k != "counted_at"}, "the snapshot differs from a live count"
    with app.app_context():
        started = time.perf_counter()
        raw = db.session.execute(
            select(Delivery.date, func.count(), func.count(Delivery.recipient_id.distinct()))
            .where(Delivery.date.between(first, today), Delivery.status == "delivered").group_by(Delivery.date)
        ).all()
        raw_ms = (time.perf_counter() - started) * 1000
        db.session.rollback()

        assert len(trend["days"]) == 30 and trend["days"][-1]["closed"] is False
        print(f"{'request':<56} {'median ms':>10} {'p95 ms':>8}")
        print(f"{'GET /coverage/trend (30 days: 29 closed + today)':<56} {trend_ms:>10.1f} {trend_p95:>8.1f}")
        print(f"{'GET /coverage (today from the snapshot, by village)':<56} {today_ms:>10.1f} {today_p95:>8.1f}")
        print(f"{'for comparison: GET /coverage?live=true (counted now)':<56} {live_ms:>10.1f} {live_p95:>8.1f}")
        print(f"{'for comparison: the runner taking the snapshot':<56} {snapshot_ms:>10.1f}")
        print(f"{'for comparison: 30 days straight from deliveries':<56} {raw_ms:>10.1f}  ({len(raw)} days)")
        print(f"today: eligible {now_body['eligible']:,}, scheduled {now_body['scheduled']:,}, delivered "
              f"{now_body['delivered']:,}, coverage_rate {now_body['coverage_rate']}")
        goal = trend_ms < 50 and today_ms < 50
        print(f"goal (< 50 ms each): {'met' if goal else 'NOT met'}")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    history_main(__doc__, run, days=100)


if __name__ == "__main__":
    main()
