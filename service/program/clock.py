"""The program's clock: the one home of "now", "today" and the moments of a local day.

A day is a local day where the program works (later: where a region is), decided by its timezone,
never by the machine's. Every function takes ``where``: anything with a ``timezone`` (the program's
settings, a region), or None for the program's own. A day runs from ``start_of(day)`` up to, not
including, ``end_of(day)`` (the next day's start): a deadline of ``day`` has passed at ``end_of(day)``,
and a moment belongs to ``day`` when ``start_of(day) <= moment < end_of(day)``.

Tests move the clock by replacing ``now`` (``tests/conftest.py``, ``at_jakarta``); everything else
reads it through this module, so that one replacement moves every area.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from service.db import utcnow
from service.program import service as program_service


class Located(Protocol):
    timezone: str


def now() -> dt.datetime:
    """This moment, aware, in UTC."""
    return utcnow()


def zone(where: Located | None = None) -> ZoneInfo:
    """The timezone of ``where`` (the program's when None)."""
    return ZoneInfo((where or program_service.settings()).timezone)


def local(moment: dt.datetime, where: Located | None = None) -> dt.datetime:
    """``moment`` on the local clock of ``where``."""
    return moment.astimezone(zone(where))


def day_of(moment: dt.datetime, where: Located | None = None) -> dt.date:
    """The local day ``moment`` falls on."""
    return local(moment, where).date()


def today(where: Located | None = None) -> dt.date:
    """The local date now: the timezone of ``where``, not the machine's, decides what today is."""
    return day_of(now(), where)


def at(day: dt.date, time: dt.time, where: Located | None = None) -> dt.datetime:
    """``time`` o'clock on ``day``, local to ``where`` (a schedule time, a cut-off)."""
    return dt.datetime.combine(day, time, tzinfo=zone(where))


def start_of(day: dt.date, where: Located | None = None) -> dt.datetime:
    """The first moment of ``day``: local midnight."""
    return at(day, dt.time(), where)


def end_of(day: dt.date, where: Located | None = None) -> dt.datetime:
    """The first moment after ``day`` (the next day's start): ``day`` holds the moments before it."""
    return start_of(day + dt.timedelta(days=1), where)
