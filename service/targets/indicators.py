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
no meal scheduled, no active stall) is None. A closed day is read as its cut-off counted it
(``coverage_days``, ``delivery_days``); an open one, or one closed before a count was kept, is
counted from the data.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select

from service.complaints import service as complaints
from service.db import bound
from service.deliveries import coverage
from service.deliveries.models import DeliveryDay
from service.extensions import db
from service.program.clock import today
from service.rates import rate
from service.recipients.models import Recipient
from service.vendors import service as vendors

WEEK = coverage.WEEK
# Indicators read as the cut-off counted a day: their day is complete once the cut-off has closed
# it (the meals', and visit_rate, whose count at 100,000 recipients is too slow to make per read).
AT_CUTOFF = frozenset({"coverage_rate", "delivery_rate", "weekly_meal_rate", "visit_rate"})


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
    kept = coverage.stored_day_figures(day)
    return rate(kept.visited, kept.eligible) if kept else rate(*coverage.visited_count(day))


def hygiene_counts(day: dt.date) -> tuple[int, int]:
    """(active stalls, of them certified on ``day``): as the cut-off kept them for a closed past
    day, else counted (``vendors.service.hygiene_counts``)."""
    kept = coverage.stored_day_figures(day) if day < today() else None
    return (kept.stalls_active, kept.stalls_certified) if kept else vendors.hygiene_counts(day)


def hygiene_valid_rate(day: dt.date) -> float | None:
    active, certified = hygiene_counts(day)
    return rate(certified, active)


def enrolled_count(day: dt.date) -> float:
    kept = coverage.stored_day_figures(day) if day < today() else None
    return float(kept.enrolled if kept else coverage.enrolled_count(day))


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
        """The latest day an indicator can be read for in full: for those the cut-off counts (the
        meals' and visit_rate), the last day it closed; for the others, today."""
        if indicator not in AT_CUTOFF:
            return today()
        regions = bound(db.session)
        if regions not in self._closed:
            self._closed[regions] = last_closed_day()
        return self._closed[regions]
