"""The program's statistics for the public (``GET /public/stats``): aggregates only, and no count of
people that can be worked out, by subtraction or otherwise, to fewer than five.

Each row (a district, and the program in all) counts yesterday's people by one denominator:
``eligible_yesterday`` (enrolled and not paused yesterday, coverage's ``eligible``), of whom
``fed_yesterday`` had a meal delivered (coverage's ``covered``); the unfed are the difference.
Nothing else about people is shown beside them (an enrolled-now count beside yesterday's fed
would let "15 enrolled, 13 fed" read as two unfed).

Primary suppression, row by row: a count of 1 to 4 is ``"<5"``; when the unfed (eligible - fed)
are 1 to 4, the fed are withheld (null), and so is the eligible count unless it is 9 or more (with
fewer, "fed >= 5" would bound the unfed). Rates are shown beside exact counts only.

Complementary suppression, down the columns: the total of a column minus its shown cells is the
sum of its withheld ones, which can narrow a "<5" (two of them holding 7 are each 3 or 4). So when
any district withholds a count, a district that can hide them is withheld whole as well (its
eligible and fed null): the smallest with at least ``SMALL + SLACK`` fed and ``SMALL`` unfed,
whose counts can give or take ``SLACK`` in either column while staying what a null promises
(5 or more). Each withheld cell can then take each of its possible values (1 to 4 for a "<5")
with the totals unchanged: none is narrowed. If no district can, the totals of the columns that
withhold a district's count are withheld instead. ``tests/test_public_stats.py`` attacks the
result with a solver, as someone with the published table and these rules would.

Counts of complaints are of reports, not people, and are shown as they are. Each process keeps the
answer for ``PUBLIC_STATS_CACHE_SECONDS`` (300 by default).
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app

from service.complaints import service as complaints
from service.db import bound
from service.deliveries import coverage
from service.extensions import db
from service.program.clock import today
from service.rates import rate
from service.targets import indicators

SMALL = 5  # counts of people under this are not shown
HIDDEN = "<5"
# What a district withheld to hide others must be able to give or take in each column (a "<5"
# ranges over 1 to 4: it moves by at most 3) while its own counts stay 5 or more.
SLACK = SMALL - 2

Shown = int | str | None  # a count, HIDDEN (1 to 4), or None (withheld)


def _small(n: int) -> bool:
    return 0 < n < SMALL


def _exact(value: Shown) -> bool:
    return isinstance(value, int)


@dataclass
class DistrictStats:
    district: str
    eligible_yesterday: Shown
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
    eligible_yesterday: Shown
    fed_yesterday: Shown
    coverage_rate: float | None
    stalls_certified: int
    stalls_active: int
    complaints: ComplaintStats
    districts: list[DistrictStats] = field(default_factory=list)


def shown_row(eligible: int, fed: int) -> tuple[Shown, Shown]:
    """A row's (eligible, fed) as shown on its own: no count of 1 to 4, and no unfed count of 1 to 4
    to be had from them, nor from "fed is 5 or more"."""
    if eligible == 0:
        return 0, 0
    if _small(eligible):
        return HIDDEN, HIDDEN if fed else 0
    if _small(fed):
        return eligible, HIDDEN
    if _small(eligible - fed):  # fed >= 5: the eligible count bounds the unfed unless it is 9 or more
        return (eligible if eligible >= 2 * SMALL - 1 else None), None
    return eligible, fed


def suppress(rows: dict[str, tuple[int, int]]) -> tuple[dict[str, tuple[Shown, Shown]], tuple[Shown, Shown]]:
    """``{district: (eligible, fed)}`` as shown, and the totals as shown: primary suppression by
    ``shown_row``, then complementary (the module's docstring)."""
    shown = {name: shown_row(*counts) for name, counts in rows.items()}
    totals = (sum(e for e, _ in rows.values()), sum(f for _, f in rows.values()))
    withheld = [name for name, cells in shown.items() if not all(map(_exact, cells))]
    if not withheld:
        return shown, totals
    able = [name for name, (eligible, fed) in rows.items()
            if name not in withheld and fed >= SMALL + SLACK and eligible - fed >= SMALL]
    if able:
        shown[min(able, key=lambda name: (rows[name][0], name))] = (None, None)
        return shown, totals
    # Nobody can hide them: a column's total is withheld where one of its district cells is.
    return shown, tuple(total if all(_exact(cells[i]) for cells in shown.values()) else None
                        for i, total in enumerate(totals))


def _rate(eligible: Shown, fed: Shown) -> float | None:
    return rate(fed, eligible) if _exact(eligible) and _exact(fed) else None


def compute() -> PublicStats:
    """Yesterday's eligible, fed and coverage rate (``coverage``'s counts), by district and in all."""
    day = today()
    yesterday = day - dt.timedelta(days=1)
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for village in coverage.day_coverage(yesterday).by_village:
        counts, row = village.counts, rows[village.district or "-"]
        row[0] += counts.eligible
        row[1] += counts.eligible - counts.uncovered  # covered, never more than eligible (as days counted before
        # covered was counted among the eligible only could hold)
    shown, (eligible, fed) = suppress({name: (e, f) for name, (e, f) in rows.items()})
    active, certified = indicators.hygiene_counts(day)
    first = day.replace(day=1)
    on_time, due = complaints.on_time_counts(first, day)
    return PublicStats(
        as_of=day, yesterday=yesterday, eligible_yesterday=eligible, fed_yesterday=fed,
        coverage_rate=_rate(eligible, fed), stalls_certified=certified, stalls_active=active,
        complaints=ComplaintStats(month=f"{day:%Y-%m}", received=complaints.received_between(first, day), due=due,
                                  answered_on_time=on_time, on_time_rate=rate(on_time, due)),
        districts=[DistrictStats(name, e, f, _rate(e, f)) for name, (e, f) in sorted(shown.items())])


_kept: dict[tuple, tuple[float, dt.date, PublicStats]] = {}
_lock = threading.Lock()


def public_stats() -> PublicStats:
    """The statistics, as this process last computed them within ``PUBLIC_STATS_CACHE_SECONDS``."""
    seconds = current_app.config["PUBLIC_STATS_CACHE_SECONDS"]
    if not seconds:
        return compute()
    where = (db.engine.url.render_as_string(hide_password=True), bound(db.session))  # each region its own
    day = today()
    kept = _kept.get(where)
    if kept is None or kept[1] != day or time.monotonic() - kept[0] > seconds:
        with _lock:
            kept = _kept.get(where)
            if kept is None or kept[1] != day or time.monotonic() - kept[0] > seconds:
                kept = _kept[where] = (time.monotonic(), day, compute())
    return kept[2]
