"""One clock (``service/program/clock.py``), one rule for a rate (``service/rates.py``) and one
"fetch if visible, else 404" (``service.db.fetch_visible``): each has a single home, and the areas
read them from there."""
from __future__ import annotations

import datetime as dt
import pathlib
import re
from types import SimpleNamespace

from service.program import clock
from service.rates import rate
from tests.conftest import at_jakarta

ROOT = pathlib.Path(__file__).resolve().parent.parent
JAKARTA = SimpleNamespace(timezone="Asia/Jakarta")  # anything with a timezone: the program, a region
MAKASSAR = SimpleNamespace(timezone="Asia/Makassar")
JAYAPURA = SimpleNamespace(timezone="Asia/Jayapura")
DAY = dt.date(2026, 12, 3)


def test_today_is_the_day_where_the_program_is(monkeypatch):
    at_jakarta(monkeypatch, DAY, 23, 30)  # 23:30 WIB in Banyuwangi: 00:30 tomorrow across the strait
    assert clock.today(JAKARTA) == DAY
    assert clock.today(MAKASSAR) == DAY + dt.timedelta(days=1)
    assert clock.today(JAYAPURA) == DAY + dt.timedelta(days=1)
    assert clock.today() == DAY  # the program's own (Asia/Jakarta)
    assert clock.local(clock.now(), MAKASSAR).strftime("%H:%M %Z") == "00:30 WITA"


def test_a_day_runs_from_its_midnight_up_to_the_next():
    start, end = clock.start_of(DAY, JAKARTA), clock.end_of(DAY, JAKARTA)
    assert start.isoformat() == "2026-12-03T00:00:00+07:00" and end.isoformat() == "2026-12-04T00:00:00+07:00"
    assert end == clock.start_of(DAY + dt.timedelta(days=1), JAKARTA)
    last = end - dt.timedelta(microseconds=1)
    assert clock.day_of(last, JAKARTA) == DAY and clock.day_of(end, JAKARTA) == DAY + dt.timedelta(days=1)
    # the same day ends an hour earlier in Makassar, two in Jayapura (as moments)
    assert end - clock.end_of(DAY, MAKASSAR) == dt.timedelta(hours=1)
    assert end - clock.end_of(DAY, JAYAPURA) == dt.timedelta(hours=2)
    assert clock.at(DAY, dt.time(21), MAKASSAR).isoformat() == "2026-12-03T21:00:00+08:00"


def test_nothing_outside_the_clock_builds_a_local_time_by_hand():
    """The local day was rebuilt in about eight places, with two different ends of a day; now only
    the clock turns a timezone's name into a zone (the program's settings check a name exists)."""
    offenders = []
    for path in [*ROOT.glob("service/**/*.py"), *ROOT.glob("blueprints/**/*.py"), *ROOT.glob("schemas/**/*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative == "service/program/clock.py":
            continue
        text = path.read_text()
        for pattern in (r"tzinfo=ZoneInfo", r"astimezone\(ZoneInfo", r"ZoneInfo\([a-z_.]*timezone\)"):
            if re.search(pattern, text):
                offenders.append(f"{relative}: {pattern}")
    assert offenders == []


def test_a_rate_of_nothing_is_not_measured():
    assert rate(0, 0) is None
    assert rate(1, 3) == 0.3333 and rate(0, 5) == 0.0 and rate(5, 5) == 1.0


def test_an_empty_day_has_no_rate_in_coverage_or_targets_alike(client, coordinator):
    """Coverage said 0.0 for a day nobody was eligible and the targets said null: both say null."""
    day = client.get("/api/v1/coverage", headers=coordinator)
    assert day.status_code == 200, day.json
    assert day.json["eligible"] == 0 and day.json["coverage_rate"] is None and day.json["delivery_rate"] is None
    trend = client.get("/api/v1/coverage/trend", headers=coordinator)
    assert trend.status_code == 200 and trend.json
    assert all(row["coverage_rate"] is None for row in trend.json["days"])
