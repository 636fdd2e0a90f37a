"""Coverage: did every eligible elderly person get a meal today? (API.md, Coverage and outcomes.)

One rule for what a day counts, of people and of meals:

- ``eligible``: recipients enrolled and not paused on D (``Recipient.eligible_on``), in their village;
- ``covered``: of them, those with at least one meal delivered on D; ``uncovered``: the others
  (eligible - covered, worked out, never stored);
- ``unplanned``: of the uncovered, those with no meal planned on D (none scheduled, or all
  cancelled): nobody was to feed them. The rest of the uncovered had a meal that failed, was
  missed, or (before the cut-off) is still pending;
- meals (``scheduled``, ``delivered``, ``failed``, ``missed``) in the village they were scheduled in.

``coverage_rate``: covered / eligible. ``delivery_rate``: delivered meals / scheduled meals. A
delivery is paid (``service.statement``) when it is delivered, and a meal can be delivered only
while its day is open (``scheduling.day_open``): what a closed day counted is what is paid.

A closed day is read from the counts its cut-off stored (one row per village). The open day is
read from a snapshot the job runner stores every minute: counting a day of 100,000 recipients
live takes about half a second on PostgreSQL and SQLite (bench/coverage.py), too slow for
a dashboard that many open at once, and a minute old is fresh enough to watch a day by. Without a
fresh snapshot (the runner is down), or when asked (``live``), the day is counted on the spot.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from flask import current_app
from sqlalchemy import case, delete, func, select

from service.db import bound, bulk_insert
from service.deliveries.models import CoverageDay, Delivery, DeliveryDay
from service.errors import Invalid
from service.extensions import db
from service.i18n import _l
from service.program import clock
from service.program.clock import today
from service.program.models import Area, Region
from service.program.service import settings
from service.rates import rate
from service.recipients.models import Recipient, visited_recipients
from service.vendors.service import hygiene_counts

MAX_TREND_DAYS = 366


@dataclass
class Counts:
    eligible: int = 0  # enrolled and not paused that day
    covered: int = 0  # of the eligible: with a delivered meal
    unplanned: int | None = 0  # of the eligible: no meal planned (None: a day counted before it was kept)
    scheduled: int = 0  # meals planned (cancelled ones are not)
    delivered: int = 0
    failed: int = 0
    missed: int = 0
    volunteer_covered: int = 0  # of ``covered``: with a meal a volunteer brought
    volunteer_delivered: int = 0  # of ``delivered``: meals volunteers brought

    @property
    def uncovered(self) -> int:
        """Eligible recipients without a delivered meal: eligible - covered. (A day counted before
        ``covered`` counted the eligible only may have counted more covered than eligible.)"""
        return max(self.eligible - self.covered, 0)

    @property
    def by_source(self) -> dict[str, dict[str, int]]:
        """Who fed them: stalls and volunteers (a recipient fed by both on one day counts for the
        volunteer, who stood in)."""
        return {"stall": {"covered": self.covered - self.volunteer_covered,
                          "delivered": self.delivered - self.volunteer_delivered},
                "volunteer": {"covered": self.volunteer_covered, "delivered": self.volunteer_delivered}}

    @property
    def pending(self) -> int:
        """Meals not yet confirmed (before the cut-off)."""
        return self.scheduled - self.delivered - self.failed - self.missed

    @property
    def coverage_rate(self) -> float | None:
        return rate(self.covered, self.eligible)

    @property
    def delivery_rate(self) -> float | None:
        return rate(self.delivered, self.scheduled)

    @classmethod
    def total(cls, parts: Iterable[Counts]) -> Counts:
        """The sum of ``parts``; a count some part lacks (None) is lacking in the sum too."""
        out = cls()
        for part in parts:
            for f in fields(cls):
                mine, theirs = getattr(out, f.name), getattr(part, f.name)
                setattr(out, f.name, None if mine is None or theirs is None else mine + theirs)
        return out


@dataclass
class VillageCoverage:
    village_id: int
    village: str
    district: str | None
    counts: Counts


@dataclass
class RegionCoverage:
    region_code: str
    counts: Counts


@dataclass
class DayCoverage:
    date: dt.date
    closed: bool
    counted_at: dt.datetime
    counts: Counts
    by_village: list[VillageCoverage]
    by_region: list[RegionCoverage]  # for staff of several regions: each region's part of the total


def live_counts(day: dt.date) -> dict[int, Counts]:
    """Counts by village for ``day``, straight from recipients and deliveries: two grouped queries.
    People: each eligible recipient once, in their village, with what their meals of the day came
    to. Meals: by the village they were scheduled in."""
    by_village: dict[int, Counts] = {}

    def slot(village_id: int) -> Counts:
        return by_village.setdefault(village_id, Counts())

    delivered = Delivery.status == "delivered"
    by_volunteer = delivered & Delivery.volunteer_id.is_not(None)

    def any_of(condition):  # 1 when one of the recipient's meals of the day meets it
        return func.max(case((condition, 1), else_=0))

    meals_of = (
        select(Delivery.recipient_id, any_of(delivered).label("fed"), any_of(by_volunteer).label("by_volunteer"),
               any_of(Delivery.status != "cancelled").label("planned"))
        .where(Delivery.date == day).group_by(Delivery.recipient_id).subquery()
    )
    people = db.session.execute(
        select(Recipient.village_id, func.count(), func.sum(func.coalesce(meals_of.c.fed, 0)),
               func.sum(func.coalesce(meals_of.c.by_volunteer, 0)),
               func.sum(case((func.coalesce(meals_of.c.planned, 0) == 0, 1), else_=0)))
        .outerjoin(meals_of, meals_of.c.recipient_id == Recipient.id)
        .where(Recipient.eligible_on(day)).group_by(Recipient.village_id)
    )
    for village_id, eligible, covered, v_covered, unplanned in people:
        counts = slot(village_id)
        counts.eligible, counts.covered, counts.volunteer_covered = eligible, int(covered), int(v_covered)
        counts.unplanned = int(unplanned)
    meals = db.session.execute(
        select(Delivery.village_id,
               func.sum(case((Delivery.status != "cancelled", 1), else_=0)),
               func.sum(case((delivered, 1), else_=0)),
               func.sum(case((Delivery.status == "failed", 1), else_=0)),
               func.sum(case((Delivery.status == "missed", 1), else_=0)),
               func.sum(case((by_volunteer, 1), else_=0)))
        .where(Delivery.date == day).group_by(Delivery.village_id)
    )
    for village_id, scheduled, n_delivered, failed, missed, v_delivered in meals:
        counts = slot(village_id)
        counts.scheduled, counts.delivered = int(scheduled), int(n_delivered)
        counts.failed, counts.missed, counts.volunteer_delivered = int(failed), int(missed), int(v_delivered)
    return by_village


def write_summary(day: dt.date, final: bool = True) -> Counts:
    """Count ``day`` by village and store it: ``final`` at the cut-off, else as a snapshot of the
    open day (never over a final count). Its totals."""
    if not final and db.session.scalar(select(CoverageDay.date).where(CoverageDay.date == day,
                                                                      CoverageDay.final).limit(1)):
        return Counts()
    by_village = live_counts(day)
    fed_week = well_fed_by_village(day) if final else {}
    db.session.execute(delete(CoverageDay).where(CoverageDay.date == day))
    moment = clock.now()
    bulk_insert(db.session, CoverageDay.__table__, [
        {"date": day, "village_id": v, **asdict(c), "fed_week": fed_week.get(v, 0) if final else None,
         "final": final, "counted_at": moment}
        for v, c in sorted(by_village.items())])
    return Counts.total(by_village.values())


WEEK = 7
WEEKLY_SHARE = 0.9  # of a recipient's meals in the week, for weekly_meal_rate


def well_fed_by_village(day: dt.date) -> dict[int, int]:
    """Eligible recipients on ``day`` who got at least 90% of their meals (those not cancelled) in
    the 7 days ending ``day``, by village. Seconds at 100,000 recipients: the cut-off counts it
    once and stores it (``fed_week``), and weekly_meal_rate reads that."""
    well_fed = (
        select(Delivery.recipient_id)
        .where(Delivery.date.between(day - dt.timedelta(days=WEEK - 1), day), Delivery.status != "cancelled")
        .group_by(Delivery.recipient_id)
        .having(func.sum(case((Delivery.status == "delivered", 1), else_=0)) >= WEEKLY_SHARE * func.count())
        .subquery()
    )
    return dict(db.session.execute(
        select(Recipient.village_id, func.count())
        .join(well_fed, well_fed.c.recipient_id == Recipient.id)
        .where(Recipient.eligible_on(day)).group_by(Recipient.village_id)
    ).all())


def stored_well_fed(day: dt.date) -> tuple[int, int] | None:
    """``(well fed in the week, eligible)`` as the cut-off of ``day`` stored them, or None if it
    did not (the day is open, or was closed before the count was kept)."""
    row = db.session.execute(
        select(func.count().label("villages"), func.count(CoverageDay.fed_week).label("counted"),
               func.sum(CoverageDay.fed_week).label("fed"), func.sum(CoverageDay.eligible).label("eligible"))
        .where(CoverageDay.date == day, CoverageDay.final)
    ).one()
    if not row.villages or row.counted != row.villages:
        return None
    return int(row.fed or 0), int(row.eligible or 0)


def enrolled_count(day: dt.date) -> int:
    """Recipients enrolled at the end of ``day`` (enrolled_count)."""
    return int(db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.enrolled_on(day))) or 0)


def visited_count(day: dt.date) -> tuple[int, int]:
    """``(visited, eligible)`` on ``day``: of the eligible, those with a visit (a school's or a
    volunteer's) in the ``visit_interval_days`` ending ``day`` (visit_rate)."""
    visited = visited_recipients(day, settings().visit_interval_days)
    eligible, seen = db.session.execute(
        select(func.count(), func.sum(case((Recipient.id.in_(visited), 1), else_=0))).where(Recipient.eligible_on(day))
    ).one()
    return int(seen or 0), int(eligible or 0)


def keep_day_figures(row: DeliveryDay) -> None:
    """The cut-off keeps on its closed day what the targets' other indicators need (enrolled,
    visited, stalls active and certified), so that reading a closed day is a row, not a count."""
    row.enrolled = enrolled_count(row.date)
    row.visited = visited_count(row.date)[0]
    row.stalls_active, row.stalls_certified = hygiene_counts(row.date)


@dataclass(frozen=True)
class DayFigures:
    """What the cut-off kept of a closed day, summed over the session's regions."""

    enrolled: int
    visited: int
    eligible: int
    stalls_active: int
    stalls_certified: int


def stored_day_figures(day: dt.date) -> DayFigures | None:
    """The closed ``day``'s kept figures summed over the session's regions, or None unless every
    one of them closed it with the figures kept (a region that never scheduled it, or closed it
    before they were kept): then they are counted live."""
    reached = bound(db.session)
    regions = len(reached) if reached is not None else db.session.scalar(select(func.count()).select_from(Region))
    row = db.session.execute(
        select(func.count().label("days"), func.count(DeliveryDay.closed_at).label("closed"),
               func.count(DeliveryDay.visited).label("kept"), func.sum(DeliveryDay.enrolled).label("enrolled"),
               func.sum(DeliveryDay.visited).label("visited"), func.sum(DeliveryDay.stalls_active).label("active"),
               func.sum(DeliveryDay.stalls_certified).label("certified"))
        .where(DeliveryDay.date == day)
    ).one()
    if not row.days or row.days != regions or row.kept != row.days or row.closed != row.days:
        return None
    eligible = db.session.scalar(select(func.sum(CoverageDay.eligible))
                                 .where(CoverageDay.date == day, CoverageDay.final))
    return DayFigures(enrolled=int(row.enrolled or 0), visited=int(row.visited or 0), eligible=int(eligible or 0),
                      stalls_active=int(row.active or 0), stalls_certified=int(row.certified or 0))


def refresh_today() -> Counts:
    """The job runner's snapshot of today, taken every ``COVERAGE_SNAPSHOT_SECONDS``."""
    return write_summary(today(), final=False)


_COUNT_COLUMNS = [f.name for f in fields(Counts)]


@dataclass
class Stored:
    """A day's stored counts: by village (or in total), final or a snapshot, and when counted."""

    by_village: dict[int, Counts]
    final: bool
    counted_at: dt.datetime


def _stored(first: dt.date, last: dt.date, by_village: bool) -> dict[dt.date, Stored]:
    """The stored counts of the days from ``first`` to ``last`` that have them, by village or in
    total (under the key 0); a snapshot only while it is fresh."""
    fresh_after = clock.now() - dt.timedelta(seconds=current_app.config["COVERAGE_SNAPSHOT_MAX_AGE_SECONDS"])
    keys = [CoverageDay.date, CoverageDay.final] + ([CoverageDay.village_id] if by_village else [])
    rows = db.session.execute(
        select(*keys, func.min(CoverageDay.counted_at).label("counted_at"),
               *(func.sum(getattr(CoverageDay, n)).label(n) for n in _COUNT_COLUMNS))
        .where(CoverageDay.date.between(first, last)).group_by(*keys)
    ).all()
    out: dict[dt.date, Stored] = {}
    for row in rows:
        day, final, counted_at = row.date, bool(row.final), row.counted_at
        village_id = row.village_id if by_village else 0
        counts = Counts(**{n: None if getattr(row, n) is None else int(getattr(row, n)) for n in _COUNT_COLUMNS})
        if not final and counted_at < fresh_after:
            continue
        stored = out.setdefault(day, Stored(by_village={}, final=final, counted_at=counted_at))
        stored.by_village[village_id] = counts
        stored.counted_at = min(stored.counted_at, counted_at)
    return out


def _live(day: dt.date) -> Stored:
    return Stored(by_village=live_counts(day), final=False, counted_at=clock.now())


def day_coverage(day: dt.date | None = None, live: bool = False) -> DayCoverage:
    """``day``'s coverage (today by default), in total and by village: a closed day as its
    cut-off counted it; an open day from the runner's snapshot while it is fresh, else (or with
    ``live``) counted now."""
    day = day or today()
    stored = _stored(day, day, by_village=True).get(day)
    if stored is None or (live and not stored.final):
        stored = _live(day)
    by_id = stored.by_village
    areas = db.session.scalars(select(Area).where(Area.id.in_(list(by_id)))).all() if by_id else []
    names = {a.id: (a.name, a.parent.name if a.parent else None) for a in areas}
    regions: dict[str, list[Counts]] = {}
    for area in areas:
        regions.setdefault(area.region_code, []).append(by_id[area.id])
    villages = []
    for village_id, counts in sorted(by_id.items(), key=lambda kv: (names.get(kv[0], ("", None)), kv[0])):
        name, district = names.get(village_id, ("", None))
        villages.append(VillageCoverage(village_id=village_id, village=name, district=district, counts=counts))
    return DayCoverage(date=day, closed=stored.final, counted_at=stored.counted_at,
                       counts=Counts.total(by_id.values()), by_village=villages,
                       by_region=[RegionCoverage(code, Counts.total(parts)) for code, parts in sorted(regions.items())])


@dataclass
class TrendDay:
    date: dt.date
    closed: bool
    counted_at: dt.datetime
    counts: Counts


def trend(first: dt.date | None = None, last: dt.date | None = None) -> list[TrendDay]:
    """One row per day from ``first`` to ``last`` (the last 30 days by default; never past today):
    closed days from the cut-off's counts, open ones from a fresh snapshot or counted now, and
    days on which nothing was scheduled (before the program, or a day the runner missed) as
    zeros: no meal was planned, so none was delivered."""
    now_day = today()
    last = min(last or now_day, now_day)
    first = first or last - dt.timedelta(days=29)
    if first > last:
        raise Invalid({"from": [_l("must not be after `to` (or today)")]})
    if (last - first).days >= MAX_TREND_DAYS:
        raise Invalid({"from": [_l("at most %(MAX_TREND_DAYS)s days at a time", MAX_TREND_DAYS=MAX_TREND_DAYS)]})
    stored = _stored(first, last, by_village=False)
    # Counted now: today, and a scheduled day the cut-off has not closed yet (the runner was down).
    # A past day on which nothing was scheduled had no meals; it is not counted again and again.
    open_days = {now_day, *db.session.scalars(select(DeliveryDay.date).where(DeliveryDay.date.between(first, last)))}
    nothing = Stored(by_village={}, final=False, counted_at=clock.now())
    out = []
    day = first
    while day <= last:
        known = stored.get(day) or (_live(day) if day in open_days else nothing)
        out.append(TrendDay(date=day, closed=known.final, counted_at=known.counted_at,
                            counts=Counts.total(known.by_village.values())))
        day += dt.timedelta(days=1)
    return out
