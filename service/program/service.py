"""The program's settings, the program's clock, and the areas it works in."""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from service import geo
from service.audit.service import plain, record
from service.db import EARLIEST_DAY, Page, bound, check_version, equals, fetch, in_region, one_region, paginate
from service.errors import Forbidden, Invalid
from service.extensions import db
from service.i18n import _l
from service.program import clock, regions
from service.program.models import AREA_KINDS, PROGRAM_ID, Area, MealPrice, Program, Region

# ``session.info`` key: the settings row's stamp (version, updated_at) as this request's
# authentication read it, in the same query as the caller (``accounts.authenticate``).
SEEN_STAMP = "program_stamp"
SEEN_REGION = "region_stamp"  # and the caller's region's (code, version, created_at), by the same query


@dataclass(frozen=True)
class Settings:
    """The program's settings as the code reads them: a frozen copy of the row.

    One copy is shared by every request of a process for as long as the row's stamp (version and
    ``updated_at``, both changed by every write) is the one the request's authentication read:
    reading the settings then costs no query and no ORM object, on every request. To change the
    settings, change the row (``update_program``); a write outside the ORM must bump ``version``.
    """

    version: int
    updated_at: dt.datetime
    name: str
    timezone: str
    min_age: int
    meal_slots: tuple[str, ...]
    meal_price: int
    schedule_time: dt.time
    delivery_cutoff: dt.time
    max_vendor_distance_km: float
    hygiene_validity_days: int
    visit_interval_days: int
    pass_mark: int
    office_closes_at: dt.time
    region_code: str | None = None  # the region these are for (its own where it differs), or None

    @classmethod
    def of(cls, program: Program) -> Settings:
        values = {field.name: getattr(program, field.name) for field in fields(cls) if field.name != "region_code"}
        return cls(**{**values, "meal_slots": tuple(values["meal_slots"])})

    def in_region(self, row: Region) -> Settings:
        """These settings where ``row`` is: its clock, and its own values where it has them."""
        own = {name: getattr(row, name) for name in REGION_SETTINGS if getattr(row, name) is not None}
        return replace(self, region_code=row.code, **own)

    @property
    def stamp(self) -> tuple[int, dt.datetime]:
        return self.version, self.updated_at


_shared: Settings | None = None  # this process's copy, checked against each request's stamp
# What a region may set for itself; the rest is the program's.
REGION_SETTINGS = ("timezone", "meal_price", "schedule_time", "delivery_cutoff", "pass_mark")
_REGION = "region_row"  # session.info: the bound region's row, read once a transaction
_in_regions: dict[tuple, Settings] = {}  # this process's copies per (program stamp, region, its version)


def settings() -> Settings:
    """The settings for this request: the program's, and where the session works in one region
    (``regions.one``), that region's clock and its own values where it has them."""
    base = program_settings()
    code = one_region(db.session)
    if code is None:
        return base
    seen = db.session.info.get(SEEN_REGION)
    if seen is not None and seen[0] == code and (found := _in_regions.get((base.stamp, *seen))) is not None:
        return found  # what authentication read says this process's copy is current: no query
    row = db.session.info.get(_REGION)
    if row is None or row.code != code:
        row = db.session.info[_REGION] = regions.region(code)
    key = (base.stamp, code, row.version, row.created_at)
    found = _in_regions.get(key)
    if found is None or db.session.is_modified(row):
        found = base.in_region(row)
        if not db.session.is_modified(row):
            if len(_in_regions) > 1000:
                _in_regions.clear()
            _in_regions[key] = found
    return found


def program_settings() -> Settings:
    """The program's own settings, whatever the region. Free when the request's authentication
    read the row's stamp and this process holds that version; otherwise read from the row (and
    kept, unless the row has changes not yet written)."""
    global _shared
    shared = _shared
    if shared is not None and db.session.info.get(SEEN_STAMP) == shared.stamp:
        return shared
    program = get_program()
    if shared is not None and shared.stamp == (program.version, program.updated_at) \
            and not db.session.is_modified(program):
        return shared
    current = Settings.of(program)
    if not db.session.is_modified(program):
        _shared = current
    return current


# ``session.info`` key: the settings row as this transaction read it. The session's identity map
# holds objects weakly: without this, every settings() of a job or a command read the row again
# (28,000 queries in a demo load of 5,000 recipients).
_ROW = "program_row"


def get_program() -> Program:
    """The settings row, which the first migration creates with the real program's defaults: for
    changing it and showing it; the rest of the code reads ``settings()``. Read once a transaction."""
    program = db.session.info.get(_ROW) or db.session.get(Program, PROGRAM_ID)
    if program is None:
        raise RuntimeError("the program settings row is missing: run `flask --app wsgi db upgrade`")
    db.session.info[_ROW] = program
    return program


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_row(session: Session) -> None:
    """The next transaction reads the rows afresh: another process may have changed them."""
    session.info.pop(_ROW, None)
    session.info.pop(_REGION, None)


def update_program(changes: dict[str, Any], expected_version: int | None = None) -> Program:
    """The program's own settings. Once it runs in several regions they are the province's (or
    the nation's): staff of one region may not change what the other regions read."""
    if bound(db.session) is not None and db.session.scalar(select(func.count()).select_from(Region)) > 1:
        raise Forbidden(_l("the program's settings are shared by its regions: national staff change them"))
    program = get_program()
    check_version(program, expected_version)
    if "timezone" in changes:
        try:
            ZoneInfo(changes["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid({"timezone": [_l("unknown timezone %(timezone)s",
                                           timezone=repr(changes['timezone']))]}) from None
    if "meal_slots" in changes and len(set(changes["meal_slots"])) != len(changes["meal_slots"]):
        raise Invalid({"meal_slots": [_l("meal slots must be distinct")]})
    if "meal_price" in changes and changes["meal_price"] != program.meal_price:
        _price_from(clock.today(), changes["meal_price"], program.meal_price)
    for key, value in changes.items():
        setattr(program, key, value)
    db.session.flush()
    # What this request's authentication read is the old stamp: the rest of the request (and a
    # job in the same session) reads the settings as they are now.
    db.session.info.pop(SEEN_STAMP, None)
    return program


# What a region changes of its own settings: all but its clock, which is where the regency is.
REGION_CHANGES = tuple(name for name in REGION_SETTINGS if name != "timezone")


def update_region(code: str, changes: dict[str, Any], expected_version: int | None = None) -> Region:
    """A region's name and its own settings (``REGION_CHANGES``; null: the program's again), by
    those who coordinate it; another region's code answers as a missing one. As for the program's
    settings, a new meal price holds from the region's today (statements of earlier days keep
    theirs), and the job runner moves the region's evening jobs within a minute. Its clock (the
    timezone) is where the regency is: it does not change. In the trail as an ``update`` of the
    ``region`` whose id is its code's digits (3510 for 35.10)."""
    reached = bound(db.session)
    written_as_one = regions.CODE.fullmatch(code) is not None  # nothing else is looked up (a NUL, say)
    row = db.session.get(Region, code) if written_as_one and (reached is None or code in reached) else None
    if row is None:
        raise regions.unknown(code)
    check_version(row, expected_version)
    regions.check_own(changes)
    changed = {}
    with in_region(db.session, code):
        if "meal_price" in changes:
            price = changes["meal_price"] if changes["meal_price"] is not None else get_program().meal_price
            before = settings().meal_price
            if price != before:
                _price_from(clock.today(), price, before)
        for key, value in changes.items():
            value = value.strip() if key == "name" else value
            if value != getattr(row, key):
                changed[key] = [plain(getattr(row, key)), plain(value)]
                setattr(row, key, value)
        db.session.flush()
        if changed:
            record(db.session, [("update", "region", int(code.replace(".", "")), changed, code)])
    # What this request's authentication read is the region's old stamp: the rest of the request
    # reads the settings as they are now (other processes forget theirs at the commit's notice).
    db.session.info.pop(SEEN_REGION, None)
    return row


def _price_from(day: dt.date, price: int, before: int) -> None:
    """A new meal price holds from ``day`` (today: the meals of today are paid at it), in the
    session's region, or (the program's price) in every region that has no price of its own.
    ``before`` is the price in force until now: a region with no price on record before ``day``
    (one added after the first release: only the first region's price history was written by a
    migration) gets it as its price since ``EARLIEST_DAY``, so that earlier days keep it."""
    code = one_region(db.session)
    codes = [code] if code is not None else db.session.scalars(
        select(Region.code).where(Region.meal_price.is_(None))).all()
    for each in codes:
        if db.session.scalar(select(MealPrice.valid_from).where(
                MealPrice.region_code == each, MealPrice.valid_from < day).limit(1)) is None:
            db.session.add(MealPrice(region_code=each, valid_from=EARLIEST_DAY, price=before))
        row = db.session.get(MealPrice, (each, day))
        if row is None:
            db.session.add(MealPrice(region_code=each, valid_from=day, price=price))
        else:
            row.price = price


def meal_prices(first: dt.date, last: dt.date) -> Callable[[dt.date], int]:
    """The price of a meal on each day from ``first`` to ``last``, as a statement pays it: the
    price in force that day, whatever it is now. Reads the row in force on ``first`` and the
    changes up to ``last``, not the whole history; a day outside the span is a ``ValueError``
    (its price was not read)."""
    in_force = select(func.max(MealPrice.valid_from)).where(MealPrice.valid_from <= first).scalar_subquery()
    rows = db.session.execute(
        select(MealPrice.valid_from, MealPrice.price)
        .where(MealPrice.valid_from <= last, MealPrice.valid_from >= func.coalesce(in_force, first))
        .order_by(MealPrice.valid_from)
    ).all()
    starts, prices = [r.valid_from for r in rows], [r.price for r in rows]
    current = settings().meal_price

    def price_on(day: dt.date) -> int:
        if not first <= day <= last:
            raise ValueError(f"the prices read are of {first} to {last}, not {day}")
        index = bisect.bisect_right(starts, day) - 1
        return prices[index] if index >= 0 else current

    return price_on


def create_area(
    name: str, kind: str, latitude: float, longitude: float,
    parent_id: int | None = None, code: str | None = None,
) -> Area:
    errors: dict[str, list[str]] = {}
    if kind not in AREA_KINDS:
        errors["kind"] = [_l("must be one of %(value)s", value=', '.join(AREA_KINDS))]
    parent = db.session.get(Area, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        errors["parent_id"] = [_l("area %(parent_id)s does not exist", parent_id=parent_id)]
    elif kind == "village" and (parent is None or parent.kind != "district"):
        errors["parent_id"] = [_l("a village belongs to a district")]
    elif kind == "district" and parent is not None:
        errors["parent_id"] = [_l("a district has no parent area")]
    if code is not None and db.session.scalar(select(Area.id).where(Area.code == code)):
        errors["code"] = [_l("code %(code)s is taken", code=repr(code))]
    if errors:
        raise Invalid(errors)
    area = Area(name=name, kind=kind, latitude=latitude, longitude=longitude, parent_id=parent_id, code=code)
    db.session.add(area)
    db.session.flush()
    return area


def get_area(area_id: int) -> Area:
    return fetch(db.session, Area, area_id)


def not_a_village(village_id: int) -> Invalid:
    return Invalid({"village_id": [_l("village %(village_id)s does not exist", village_id=village_id)]})


def get_village(village_id: int) -> Area:
    """The village with this id, for a field that names one: 422 (not 404) when it is not one."""
    village = db.session.get(Area, village_id)
    if village is None or village.kind != "village":
        raise not_a_village(village_id)
    return village


def nearest_village(latitude: float, longitude: float, within_km: float) -> tuple[Area, float] | None:
    """The village whose centre is nearest the point, within ``within_km``, and how far (km); None
    when no village's is: the point is not in the program's areas. (Villages have centres, not
    borders: the nearest centre is the likely village, not a certain one.)"""
    near = db.session.scalars(select(Area).where(Area.kind == "village", geo.near(Area, [(latitude, longitude)],
                                                                                     within_km)).order_by(Area.id))
    return geo.nearest(latitude, longitude, near, within_km)


def list_areas(
    page: int, per_page: int, kind: str | None = None, parent_id: int | None = None, q: str | None = None
) -> Page[Area]:
    query = select(Area).order_by(Area.kind, Area.name, Area.id)
    if kind:
        query = query.where(equals(Area.kind, kind))
    if parent_id is not None:
        query = query.where(Area.parent_id == parent_id)
    if q:
        query = query.where(func.lower(Area.name).contains(q.lower(), autoescape=True))
    return paginate(db.session, query, page, per_page)
