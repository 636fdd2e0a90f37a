"""Coverage: did every eligible elderly person get a meal today? (API.md, Coverage and outcomes.)

Eligible on day D: enrolled and not paused on D. ``coverage_rate``: eligible recipients with at
least one delivered meal on D / eligible. ``delivery_rate``: delivered meals / scheduled meals.
A closed day is read from the summary its cut-off wrote (one row per village); a day still open
is counted live from the deliveries, which for one day is a few hundred thousand rows at most.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, not_, or_, select

from service.assignments.service import uncovered_query
from service.db import bulk_insert
from service.deliveries.models import CoverageDay, Delivery
from service.errors import Invalid
from service.extensions import db
from service.program.models import Area
from service.program.service import get_program, today
from service.recipients.models import Recipient, paused_on

MAX_TREND_DAYS = 366


@dataclass
class Counts:
    eligible: int = 0
    covered: int = 0  # eligible recipients with a delivered meal
    uncovered: int = 0  # verified or enrolled, not paused, and reached by no stall that may cook
    scheduled: int = 0  # meals planned (cancelled ones are not)
    delivered: int = 0
    failed: int = 0
    missed: int = 0
    with_evidence: int = 0  # delivered meals with a photo or the phone's GPS

    @property
    def pending(self) -> int:
        """Meals not yet confirmed (before the cut-off)."""
        return self.scheduled - self.delivered - self.failed - self.missed

    @property
    def coverage_rate(self) -> float:
        return round(self.covered / self.eligible, 4) if self.eligible else 0.0

    @property
    def delivery_rate(self) -> float:
        return round(self.delivered / self.scheduled, 4) if self.scheduled else 0.0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class VillageCoverage:
    village_id: int
    village: str
    district: str | None
    counts: Counts


@dataclass
class DayCoverage:
    date: dt.date
    closed: bool
    counts: Counts
    by_village: list[VillageCoverage]


def _day_end_utc(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))


def enrolled_on(day: dt.date):
    """SQL: the recipient was enrolled at the end of ``day`` (the program's local day)."""
    end = _day_end_utc(day, get_program().timezone)
    return and_(Recipient.enrolled_at < end,
                or_(Recipient.status == "enrolled", and_(Recipient.status == "exited", Recipient.exited_at >= end)))


def live_counts(day: dt.date) -> dict[int, Counts]:
    """Counts by village for ``day``, straight from recipients and deliveries: three grouped queries."""
    by_village: dict[int, Counts] = {}

    def slot(village_id: int) -> Counts:
        return by_village.setdefault(village_id, Counts())

    eligible = db.session.execute(
        select(Recipient.village_id, func.count())
        .where(enrolled_on(day), not_(paused_on(day))).group_by(Recipient.village_id)
    )
    for village_id, n in eligible:
        slot(village_id).eligible = n
    uncovered = db.session.execute(
        uncovered_query(day).with_only_columns(Recipient.village_id, func.count()).group_by(Recipient.village_id)
    )
    for village_id, n in uncovered:
        slot(village_id).uncovered = n
    delivered = Delivery.status == "delivered"
    meals = db.session.execute(
        select(Delivery.village_id,
               func.count(case((delivered, Delivery.recipient_id)).distinct()),
               func.sum(case((Delivery.status != "cancelled", 1), else_=0)),
               func.sum(case((delivered, 1), else_=0)),
               func.sum(case((Delivery.status == "failed", 1), else_=0)),
               func.sum(case((Delivery.status == "missed", 1), else_=0)),
               func.sum(case((delivered & (Delivery.photo_sha256.is_not(None) | Delivery.latitude.is_not(None)), 1),
                             else_=0)))
        .where(Delivery.date == day).group_by(Delivery.village_id)
    )
    for village_id, covered, scheduled, n_delivered, failed, missed, evidence in meals:
        counts = slot(village_id)
        counts.covered, counts.scheduled, counts.delivered = covered, int(scheduled), int(n_delivered)
        counts.failed, counts.missed, counts.with_evidence = int(failed), int(missed), int(evidence)
    return by_village


def write_summary(day: dt.date) -> Counts:
    """Store ``day``'s counts by village (the cut-off calls this); its totals."""
    by_village = live_counts(day)
    db.session.execute(delete(CoverageDay).where(CoverageDay.date == day))
    bulk_insert(db.session, CoverageDay.__table__,
                [{"date": day, "village_id": v, **asdict(c)} for v, c in sorted(by_village.items())])
    total = Counts()
    for counts in by_village.values():
        total.add(counts)
    return total


_COUNT_COLUMNS = [f.name for f in fields(Counts)]


def _summaries(first: dt.date, last: dt.date, village: bool):
    """Summary rows of closed days, by day (and village when ``village``)."""
    keys = [CoverageDay.date] + ([CoverageDay.village_id] if village else [])
    return db.session.execute(
        select(*keys, *(func.sum(getattr(CoverageDay, name)) for name in _COUNT_COLUMNS))
        .where(CoverageDay.date.between(first, last)).group_by(*keys)
    ).all()


def day_coverage(day: dt.date | None = None) -> DayCoverage:
    """``day``'s coverage (today by default), in total and by village."""
    day = day or today()
    rows = _summaries(day, day, village=True)
    if rows:
        by_id = {row[1]: Counts(*(int(x) for x in row[2:])) for row in rows}
    else:
        by_id = live_counts(day)
    names = {
        a.id: (a.name, a.parent.name if a.parent else None)
        for a in db.session.scalars(select(Area).where(Area.id.in_(list(by_id))))
    } if by_id else {}
    total = Counts()
    villages = []
    for village_id, counts in sorted(by_id.items(), key=lambda kv: (names.get(kv[0], ("", None)), kv[0])):
        total.add(counts)
        name, district = names.get(village_id, ("", None))
        villages.append(VillageCoverage(village_id=village_id, village=name, district=district, counts=counts))
    return DayCoverage(date=day, closed=bool(rows), counts=total, by_village=villages)


@dataclass
class TrendDay:
    date: dt.date
    closed: bool
    counts: Counts


def trend(first: dt.date | None = None, last: dt.date | None = None) -> list[TrendDay]:
    """One row per day from ``first`` to ``last`` (the last 30 days by default; never past today):
    closed days from the summaries, open ones (today, a day whose cut-off has not run) live."""
    now_day = today()
    last = min(last or now_day, now_day)
    first = first or last - dt.timedelta(days=29)
    if first > last:
        raise Invalid({"from": ["must not be after `to` (or today)"]})
    if (last - first).days >= MAX_TREND_DAYS:
        raise Invalid({"from": [f"at most {MAX_TREND_DAYS} days at a time"]})
    closed = {row[0]: Counts(*(int(x) for x in row[1:])) for row in _summaries(first, last, village=False)}
    out = []
    day = first
    while day <= last:
        if day in closed:
            out.append(TrendDay(date=day, closed=True, counts=closed[day]))
        else:
            total = Counts()
            for counts in live_counts(day).values():
                total.add(counts)
            out.append(TrendDay(date=day, closed=False, counts=total))
        day += dt.timedelta(days=1)
    return out
