"""The day as the cook and the rider need it (the pages' ``/warung`` and ``/relawan/makan``): the
manifest (``service.manifest``, with its checks of who may see whom) put in delivery order. Each
person once, with their meals of the day (the manifest has a row per meal); people grouped by
village, the nearest village first from the stall (or the volunteer's point), the nearest person
first within it; at the top, what to cook: portions per meal and per diet."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from service.accounts.scope import Scope
from service.deliveries.models import Delivery
from service.deliveries.service import manifest
from service.extensions import db
from service.geo import geodesic_km
from service.program.models import Area
from service.recipients.models import Recipient
from service.vendors.models import Vendor
from service.volunteers.models import Volunteer

COOKED = ("scheduled", "delivered", "failed")  # a cancelled meal is not cooked; a missed one was not confirmed
REGULAR = "regular"  # a portion with no dietary need


@dataclass
class Meal:
    id: int
    meal: str
    status: str


@dataclass
class Person:
    recipient_id: int | None
    first_name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    phone: str | None
    dietary_needs: list[str]
    km: float | None
    meals: list[Meal] = field(default_factory=list)


@dataclass
class Village:
    id: int | None
    name: str | None
    km: float | None
    people: list[Person] = field(default_factory=list)


@dataclass
class Sheet:
    date: dt.date
    villages: list[Village]
    cook: dict[str, dict[str, int]]  # meal -> diet -> portions
    portions: int
    tomorrow: int  # meals planned for the next day (0 until the evening's scheduling)
    to_confirm: int  # today's meals still scheduled


def first_name(name: str | None) -> str | None:
    """The name a rider calls out: the first word that is not a title ("Dr.", "R.A.", "Hj.")."""
    words = (name or "").split()
    return next((word for word in words if not word.endswith(".")), words[0] if words else name)


def sheet(day: dt.date, scope: Scope) -> Sheet:
    listed = manifest(day, scope=scope)
    origin = _origin(scope)
    ids = {row["recipient_id"] for row in listed.deliveries if row["recipient_id"] is not None}
    village_of = dict(db.session.execute(
        select(Recipient.id, Recipient.village_id).where(Recipient.id.in_(ids))).all()) if ids else {}
    areas = {area.id: area for area in db.session.scalars(
        select(Area).where(Area.id.in_(set(village_of.values()))))} if village_of else {}
    people: dict[int | None, Person] = {}
    hidden: list[Person] = []  # a volunteer's meals of someone they no longer hold: status only
    cook: dict[str, Counter] = defaultdict(Counter)
    for row in listed.deliveries:
        meal = Meal(row["id"], row["meal"], row["status"])
        if row["status"] in COOKED:
            for diet in (row["dietary_needs"] or [REGULAR]) if row["recipient_id"] is not None else [REGULAR]:
                cook[row["meal"]][diet] += 1
        if row["recipient_id"] is None:
            hidden.append(Person(None, None, None, None, None, None, [], None, [meal]))
            continue
        person = people.get(row["recipient_id"])
        if person is None:
            km = (round(geodesic_km(origin[0], origin[1], row["latitude"], row["longitude"]), 1)
                  if origin else None)
            person = people[row["recipient_id"]] = Person(
                row["recipient_id"], first_name(row["name"]), row["address"], row["latitude"], row["longitude"],
                row["phone"], list(row["dietary_needs"] or []), km)
        person.meals.append(meal)
    villages: dict[int | None, Village] = {}
    for person in people.values():
        area = areas.get(village_of.get(person.recipient_id))
        village = villages.setdefault(area.id if area else None,
                                      Village(area.id if area else None, area.name if area else None, None))
        village.people.append(person)
        if person.km is not None:
            village.km = person.km if village.km is None else min(village.km, person.km)
    for village in villages.values():
        village.people.sort(key=lambda p: (p.km if p.km is not None else 0.0, p.first_name or "", p.recipient_id))
    ordered = sorted(villages.values(), key=lambda v: (v.km if v.km is not None else 0.0, v.name or ""))
    if hidden:
        ordered.append(Village(None, None, None, hidden))
    return Sheet(
        date=listed.date, villages=ordered, cook={meal: dict(diets) for meal, diets in cook.items()},
        portions=sum(1 for row in listed.deliveries if row["status"] in COOKED),
        tomorrow=_planned(day + dt.timedelta(days=1), scope),
        to_confirm=sum(1 for row in listed.deliveries if row["status"] == "scheduled"),
    )


def _origin(scope: Scope) -> tuple[float, float] | None:
    """Where the rounds start: the stall, or the volunteer's point (if they gave one)."""
    if scope.stall is not None:
        row = db.session.execute(select(Vendor.latitude, Vendor.longitude).where(Vendor.id == scope.stall)).first()
    else:
        row = db.session.execute(select(Volunteer.latitude, Volunteer.longitude)
                                 .where(Volunteer.id == scope.helper)).first()
    return (row[0], row[1]) if row is not None and row[0] is not None else None


def _planned(day: dt.date, scope: Scope) -> int:
    own = Delivery.vendor_id == scope.stall if scope.stall is not None else Delivery.volunteer_id == scope.helper
    return db.session.scalar(select(func.count()).select_from(Delivery)
                             .where(own, Delivery.date == day, Delivery.status == "scheduled")) or 0
