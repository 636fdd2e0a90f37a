"""Working days: the offices' calendar, which public deadlines count in (a complaint is forwarded
within 3 working days and answered within 5, as SP4N-LAPOR! promises).

A working day is a weekday that is neither one of Indonesia's public holidays (the ``holidays``
package: its list includes the moving Islamic holidays, Idul Fitri and Idul Adha among them) nor a
collective leave day (*cuti bersama*) that the coordinator adds for the year (``LeaveDay``). Days
are the program's local days; something that arrives after ``office_closes_at`` (16:00 by default),
or on a day off, counts from the next working day.

A deadline of N working days is the end of the Nth working day after the day it counts from: a
report filed on Monday at 10:00 is forwarded by Thursday, one filed on Monday at 17:00 by Friday.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
from flask_babel import format_date
from sqlalchemy import select

from service.db import utcnow
from service.errors import Conflict, Invalid, NotFound
from service.extensions import db
from service.i18n import _l, language, lazy
from service.program import clock
from service.program.models import LeaveDay
from service.program.service import settings

MAX_WORKING_DAYS = 60  # no deadline counts further (a loop over a calendar with no working day ends)
FIRST_YEAR, LAST_YEAR = 2000, 2099


@lru_cache(maxsize=16)
def _public_holidays(year: int, lang: str = "en") -> dict[dt.date, str]:
    return dict(holidays.country_holidays("ID", years=year, language="en_US" if lang == "en" else lang))


def public_holiday(day: dt.date, lang: str = "en") -> str | None:
    """The name of the public holiday ``day`` is (in ``lang``, as the ``holidays`` package says), or None."""
    return _public_holidays(day.year, lang).get(day)


class Calendar:
    """The working days of some years, read once (the leave days of those years in one query)."""

    def __init__(self) -> None:
        self._leave: dict[int, frozenset[dt.date]] = {}

    def _leave_days(self, year: int) -> frozenset[dt.date]:
        if year not in self._leave:
            self._leave[year] = frozenset(db.session.scalars(select(LeaveDay.date).where(
                LeaveDay.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))))
        return self._leave[year]

    def working(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in _public_holidays(day.year) and day not in self._leave_days(day.year)

    def next_working(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first one after it."""
        for _ in range(MAX_WORKING_DAYS * 3):
            if self.working(day):
                return day
            day += dt.timedelta(days=1)
        raise Invalid({"date": [_l("no working day within reach: check the leave days")]})

    def after(self, day: dt.date, working_days: int) -> dt.date:
        """The ``working_days``-th working day after ``day``."""
        counted = 0
        for _ in range(MAX_WORKING_DAYS * 3):
            day += dt.timedelta(days=1)
            if self.working(day):
                counted += 1
                if counted == working_days:
                    return day
        raise Invalid({"date": [_l("no working day within reach: check the leave days")]})

    def counts_from(self, moment: dt.datetime) -> dt.date:
        """The day something arriving at ``moment`` counts from: its local day when that is a
        working day and the offices are still open, else the next working day."""
        program = settings()
        local = clock.local(moment, program)
        day = local.date()
        if self.working(day) and local.time() < program.office_closes_at:
            return day
        return self.next_working(day + dt.timedelta(days=1))


def deadlines(moment: dt.datetime, *working_days: int) -> tuple[dt.date, tuple[dt.date, ...]]:
    """For something arriving at ``moment``: the day it counts from, and the day ``n`` working days
    after it for each ``n``."""
    calendar = Calendar()
    start = calendar.counts_from(moment)
    return start, tuple(calendar.after(start, n) for n in working_days)


def _leave_day(date: dt.date) -> LeaveDay | None:
    return db.session.scalar(select(LeaveDay).where(LeaveDay.date == date))


def leave_days(year: int) -> list[LeaveDay]:
    return list(db.session.scalars(select(LeaveDay).where(
        LeaveDay.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))).order_by(LeaveDay.date)))


def add_leave_day(date: dt.date, name: str) -> LeaveDay:
    """Declare ``date`` a collective leave day: deadlines counted from now on skip it (those
    already given stand, as they were promised)."""
    if _leave_day(date) is not None:
        raise Conflict(_l("%(date)s is a leave day already", date=date))
    if date.weekday() >= 5:
        raise Invalid({"date": [_l("%(date)s is a %(date2)s: no working day to leave",
                                   date=date, date2=lazy(lambda: format_date(date, "EEEE")))]})
    if (holiday := public_holiday(date)) is not None:
        raise Invalid({"date": [_l("%(date)s is a public holiday already (%(holiday)s)", date=date,
                                   holiday=lazy(lambda: public_holiday(date, language()) or holiday))]})
    day = LeaveDay(date=date, name=name.strip(), created_at=utcnow())
    db.session.add(day)
    db.session.flush()
    return day


def remove_leave_day(date: dt.date) -> None:
    day = _leave_day(date)
    if day is None:
        raise NotFound("leave day", date.isoformat())
    db.session.delete(day)
    db.session.flush()
