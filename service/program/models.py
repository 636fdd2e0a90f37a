from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, JSONType, Regional, utcnow

AREA_KINDS = ("district", "village")
PROGRAM_ID = 1  # the one settings row, inserted by the first migration


class Program(Base):
    """The program's settings: one row, created by the first migration."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    min_age: Mapped[int]
    meal_slots: Mapped[list[str]] = mapped_column(JSONType)
    meal_price: Mapped[int]
    schedule_time: Mapped[dt.time]
    delivery_cutoff: Mapped[dt.time]
    max_vendor_distance_km: Mapped[float]
    hygiene_validity_days: Mapped[int]
    visit_interval_days: Mapped[int]
    pass_mark: Mapped[int] = mapped_column(default=70)  # the score an inspection passes from
    # The end of the offices' working day: a complaint filed later counts from the next working day.
    office_closes_at: Mapped[dt.time] = mapped_column(default=dt.time(16, 0))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class MealPrice(Regional, Base):
    """The price of a meal from a day on, until the next row's: what a statement of that day pays.
    ``program.meal_price`` is the latest; changing it adds (or, the same day, replaces) a row."""

    __tablename__ = "meal_prices"
    __audited__ = False  # keyed by a date; the program row's change is in the trail

    region_code: Mapped[str] = mapped_column(String(8), ForeignKey("regions.code"), primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(primary_key=True)
    price: Mapped[int]


class LeaveDay(Regional, Base):
    """A collective leave day (*cuti bersama*) the government declares for a year, beside the public
    holidays: the offices are closed, so it is no working day (``program.calendar``)."""

    __tablename__ = "leave_days"
    __table_args__ = (UniqueConstraint("region_code", "date", name="uq_leave_days_region_code_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date]
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Area(Regional, Base):
    """A district (kecamatan) or a village (desa), with its centre."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    latitude: Mapped[float]
    longitude: Mapped[float]
    code: Mapped[str | None] = mapped_column(String(32), unique=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)


class Region(Base):
    """A regency or city (kabupaten/kota) the program runs in, by its official code (``35.10``
    Banyuwangi, ``51.71`` Denpasar): its own clock, and its own settings where regencies differ
    (null: the program's). Its villages, agencies, staff, stalls, recipients and everything they
    do belong to it (``db.Regional``)."""

    __tablename__ = "regions"
    __audited__ = False  # keyed by a code, not an id the trail can hold; added by the command line only

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    meal_price: Mapped[int | None]
    schedule_time: Mapped[dt.time | None]
    delivery_cutoff: Mapped[dt.time | None]
    pass_mark: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}
