"""The program's statistics for the public (``GET /public/stats``): aggregates only, and no count of
people that could single anyone out.

A count of people from 1 to 4 is shown as ``"<5"`` (``SMALL``). A count whose complement in its row
is that small (fed 8 of 10 enrolled would say that 2 went unfed) is withheld (null), and the rate
beside it. When a column would hide one district only, the total and the others would give it
away: the next smallest district of that column is withheld too (complementary suppression). Counts of
complaints are of reports, not people, and are shown as they are.

Each process keeps the answer for ``PUBLIC_STATS_CACHE_SECONDS`` (300 by default).
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from service.complaints import service as complaints
from service.deliveries import coverage
from service.extensions import db
from service.program.models import Area
from service.program.service import today
from service.recipients.models import Recipient
from service.targets import indicators

SMALL = 5  # counts of people under this are not shown
HIDDEN = "<5"

Shown = int | str | None  # a count, HIDDEN (1 to 4), or None (withheld: it would tell a small one)


def _small(n: int) -> bool:
    return 0 < n < SMALL


@dataclass
class DistrictStats:
    district: str
    enrolled: Shown
    fed_yesterday: Shown
    coverage_rate: float | None


@dataclass
class ComplaintStats:
    month: str
    received: int
    due: int
    answered_on_time: int
    on_time_rate: float | None


@dataclass
class PublicStats:
    as_of: dt.date
    yesterday: dt.date
    enrolled: Shown
    fed_yesterday: Shown
    coverage_rate: float | None
    stalls_certified: int
    stalls_active: int
    complaints: ComplaintStats
    districts: list[DistrictStats] = field(default_factory=list)


def _pair(whole: int, part: int) -> tuple[Shown, Shown, float | None]:
    """A row's (whole, part, rate) as shown: nothing small, and no small complement."""
    if _small(whole):
        return HIDDEN, HIDDEN, None
    if _small(part):
        return whole, HIDDEN, None
    if _small(whole - part):
        return whole, None, None
    return whole, part, indicators.rate(part, whole)


def _complement(rows: list[dict], column: str, rate: str | None = None) -> None:
    """If exactly one row of ``column`` is hidden, withhold the next smallest shown too."""
    hidden = [r for r in rows if r[column] == HIDDEN or r[column] is None]
    if len(hidden) != 1:
        return
    shown = sorted((r for r in rows if isinstance(r[column], int) and r[column] > 0), key=lambda r: r[column])
    if shown:
        shown[0][column] = None
        if rate:
            shown[0][rate] = None


def _count(n: int) -> Shown:
    return HIDDEN if _small(n) else n


def compute() -> PublicStats:
    """Enrolled now; fed yesterday and the coverage rate of yesterday (``coverage``'s counts:
    eligible recipients with a meal delivered / eligible), by district and in all."""
    day = today()
    yesterday = day - dt.timedelta(days=1)
    enrolled_by: dict[str, int] = defaultdict(int)
    for district, n in db.session.execute(_enrolled_by_district(day)):
        enrolled_by[district or "-"] += n
    eligible_by: dict[str, int] = defaultdict(int)
    fed_by: dict[str, int] = defaultdict(int)
    for village in coverage.day_coverage(yesterday).by_village:
        eligible_by[village.district or "-"] += village.counts.eligible
        fed_by[village.district or "-"] += village.counts.covered
    rows = []
    for district in sorted(set(enrolled_by) | set(eligible_by)):
        _, fed, rate = _pair(eligible_by[district], fed_by[district])
        rows.append({"district": district, "enrolled": _count(enrolled_by[district]), "fed_yesterday": fed,
                     "coverage_rate": rate})
    _complement(rows, "enrolled")
    for row in rows:  # a district whose people are not shown shows no meals either
        if row["enrolled"] == HIDDEN or row["enrolled"] is None:
            row["fed_yesterday"], row["coverage_rate"] = row["enrolled"], None
    _complement(rows, "fed_yesterday", "coverage_rate")
    _, fed, rate = _pair(sum(eligible_by.values()), sum(fed_by.values()))
    active, certified = indicators.hygiene_counts(day)
    first = day.replace(day=1)
    on_time, due = complaints.on_time_counts(first, day)
    return PublicStats(
        as_of=day, yesterday=yesterday, enrolled=_count(sum(enrolled_by.values())), fed_yesterday=fed,
        coverage_rate=rate, stalls_certified=certified, stalls_active=active,
        complaints=ComplaintStats(month=f"{day:%Y-%m}", received=complaints.received_between(first, day), due=due,
                                  answered_on_time=on_time, on_time_rate=indicators.rate(on_time, due)),
        districts=[DistrictStats(**row) for row in rows])


def _enrolled_by_district(day: dt.date):
    district = aliased(Area)
    return (select(district.name, func.count()).select_from(Recipient)
            .join(Area, Area.id == Recipient.village_id).outerjoin(district, district.id == Area.parent_id)
            .where(Recipient.enrolled_on(day)).group_by(district.name))


_kept: dict[str, tuple[float, dt.date, PublicStats]] = {}
_lock = threading.Lock()


def public_stats() -> PublicStats:
    """The statistics, as this process last computed them within ``PUBLIC_STATS_CACHE_SECONDS``."""
    seconds = current_app.config["PUBLIC_STATS_CACHE_SECONDS"]
    if not seconds:
        return compute()
    where = db.engine.url.render_as_string(hide_password=True)
    day = today()
    kept = _kept.get(where)
    if kept is None or kept[1] != day or time.monotonic() - kept[0] > seconds:
        with _lock:
            kept = _kept.get(where)
            if kept is None or kept[1] != day or time.monotonic() - kept[0] > seconds:
                kept = _kept[where] = (time.monotonic(), day, compute())
    return kept[2]
