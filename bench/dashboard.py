"""The dashboard's pages at scale, beside the API calls they replace: 100,000 recipients, 4,000
stalls and 100 closed days (the coverage benchmark's data, built as bench/targets.py builds it:
visits, complaints, a signed target per indicator), today scheduled with the lunches confirmed
and the runner's snapshot taken.

Each page is asked as a signed-in coordinator (or the health agency for its own view) through the
app, as a web worker serves it, and timed on the server; beside it the API calls a dashboard made
of the API would make for the same page. The first load of the overview is weighed as sent
(compressed, brotli) with its style sheet.

Goals (issue 26): every page under 300 ms of server time; GET /targets under 50 ms; the first load
under 300 KB.

    .venv/bin/python bench/dashboard.py [--recipients 100000] [--days 100] [--engine postgresql|sqlite|both]
    With BENCH_SMOKE=1 the defaults are small (500 recipients, 3 days): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from zoneinfo import ZoneInfo

from common import history_main, percentile
from sqlalchemy import select, text
from targets import stage

from service.accounts import service as accounts
from service.deliveries import coverage, scheduling
from service.extensions import db
from service.program import clock
from service.program.models import Area
from service.vendors.models import Vendor

RUNS = 15
PAGE_GOAL_MS, TARGETS_GOAL_MS, FIRST_LOAD_GOAL = 300, 50, 300_000


def timed(client, url: str, headers: dict | None = None, runs: int = RUNS) -> tuple[float, float, int]:
    """Median and p95 ms of ``runs`` requests, and the size of the last answer as sent."""
    times, sent = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers or {})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
        sent = len(response.get_data())
    return statistics.median(times), percentile(times, 95), sent


def run(engine: str, url: str, recipients: int, days: int) -> None:
    app, token, today, agency = stage(engine, url, recipients, days)
    zone = ZoneInfo("Asia/Jakarta")
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=zone)
    real_now = clock.now
    clock.now = lambda: noon.astimezone(dt.UTC)
    try:
        with app.app_context():
            from service.accounts.scope import Scope

            Scope.system("bench").act_in(db.session)
            scheduling.schedule_day(today)
            db.session.execute(text("UPDATE deliveries SET status = 'delivered', delivered_at = created_at, "
                                    "confirmed_at = created_at WHERE date = :day AND meal = 'lunch' "
                                    "AND id % 10 <> 0"), {"day": today})
            db.session.commit()
            coverage.refresh_today()  # the runner's snapshot of the minute
            db.session.commit()
            health = accounts.create_user("dinkes@bench.example", "sayur-asem-2026", "Health", "agency",
                                          agency_id=agency["health"])
            db.session.commit()
            health_token = accounts.issue_token(health.email, "sayur-asem-2026")[0]
            village = db.session.scalar(select(Area.id).where(Area.kind == "village").order_by(Area.id))
            stall = db.session.scalar(select(Vendor.id).order_by(Vendor.id))
            db.session.commit()
            db.session.remove()
        bearer = {"Authorization": f"Bearer {token}"}
        office = app.test_client()
        with office.session_transaction() as session:  # signed in, as the pages' form leaves it
            session["token"] = token
        agency_client = app.test_client()
        with agency_client.session_transaction() as session:
            session["token"] = health_token
        pages = [
            ("/dasbor (overview)", office, "/dasbor",
             ["/api/v1/coverage", f"/api/v1/coverage/trend?from={today - dt.timedelta(days=29)}&to={today}",
              "/api/v1/targets", "/api/v1/complaints?status=received,forwarded,in_progress",
              "/api/v1/volunteers?status=pending", "/api/v1/vendors?per_page=100",
              "/api/v1/areas?kind=village&per_page=100"]),
            ("/dasbor/desa/<id> (a village)", office, f"/dasbor/desa/{village}",
             ["/api/v1/coverage", f"/api/v1/recipients/uncovered?village_id={village}"]),
            ("/dasbor/warung/<id> (a stall's missed meals)", office, f"/dasbor/warung/{stall}",
             [f"/api/v1/vendors/{stall}", f"/api/v1/deliveries?vendor_id={stall}&status=missed"]),
            ("/dasbor/dinas (the health agency's view)", agency_client, "/dasbor/dinas",
             [f"/api/v1/agencies/{agency['health']}/performance",
              f"/api/v1/tasks?agency_id={agency['health']}&status=open",
              f"/api/v1/targets?signatory_agency_id={agency['health']}", "/api/v1/vendors?per_page=100"]),
            ("/dasbor/laporan (last month's report)", office, "/dasbor/laporan",
             [f"/api/v1/coverage/trend?from={(today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)}"
              f"&to={today.replace(day=1) - dt.timedelta(days=1)}", "/api/v1/targets"]),
        ]
        print(f"{'page (server time)':<48} {'median ms':>10} {'p95 ms':>8} {'API calls it replaces, ms':>26}")
        worst = 0.0
        for label, client, page, calls in pages:
            median, p95, _ = timed(client, page)
            worst = max(worst, median)
            replaced = sum(timed(office, call, bearer, runs=5)[0] for call in calls)
            print(f"{label:<48} {median:>10.1f} {p95:>8.1f} {replaced:>14.1f} ({len(calls)} calls)")
        targets_ms, targets_p95, _ = timed(office, "/api/v1/targets", bearer)
        print(f"{'GET /api/v1/targets':<48} {targets_ms:>10.1f} {targets_p95:>8.1f}")
        compressed = {"Accept-Encoding": "br, gzip"}
        html = office.get("/dasbor", headers=compressed)
        sheet = re.search(r'href="(/static/app\.[0-9a-f]+\.css)"', office.get("/dasbor").get_data(as_text=True))
        css = office.get(sheet.group(1), headers=compressed) if sheet else None
        first_load = len(html.get_data()) + (len(css.get_data()) if css else 0)
        raw = len(office.get("/dasbor").get_data())
        print(f"first load of /dasbor as sent ({html.headers.get('Content-Encoding', 'identity')}): "
              f"{first_load / 1000:.1f} KB (the page {raw / 1000:.1f} KB before compression)")
        met = worst < PAGE_GOAL_MS and targets_ms < TARGETS_GOAL_MS and first_load < FIRST_LOAD_GOAL
        print(f"goals (pages < {PAGE_GOAL_MS} ms, GET /targets < {TARGETS_GOAL_MS} ms, first load < "
              f"{FIRST_LOAD_GOAL // 1000} KB): {'met' if met else 'NOT met'}")
    finally:
        clock.now = real_now
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    history_main(__doc__, run, days=100)


if __name__ == "__main__":
    main()
