"""Figures of the overview and the monthly report, read with the same functions as the API
(``GET /coverage``, ``GET /coverage/trend``, the targets' indicators), so that a number on a page
is the number the API gives for the same day."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select

from service.accounts.models import Agency
from service.deliveries import coverage
from service.deliveries.coverage import Counts
from service.extensions import db
from service.program.clock import today
from service.program.models import Area
from service.targets.indicators import Measurer
from service.tasks.models import Task
from service.vendors.models import Vendor

WEEK = dt.timedelta(days=7)
TREND_DAYS = 30
# The day's counts shown on the overview, by the API's names (GET /coverage).
DAY_COUNTS = ("eligible", "covered", "uncovered", "delivered", "pending", "failed", "missed")
# The rates, each as a single value with its change from a week before.
RATES = ("coverage_rate", "delivery_rate", "weekly_meal_rate", "visit_rate")
MEASURED = ("weekly_meal_rate", "visit_rate")  # read as a target reads them (their last complete day)


@dataclass(frozen=True)
class Figure:
    """An indicator's value (as the API gives it) and the day it is of; and its change in the week
    to ``change_to``, the last day the cut-off closed (an open day, still filling, is not set
    against a finished one)."""

    indicator: str
    value: float | int | None
    on: dt.date
    change_to: dt.date
    change: float | None


@dataclass(frozen=True)
class Today:
    day: dt.date
    counts: Counts
    by_village: list[coverage.VillageCoverage]
    by_region: list[coverage.RegionCoverage]
    rates: list[Figure]
    trend: list[coverage.TrendDay]


def _change(value: float | None, before: float | None) -> float | None:
    return None if value is None or before is None else round(value - before, 4)


def today_figures() -> Today:
    """Today's counts (as ``GET /coverage``), the four rates each with its change in the week to
    the last day closed, and the 30 days' trend (as ``GET /coverage/trend``)."""
    day = today()
    now = coverage.day_coverage(day)
    # today once: as GET /coverage reads it (a fresh snapshot, else counted), not counted again
    trend = [*coverage.trend(day - dt.timedelta(days=TREND_DAYS - 1), day - dt.timedelta(days=1)),
             coverage.TrendDay(date=day, closed=now.closed, counted_at=now.counted_at, counts=now.counts)]
    measure = Measurer()
    closed = measure.last_complete_day("coverage_rate")
    rates = [Figure(name, getattr(now.counts, name), day, closed,
                    _change(measure(name, closed), measure(name, closed - WEEK)))
             for name in ("coverage_rate", "delivery_rate")]
    for indicator in MEASURED:
        on = measure.last_complete_day(indicator)
        value = measure(indicator, on)
        rates.append(Figure(indicator, value, on, on, _change(value, measure(indicator, on - WEEK))))
    return Today(day=day, counts=now.counts, by_village=now.by_village, by_region=now.by_region, rates=rates,
                 trend=trend)


@dataclass(frozen=True)
class Point:
    """A village or a stall to draw: its id, its name, where it is, and what colours it."""

    id: int
    name: str
    latitude: float
    longitude: float
    status: str


def villages() -> dict[int, tuple[str, float, float]]:
    """Every village's name and centre, by id (the map's own points: no tile server needed)."""
    rows = db.session.execute(select(Area.id, Area.name, Area.latitude, Area.longitude)
                              .where(Area.kind == "village"))
    return {row.id: (row.name, row.latitude, row.longitude) for row in rows}


def stalls(day: dt.date | None = None) -> list[Point]:
    """Active stalls with their hygiene status on ``day`` (none | valid | expired | failed)."""
    day = day or today()
    rows = db.session.execute(select(Vendor.id, Vendor.name, Vendor.latitude, Vendor.longitude,
                                     Vendor.hygiene_status_on(day).label("hygiene"))
                              .where(Vendor.status == "active").order_by(Vendor.id))
    return [Point(row.id, row.name, row.latitude, row.longitude, row.hygiene) for row in rows]


def stalls_by_hygiene(day: dt.date | None = None) -> dict[str, int]:
    """Active stalls by hygiene status on ``day``: every status, zeros included."""
    day = day or today()
    status = Vendor.hygiene_status_on(day)
    counted = {row[0]: row[1] for row in db.session.execute(select(status, func.count())
                                                            .where(Vendor.status == "active").group_by(status))}
    return {name: counted.get(name, 0) for name in ("valid", "expired", "failed", "none")}


def expiring(within_days: int = 30, day: dt.date | None = None) -> list[Vendor]:
    """Active stalls whose hygiene certificate holds today but lapses within ``within_days``,
    the soonest first."""
    day = day or today()
    return list(db.session.scalars(
        select(Vendor).where(Vendor.status == "active", Vendor.hygiene_is("valid", day),
                             Vendor.hygiene_valid_until <= day + dt.timedelta(days=within_days))
        .order_by(Vendor.hygiene_valid_until, Vendor.id)))


@dataclass(frozen=True)
class SchoolVisits:
    agency_id: int
    school: str
    due: int  # open school visits
    overdue: int  # of them, past their due date


def visits_due_by_school(agency_id: int | None = None) -> list[SchoolVisits]:
    """Open school visits by school (the education agency doing them), the most overdue first;
    one school's only with ``agency_id``."""
    day = today()
    overdue = func.sum(case((Task.due_date < day, 1), else_=0))
    query = (select(Task.agency_id, Agency.name, func.count(), overdue)
             .join(Agency, Agency.id == Task.agency_id)
             .where(Task.type == "school_visit", Task.status == "open")
             .group_by(Task.agency_id, Agency.name).order_by(overdue.desc(), Agency.name))
    if agency_id is not None:
        query = query.where(Task.agency_id == agency_id)
    return [SchoolVisits(a, name, int(due), int(late or 0)) for a, name, due, late in db.session.execute(query)]
