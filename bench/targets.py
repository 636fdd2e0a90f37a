"""GET /targets at scale: 100,000 enrolled recipients with two weeks of closed days, school visits
to most of them, 4,000 stalls with their hygiene inspections, 1,000 complaints answered (most in
time), and one signed target per indicator;
then ``GET /targets`` through the API, which measures every indicator from the data (now, and a
week before for the trend).

Closed days carry the week's meal count the cut-off stores (``fed_week``), so weekly_meal_rate
reads it; beside the request: that count made from the deliveries, as the cut-off makes it, and
each indicator on its own.

    .venv/bin/python bench/targets.py [--recipients 100000] [--days 14] [--engine postgresql|sqlite|both]
    With BENCH_SMOKE=1 the defaults are small (500 recipients, 3 days): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from zoneinfo import ZoneInfo

from assignment import load
from common import coordinator, fresh_app, history_main
from coverage import bulk_loading, load_history_day, timed, utc
from sqlalchemy import select, text
from tqdm import tqdm

from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.complaints.models import Complaint
from service.db import bulk_insert, utcnow
from service.deliveries import coverage, scheduling
from service.extensions import db
from service.program import clock
from service.recipients.models import Recipient
from service.targets import indicators
from service.targets import service as targets
from service.targets.models import INDICATORS
from service.tasks.models import Task
from service.vendors.models import Inspection, Vendor

THRESHOLDS = {"coverage_rate": 0.95, "delivery_rate": 0.9, "weekly_meal_rate": 0.8, "visit_rate": 0.8,
              "hygiene_valid_rate": 0.9, "enrolled_count": 120_000, "complaint_on_time_rate": 0.9}


def complaints(count: int, agency_id: int, today: dt.date, zone: ZoneInfo, rng: random.Random) -> list[dict]:
    """``count`` complaints received over the 40 days before ``today``, answered by the social
    agency: 85% by their deadline (5 working days, a week here), 10% after it, the rest not yet."""
    rows = []
    for i in range(count):
        received_on = today - dt.timedelta(days=rng.randint(0, 40))
        received_at = dt.datetime.combine(received_on, dt.time(9), tzinfo=zone)
        respond_by = received_on + dt.timedelta(days=7)
        roll = rng.random()
        answered_on = (received_on + dt.timedelta(days=rng.randint(1, 7)) if roll < 0.85
                       else respond_by + dt.timedelta(days=rng.randint(1, 5)) if roll < 0.95 else None)
        if answered_on is not None and answered_on > today:
            answered_on = None
        answered_at = None if answered_on is None else dt.datetime.combine(answered_on, dt.time(14), tzinfo=zone)
        rows.append({
            "code": f"BENCH{i:08d}", "category": "missed_meal", "description": "Tidak ada nasi hari ini",
            "status": "forwarded" if answered_on is None else "answered", "channel": "api", "anonymous": True,
            "confidential": False, "agency_id": agency_id, "received_at": received_at, "received_on": received_on,
            "counts_from": received_on, "forward_by": received_on + dt.timedelta(days=3), "respond_by": respond_by,
            "forwarded_at": received_at, "answered_at": answered_at, "answered_on": answered_on,
            "public_answer": None if answered_on is None else "Sudah diantar", "version": 1,
            "created_at": received_at, "updated_at": answered_at or received_at})
    return rows


def run(engine: str, url: str, recipients: int, days: int) -> None:
    app, token, today, _ = stage(engine, url, recipients, days)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    median, p95, body = timed(client, "/api/v1/targets", headers, runs=20)
    with app.app_context():
        day = today - dt.timedelta(days=1)
        parts = []
        for indicator in INDICATORS:
            began = time.perf_counter()
            value = indicators.MEASURES[indicator](day)
            parts.append((indicator, value, (time.perf_counter() - began) * 1000))
        began = time.perf_counter()
        coverage.well_fed_by_village(day)
        weekly_live = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        coverage.visited_count(day)
        visited_live = (time.perf_counter() - began) * 1000
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    print(f"{'request':<58} {'median ms':>10} {'p95 ms':>8}")
    print(f"{f'GET /targets ({len(INDICATORS)} indicators, each now and a week before)':<58} {median:>10.1f} "
          f"{p95:>8.1f}")
    for indicator, value, ms in parts:
        print(f"{'  ' + indicator + f' on {day} = {value}':<58} {ms:>10.1f}")
    print(f"{'for comparison: the week count from the deliveries':<58} {weekly_live:>10.1f}")
    print(f"{'for comparison: the visited counted from the visits':<58} {visited_live:>10.1f}")
    print("statuses: " + ", ".join(f"{t['indicator']} {t['status']}" for t in body["items"]))


def stage(engine: str, url: str, recipients: int, days: int):
    """The program at scale with ``days`` closed days, visits, complaints and a signed target per
    indicator: (the app, a coordinator's token, today, the agencies' ids by kind)."""
    app = fresh_app(url)
    zone = ZoneInfo("Asia/Jakarta")
    rng = random.Random(11)
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        today = clock.today()
        started = time.perf_counter()
        load(recipients, recipients // 25, capacity=30, jitter=0.03)
        db.session.execute(text("UPDATE recipients SET enrolled_at = :at"),
                           {"at": utc(dt.datetime.combine(today, dt.time(9), zone) - dt.timedelta(days=days + 30),
                                      engine)})
        rebalancing.rebalance()
        agency = {kind: accounts.create_agency(name=f"Dinas {kind}", code=kind.upper(), kind=kind).id
                  for kind in ("social", "health", "education")}
        now = utcnow()
        bulk_insert(db.session, Inspection.__table__, [
            {"vendor_id": v.id, "kind": "hygiene", "inspected_on": v.hygiene_inspected_on, "score": 85, "passed": True,
             "valid_until": v.hygiene_valid_until, "created_at": now}
            for v in db.session.execute(select(Vendor.id, Vendor.hygiene_inspected_on, Vendor.hygiene_valid_until))])
        people = db.session.scalars(select(Recipient.id).order_by(Recipient.id)).all()
        bulk_insert(db.session, Task.__table__, [
            {"type": "school_visit", "agency_id": agency["education"], "title": "School visit", "status": "done",
             "opened_on": today - dt.timedelta(days=25), "due_date": today - dt.timedelta(days=18),
             "recipient_id": rid, "origin": "recurring", "outcome": "visited",
             "completed_on": today - dt.timedelta(days=rng.randint(1, 24)), "completed_at": now, "version": 1,
             "created_at": now, "updated_at": now}
            for rid in people if rng.random() < 0.85])
        bulk_insert(db.session, Complaint.__table__, complaints(recipients // 100, agency["social"], today, zone, rng))
        db.session.commit()
        with bulk_loading():
            for back in tqdm(range(days, 0, -1), desc=f"{engine}: {days} days of history", unit="day"):
                load_history_day(today - dt.timedelta(days=back), back * 31337, engine)
                db.session.commit()
        closing = []
        for back in tqdm(range(days, 0, -1), desc=f"{engine}: closing each day", unit="day"):
            began = time.perf_counter()
            scheduling.close_day(today - dt.timedelta(days=back))
            db.session.commit()
            closing.append(time.perf_counter() - began)
        user, token = coordinator()
        for indicator in INDICATORS:
            target = targets.create_target(f"Bench {indicator}", indicator, THRESHOLDS[indicator],
                                           today + dt.timedelta(days=30), agency["social"], list(agency.values()),
                                           scope=Scope(role="coordinator", user_id=user.id, label=user.email))
            for kind, agency_id in agency.items():
                targets.sign_target(target.id, scope=Scope(role="agency", user_id=user.id, label=user.email,
                                                           agency_id=agency_id, agency_kind=kind))
        db.session.commit()
        if engine == "PostgreSQL":  # as autovacuum would have it: visibility map set, statistics fresh
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"\n== {engine}: {recipients:,} recipients, {days} closed days, {len(people):,} enrolled "
              f"(loaded in {time.perf_counter() - started:.0f} s) ==")
        db.session.remove()

    print(f"the cut-off, with the counts it keeps: {sum(closing) / len(closing):.2f} s a day on average")
    return app, token, today, agency


def main() -> None:
    history_main(__doc__, run, days=14)


if __name__ == "__main__":
    main()
