"""Rules of a recipient's record, for every way one comes in (one registration, an edit, the bulk
import): the NIK and the age, and what each field may hold."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app

from service import geo
from service.i18n import _l

NIK_RE = re.compile(r"^\d{16}$")
NAME_MAX, ADDRESS_MAX, PHONE_MAX, NOTES_MAX = 200, 500, 32, 5000
NEED_MAX, NEEDS_MAX = 50, 20  # a dietary need's characters; needs a recipient may have


def needs_error(needs: list[str]) -> str | None:
    """What is wrong with a list of dietary needs, or None."""
    if len(needs) > NEEDS_MAX:
        return _l("at most %(count)s dietary needs", count=NEEDS_MAX)
    long = next((n for n in needs if len(n) > NEED_MAX), None)
    if long is not None:
        return _l("each dietary need is at most %(max)s characters (%(need)s... is %(length)s)",
                  max=NEED_MAX, need=repr(long[:20]), length=len(long))
    return None


def coordinates_error(latitude: float | None, longitude: float | None) -> tuple[str, str] | None:
    """A point needs both coordinates: the field that is missing, and why, or None."""
    if (latitude is None) != (longitude is None):
        return ("longitude" if latitude is not None else "latitude"), _l("latitude and longitude come together")
    return None


def point_error(latitude: float, longitude: float, village) -> tuple[str, str] | None:
    """A home's GPS point must lie within ``RECIPIENT_MAX_KM_FROM_VILLAGE`` of its village centre
    (swapped, mistyped or default coordinates, such as (0, 0), are caught here): the field, and
    why, or None."""
    error = geo.too_far(latitude, longitude, village, current_app.config["RECIPIENT_MAX_KM_FROM_VILLAGE"])
    return None if error is None else ("latitude", error)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def nik_sex(nik: str) -> str:
    """The sex a NIK encodes: 40 is added to the day of birth for women."""
    return "F" if int(nik[6:8]) > 40 else "M"


MAX_AGE = 115  # older than anyone alive: a NIK read in the wrong century


def nik_birth_date(nik: str, min_age: int, today: dt.date) -> dt.date | None:
    """The birth date a (well-formed) NIK encodes: DDMMYY, the day plus 40 for women, in the
    century that makes the person from ``min_age`` to ``MAX_AGE`` years old; None when no century
    does (year 00 read as 1900 would be 126) or the digits are no date."""
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    day = day - 40 if day > 40 else day
    for century in (2000, 1900):
        try:
            born = dt.date(century + yy, month, day)
        except ValueError:
            return None
        if born <= today and min_age <= age_on(born, today) <= MAX_AGE:
            return born
    return None


def identity_errors(
    nik: str, birth_date: dt.date | None, sex: str | None, min_age: int, today: dt.date
) -> dict[str, list[str]]:
    """What is wrong with a NIK, birth date and sex, field by field.

    A NIK is 16 digits: region (6), birth date as DDMMYY with 40 added to the day for women (6),
    and a serial (4). The date and sex it encodes must agree with ``birth_date`` and ``sex``.
    """
    errors: dict[str, list[str]] = {}
    if not NIK_RE.match(nik):
        return {"nik": [_l("must be exactly 16 digits")]}
    if nik[:6] == "000000" or nik[12:] == "0000":
        return {"nik": [_l("region code and serial of a NIK cannot be zero")]}
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    encoded_sex = nik_sex(nik)
    day = day - 40 if day > 40 else day
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return {"nik": [_l("digits 7-12 (%(digits)s) are not a valid DDMMYY birth date", digits=nik[6:12])]}
    if sex is not None and sex != encoded_sex:
        errors["sex"] = [_l("the NIK encodes sex %(encoded_sex)s (40 is added to the day for women)",
                            encoded_sex=encoded_sex)]
    if birth_date is not None:
        if birth_date > today:
            errors["birth_date"] = [_l("is in the future")]
        elif (birth_date.day, birth_date.month, birth_date.year % 100) != (day, month, yy):
            errors["birth_date"] = [
                _l("does not match the birth date the NIK encodes (%(day)s-%(month)s-%(yy)s)",
                   day=format(day, '02d'), month=format(month, '02d'), yy=format(yy, '02d'))
            ]
        elif age_on(birth_date, today) < min_age:
            errors["birth_date"] = [
                _l("age %(value)s is under the program's minimum age %(min_age)s",
                   value=age_on(birth_date, today), min_age=min_age)
            ]
    return errors
