"""Regions: the regencies and cities the program runs in (``Region``), and which one a request
or a job works in.

A session is bound to the regions its caller may reach (``service.db.bind``; ``Scope.act_in``
binds every request, a job binds the one region it works for). From then on every ORM statement
of the session (SELECT, bulk UPDATE and DELETE, relationship loads, subqueries) reaches only rows
of those regions (``db.Regional``), and a row it adds takes its region: the rule has one home, so
another region's id answers exactly as a missing one on every route, and no query has to remember
it. Core statements on a table and raw SQL say the region themselves, as the daily loop's bulk
writes do.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import bound
from service.errors import Conflict, Invalid, NotFound
from service.extensions import db
from service.i18n import _l
from service.program.models import Region

CODE = re.compile(r"^\d{2}\.\d{2}$")  # kabupaten/kota: province.regency, as Kemendagri writes it
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")  # WIB, WITA, WIT
EVERYWHERE = "*"  # a user's regions: every one (national staff)
MAX_PRICE = 10_000_000  # rupiah a meal, as the API's schemas bound it
NAME_LENGTH = 120  # regions.name


def unknown(code: str) -> NotFound:
    """"Region ... does not exist", naming what was sent only when it is written as a code (a
    long or odd string is not said back)."""
    return NotFound("region", code if CODE.fullmatch(code) else "?")


def region(code: str) -> Region:
    found = db.session.get(Region, code)
    if found is None:
        raise NotFound("region", code)
    return found


def visible(session: Session | None = None, everywhere: bool = False) -> list[Region]:
    """The regions the session reaches (or ``everywhere``: every region), by code."""
    codes = None if everywhere else bound(session or db.session)
    query = select(Region).order_by(Region.code)
    if codes is not None:
        query = query.where(Region.code.in_(codes))
    return list((session or db.session).scalars(query))


def check_own(settings: dict) -> None:
    """A region's name and own settings, whoever gives them (the API's schema says as much; the
    command line has only this): a name that is there and fits, a pass mark of 0 to 100, a price
    not negative nor above the cap, a time of the region's day on the minute."""
    errors: dict[str, list] = {}
    if "name" in settings:
        name = (settings["name"] or "").strip()
        if not name:
            errors["name"] = [_l("give the regency's name")]
        elif len(name) > NAME_LENGTH:
            errors["name"] = [_l("is longer than %(limit)s characters", limit=NAME_LENGTH)]
    mark, price = settings.get("pass_mark"), settings.get("meal_price")
    if mark is not None and not 0 <= mark <= 100:
        errors["pass_mark"] = [_l("a score from 0 to 100")]
    if price is not None and not 0 <= price <= MAX_PRICE:
        errors["meal_price"] = [_l("at most %(value)s", value=MAX_PRICE) if price > 0
                                else _l("a count is not negative")]
    for name in ("schedule_time", "delivery_cutoff"):
        at = settings.get(name)
        if at is not None and (at.second or at.microsecond or at.tzinfo is not None):
            errors[name] = [_l("give hours and minutes, such as 18:00")]
    if errors:
        raise Invalid(errors)


def create(code: str, name: str, timezone: str, **settings: object) -> Region:
    """A new region, with settings of its own where given (else the program's)."""
    errors: dict[str, list] = {}
    try:
        check_own({"name": name, **settings})
    except Invalid as exc:  # said together with the code's and the clock's
        errors.update(exc.errors)
    if not CODE.fullmatch(code or ""):
        errors["code"] = [_l("write the regency's code as Kemendagri does, such as 35.10")]
    if timezone not in TIMEZONES:
        errors["timezone"] = [_l("must be one of %(value)s", value=", ".join(TIMEZONES))]
    if errors:
        raise Invalid(errors)
    if db.session.get(Region, code) is not None:
        raise Conflict(_l("region %(code)s exists already", code=code))
    row = Region(code=code, name=name.strip(), timezone=timezone,
                 **{k: v for k, v in settings.items() if v is not None})
    db.session.add(row)
    db.session.flush()
    return row
