"""The program's indicators, measured from the data for any day (API.md, Coverage and outcomes):

- ``coverage_rate``: eligible recipients with at least one delivered meal on D / eligible on D;
- ``delivery_rate``: delivered meals / scheduled meals on D;
- ``weekly_meal_rate``: eligible recipients who got at least 90% of their meals in the 7 days
  ending D / eligible on D (meals scheduled for them and not cancelled);
- ``visit_rate``: eligible recipients with a completed school visit (visited, or visited with a
  concern) in the ``visit_interval_days`` ending D / eligible on D;
- ``hygiene_valid_rate``: active stalls whose latest hygiene inspection on or before D passed
  and still held on D / active stalls (stalls' status as it is now: its history is not kept);
- ``enrolled_count``: recipients enrolled at the end of D;
- ``complaint_on_time_rate``: complaints answered by their ``respond_by`` / complaints whose answer
  was due from the first of D's month to D (rejected ones aside).

Eligible on D: enrolled and not paused on D. A rate with nothing to measure (no one eligible,
no meal scheduled, no active stall) is None.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from service.complaints import service as complaints
from service.db import bound
from service.deliveries import coverage
from service.deliveries.models import DeliveryDay
from service.extensions import db
from service.program.clock import today
from service.program.service import settings
from service.rates import rate
from service.recipients.models import Recipient, visited_recipients
from service.vendors.models import Inspection, Vendor

WEEK = coverage.WEEK
# Indicators counted from meals: their day is complete once the cut-off has closed it.
FROM_MEALS = frozenset({"coverage_rate", "delivery_rate", "weekly_meal_rate"})


def coverage_rate(day: dt.date) -> float | None:
    counts = coverage.trend(day, day)[0].counts
    return rate(counts.covered, counts.eligible)


def delivery_rate(day: dt.date) -> float | None:
    counts = coverage.trend(day, day)[0].counts
    return rate(counts.delivered, counts.scheduled)


def weekly_meal_rate(day: dt.date) -> float | None:
    stored = coverage.stored_well_fed(day)
    if stored is None:  # not closed (or closed before the count was kept): counted now
        fed = coverage.well_fed_by_village(day)
        eligible = db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.eligible_on(day)))
        stored = sum(fed.values()), eligible or 0
    return rate(*stored)


def visit_rate(day: dt.date) -> float | None:
    visited = visited_recipients(day, settings().visit_interval_days)
    eligible, seen = db.session.execute(
        select(func.count(), func.sum(case((Recipient.id.in_(visited), 1), else_=0))).where(Recipient.eligible_on(day))
    ).one()
    return rate(int(seen or 0), eligible)


def hygiene_counts(day: dt.date) -> tuple[int, int]:
    """(active stalls, of them those whose latest hygiene inspection on or before ``day`` passed
    and still held on ``day``)."""
    earlier = aliased(Inspection)
    latest = (
        select(earlier.id)
        .where(earlier.vendor_id == Vendor.id, earlier.kind == "hygiene", earlier.inspected_on <= day)
        .order_by(earlier.inspected_on.desc(), earlier.id.desc()).limit(1).correlate(Vendor).scalar_subquery()
    )
    valid = (
        select(Inspection.id)
        .where(Inspection.id == latest, Inspection.passed, Inspection.valid_until >= day).exists()
    )
    active, certified = db.session.execute(
        select(func.count(), func.sum(case((valid, 1), else_=0))).where(Vendor.status == "active")
    ).one()
    return int(active or 0), int(certified or 0)


def hygiene_valid_rate(day: dt.date) -> float | None:
    active, certified = hygiene_counts(day)
    return rate(certified, active)


def enrolled_count(day: dt.date) -> float:
    return float(db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.enrolled_on(day))) or 0)


def complaint_on_time_rate(day: dt.date) -> float | None:
    return rate(*complaints.on_time_counts(day.replace(day=1), day))


MEASURES: dict[str, Callable[[dt.date], float | None]] = {
    "coverage_rate": coverage_rate, "delivery_rate": delivery_rate, "weekly_meal_rate": weekly_meal_rate,
    "visit_rate": visit_rate, "hygiene_valid_rate": hygiene_valid_rate, "enrolled_count": enrolled_count,
    "complaint_on_time_rate": complaint_on_time_rate,
}


def last_closed_day() -> dt.date:
    """The last day the cut-off closed (its counts stored and final); yesterday if none was."""
    day = today()
    closed = db.session.scalar(select(func.max(DeliveryDay.date))
                               .where(DeliveryDay.closed_at.is_not(None), DeliveryDay.date <= day))
    return closed or day - dt.timedelta(days=1)


class Measurer:
    """Reads indicators, each (regions, indicator, day) once per request however many targets
    share it: in the regions the session works in (a target is read in its own, ``in_region``)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[object, str, dt.date], float | None] = {}
        self._closed: dict[object, dt.date] = {}

    def __call__(self, indicator: str, day: dt.date) -> float | None:
        key = (bound(db.session), indicator, day)
        if key not in self._seen:
            self._seen[key] = MEASURES[indicator](day)
        return self._seen[key]

    def last_complete_day(self, indicator: str) -> dt.date:
        """The latest day an indicator can be read for in full: for those counted from meals, the
        last day the cut-off closed; for the others, today."""
        if indicator not in FROM_MEALS:
            return today()
        regions = bound(db.session)
        if regions not in self._closed:
            self._closed[regions] = last_closed_day()
        return self._closed[regions]
