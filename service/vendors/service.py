"""Food stalls: registration, edits, the hygiene gate, and the search for stalls near a point.

A stall's user reaches its own stall only (``Scope.stall``): any other id is "not found", never
"forbidden".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from service import events, geo
from service.accounts.scope import Scope
from service.codes import code
from service.db import Page, Showing, check_version, equals, fetch_visible, paginate
from service.errors import Forbidden, Invalid
from service.extensions import db
from service.i18n import _l
from service.program.clock import today
from service.program.models import Area
from service.program.service import get_village, settings
from service.vendors.events import InspectionRecorded, Moves, StallChanged
from service.vendors.models import Inspection, Vendor

# What a stall may change about itself: not its status (suspension and closure are the program's
# decisions) and never its hygiene (only inspections change that).
VENDOR_EDITABLE = frozenset({"name", "owner_name", "phone", "address", "village_id", "latitude", "longitude",
                             "daily_capacity"})


def _check_point(village: Area, latitude: float, longitude: float) -> None:
    """A stall's point must lie near its village: swapped or mistyped coordinates are caught here."""
    if error := geo.too_far(latitude, longitude, village, current_app.config["VENDOR_MAX_KM_FROM_VILLAGE"]):
        raise Invalid({"latitude": [error]})


@dataclass(frozen=True)
class Stall(Showing):
    """A stall as shown: its row, and what it is today (read in the program's timezone when the
    answer is made, so an expired certificate shows the day after it expires), and how far it is
    from the point a search asked about."""

    subject: Vendor
    hygiene_status: str
    eligible: bool


@dataclass(frozen=True)
class NearStall(Stall):
    """A stall found near a point, with its geodesic distance from it."""

    distance_km: float = 0.0


def shown(vendor: Vendor, day: dt.date | None = None) -> Stall:
    day = day or today()
    return Stall(vendor, vendor.hygiene_status_on(day), vendor.may_cook_on(day))


@dataclass(frozen=True)
class RecordedInspection(Showing):
    """An inspection just recorded, and what it did to the stall's recipients."""

    subject: Inspection
    recipients_moved: int = 0
    recipients_uncovered: int = 0
    recipients_placed: int = 0


def register_vendor(
    name: str, owner_name: str, address: str, village_id: int, latitude: float, longitude: float,
    daily_capacity: int, phone: str | None = None, status: str = "active",
) -> Stall:
    """A new partner stall. It may cook once it has passed a hygiene inspection."""
    village = get_village(village_id)
    _check_point(village, latitude, longitude)
    vendor = Vendor(name=name.strip(), owner_name=owner_name.strip(), address=address.strip(), village=village,
                    latitude=latitude, longitude=longitude, daily_capacity=daily_capacity, phone=phone,
                    status=status, assigned_count=0)
    db.session.add(vendor)
    db.session.flush()
    return shown(vendor)


def nearest_stall(latitude: float, longitude: float, within_km: float) -> tuple[Vendor, float] | None:
    """The stall nearest the point within ``within_km`` (closed ones aside), and how far (km); None
    when there is none that near."""
    near = db.session.scalars(select(Vendor).where(Vendor.status != "closed",
                                                   geo.near(Vendor, [(latitude, longitude)], within_km))
                              .order_by(Vendor.id))
    return geo.nearest(latitude, longitude, near, within_km)


def stall_of(vendor_id: int, scope: Scope) -> Vendor:
    """The stall's row, if ``scope`` reaches it (a stall: itself); else "not found"."""
    return fetch_visible(db.session, Vendor, vendor_id, scope)


def get_vendor(vendor_id: int, scope: Scope) -> Stall:
    return shown(stall_of(vendor_id, scope))


def list_vendors(
    page: int, per_page: int, status: str | None = None, hygiene_status: str | None = None,
    village_id: int | None = None, lat: float | None = None, lon: float | None = None,
    radius_km: float | None = None, *, scope: Scope,
) -> Page[Stall]:
    """Stalls by id; near a point (``lat``, ``lon``, ``radius_km``) they come nearest first, each
    with ``distance_km``."""
    near = (lat, lon, radius_km)
    if any(v is not None for v in near) and not all(v is not None for v in near):
        missing = [k for k, v in zip(("lat", "lon", "radius_km"), near) if v is None]
        raise Invalid({k: [_l("lat, lon and radius_km come together")] for k in missing})
    query = select(Vendor).where(Vendor.visible_to(scope)).order_by(Vendor.id)
    if status:
        query = query.where(equals(Vendor.status, status))
    if hygiene_status:
        day = today()
        statuses = [hygiene_status] if isinstance(hygiene_status, str) else hygiene_status
        query = query.where(or_(*(Vendor.hygiene_is(s, day) for s in statuses)))
    if village_id is not None:
        query = query.where(Vendor.village_id == village_id)
    day = today()
    if radius_km is None:
        found = paginate(db.session, query, page, per_page)
        return Page(items=[shown(v, day) for v in found.items], page=page, per_page=per_page, total=found.total)
    # A box in SQL, then the geodesic distance for the few stalls inside it.
    near = []
    for vendor in db.session.scalars(query.where(geo.near(Vendor, [(lat, lon)], radius_km))):
        km = geo.geodesic_km(lat, lon, vendor.latitude, vendor.longitude)
        if km <= radius_km:
            near.append(NearStall(vendor, vendor.hygiene_status_on(day), vendor.may_cook_on(day), km))
    near.sort(key=lambda stall: (stall.distance_km, stall.id))
    start = (page - 1) * per_page
    return Page(items=near[start:start + per_page], page=page, per_page=per_page, total=len(near))


def update_vendor(vendor_id: int, changes: dict[str, Any], expected_version: int | None = None, *,
                  scope: Scope) -> Stall:
    """Edit a stall. What the change means for its recipients happens in the same transaction:
    suspended, closed, less room or a kitchen moved out of reach moves them to other stalls;
    active again or more room takes in uncovered recipients nearby."""
    vendor = stall_of(vendor_id, scope)
    if scope.stall is not None and changes.keys() - VENDOR_EDITABLE:
        fields = ", ".join(sorted(changes.keys() - VENDOR_EDITABLE))
        raise Forbidden(_l("a stall cannot change its own %(fields)s: ask the program office", fields=fields))
    check_version(vendor, expected_version)
    if ("latitude" in changes) != ("longitude" in changes):
        missing = "longitude" if "latitude" in changes else "latitude"
        raise Invalid({missing: [_l("latitude and longitude come together")]})
    relocating = bool({"village_id", "latitude", "longitude"} & changes.keys())
    changes = dict(changes)
    if "village_id" in changes:
        vendor.village = get_village(changes.pop("village_id"))
    before = {k: getattr(vendor, k) for k in ("status", "daily_capacity", "latitude", "longitude")}
    for key, value in changes.items():
        setattr(vendor, key, value.strip() if key in ("name", "owner_name", "address") else value)
    if relocating:
        _check_point(vendor.village, vendor.latitude, vendor.longitude)
    db.session.flush()
    changed = {k: [before[k], getattr(vendor, k)] for k in before if before[k] != getattr(vendor, k)}
    if changed:
        moved = (before["latitude"], before["longitude"]) != (vendor.latitude, vendor.longitude)
        events.publish(StallChanged(vendor, code("stall_changed", changes=changed), relocated=moved))
    return shown(vendor)


def record_inspection(
    vendor_id: int, kind: str, inspected_on: dt.date, score: int, passed: bool,
    findings: str | None = None, *, scope: Scope,
) -> RecordedInspection:
    """Keep an inspection in the stall's history. The latest hygiene inspection by date decides
    the certificate: passed, it holds until ``inspected_on + hygiene_validity_days``; failed, the
    stall may not cook from now on and its recipients move to other stalls at once."""
    vendor = stall_of(vendor_id, scope)
    program = settings()
    day = today(program)
    if inspected_on > day:
        raise Invalid({"inspected_on": [_l("cannot be after today (%(value)s)", value=day.isoformat())]})
    if passed != (score >= program.pass_mark):
        raise Invalid({"passed": [_l("a score of %(score)s %(value)s: the pass mark is %(pass_mark)s",
                                     score=score,
                                     value=_l("passes") if score >= program.pass_mark else _l("fails"),
                                     pass_mark=program.pass_mark)]})
    certified = kind == "hygiene" and passed
    valid_until = inspected_on + dt.timedelta(days=program.hygiene_validity_days) if certified else None
    inspection = Inspection(vendor_id=vendor.id, kind=kind, inspected_on=inspected_on, score=score, passed=passed,
                            findings=findings, valid_until=valid_until, inspector_id=scope.user_id)
    db.session.add(inspection)
    db.session.flush()
    # The inspection is done, however it was recorded: the open task that asked for it closes.
    events.publish(InspectionRecorded(inspection.id, vendor.id, kind, passed, inspected_on, findings, scope))
    if kind != "hygiene":
        return RecordedInspection(inspection)
    latest = db.session.scalars(
        select(Inspection).where(Inspection.vendor_id == vendor.id, Inspection.kind == "hygiene")
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()).limit(1)
    ).one()
    if latest.id != inspection.id:
        return RecordedInspection(inspection)  # an older one, kept as history: the newer one still decides
    vendor.hygiene_inspected_on = inspected_on
    vendor.hygiene_passed = passed
    vendor.hygiene_valid_until = valid_until
    db.session.flush()
    verdict = code("inspection_passed" if passed else "inspection_failed", on=inspected_on)
    moves = Moves.total(events.publish(StallChanged(vendor, verdict)))
    return RecordedInspection(inspection, moves.moved, moves.uncovered, moves.placed)


def list_inspections(vendor_id: int, page: int, per_page: int, kind: str | None = None, *,
                     scope: Scope) -> Page[Inspection]:
    """A stall's inspections, newest first."""
    stall_of(vendor_id, scope)
    query = (select(Inspection).where(Inspection.vendor_id == vendor_id)
             .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()))
    if kind:
        query = query.where(equals(Inspection.kind, kind))
    return paginate(db.session, query, page, per_page)



def hygiene_counts(day: dt.date) -> tuple[int, int]:
    """(active stalls, of them those whose latest hygiene inspection on or before ``day`` passed
    and still holds on ``day``): for hygiene_valid_rate, the public statistics and the cut-off.
    From today on, the stall's own record of its latest inspection answers; for a past day, the
    inspections' history (stalls' status as it is now: its history is not kept)."""
    if day >= today():
        valid = Vendor.hygiene_is("valid", day)
    else:
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
