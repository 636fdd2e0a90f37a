"""Where a complaint is, for the staff who must find it: the point checked against the program's
areas (as a recipient's home is), the village given or found, and the stall named or found.

A report about a place (``NEEDS_PLACE``: a dirty stall, bad food, a missed meal, an elderly person
nobody feeds) must give some way to find it: a point, an address, a village, the stall or the
person. What is found rather than given says how (``village_source``, ``found_vendor_by``), so that
staff read a guess as a guess: the village whose centre is nearest the point (villages have
centres, not borders), the stall that feeds the recipient named, the stall nearest the point.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from service import geo
from service.assignments.models import Assignment
from service.codes import Code, code
from service.complaints.models import ABOUT_A_STALL, ABOUT_THE_MEALS, NEEDS_PLACE, Complaint
from service.errors import Invalid
from service.extensions import db
from service.i18n import _l
from service.program.service import get_village, nearest_village
from service.vendors.models import Vendor
from service.vendors.service import nearest_stall

NEEDS_PLACE_MESSAGE = _l("a report of this kind is about a place: give the point (latitude and longitude) or an "
                         "address, or the village, the stall or the person it concerns")


class PlaceNeeded(Invalid):
    """A report about a place came with no way to find it (``NEEDS_PLACE``)."""


@dataclass(frozen=True)
class Place:
    """What filing found of where a complaint is (the ``Complaint`` columns of the same names)."""

    village_id: int | None = None
    village_source: str | None = None
    found_vendor_id: int | None = None
    found_vendor_by: str | None = None
    found_vendor_m: int | None = None


def locate(category: str, *, latitude: float | None, longitude: float | None, address: str | None,
           village_id: int | None, vendor: Vendor | None, recipient_id: int | None, recipient_named: bool,
           elderly_village_id: int | None) -> Place:
    """Check where a new complaint is and find what can be found of it. ``recipient_id`` is the
    recipient named when they exist; ``recipient_named`` whether one was named at all (an unknown id
    is dropped, never refused: the public may not learn which ids exist)."""
    limit = current_app.config["RECIPIENT_MAX_KM_FROM_VILLAGE"]
    source = None
    if village_id is not None:
        village = get_village(village_id)
        if latitude is not None and (error := geo.too_far(latitude, longitude, village, limit)):
            raise Invalid({"latitude": [error]})
        source = "given"
    elif latitude is not None:
        # A point is of the program's areas, as a recipient's home is: within the same distance of
        # some village (London, or a phone's (0, 0), is no report of ours).
        found = nearest_village(latitude, longitude, limit)
        if found is None:
            raise Invalid({"latitude": [_l("the point is more than %(limit)s km from every village of the "
                                           "program: %(CHECK_COORDINATES)s",
                                           limit=format(limit, 'g'), CHECK_COORDINATES=geo.CHECK_COORDINATES)]})
        village_id, source = found[0].id, "point"
    elif elderly_village_id is not None:
        village_id, source = elderly_village_id, "elderly"
    if category in NEEDS_PLACE and latitude is None and not address and village_id is None and vendor is None \
            and not recipient_named:
        raise PlaceNeeded({"latitude": [NEEDS_PLACE_MESSAGE]})
    found, by, metres = _found_stall(category, latitude, longitude, recipient_id) if vendor is None else (None,) * 3
    stall = vendor or found
    if village_id is None and stall is not None:
        village_id, source = stall.village_id, "stall"
    return Place(village_id=village_id, village_source=source, found_vendor_id=found.id if found else None,
                 found_vendor_by=by, found_vendor_m=metres)


def _found_stall(category: str, latitude: float | None, longitude: float | None, recipient_id: int | None
                 ) -> tuple[Vendor | None, str | None, int | None]:
    """The stall a report names none of is likely about: the one that feeds the recipient named (a
    missed meal, bad food), else the nearest to the point (a dirty stall, bad food)."""
    if recipient_id is not None and category in ABOUT_THE_MEALS:
        placed = db.session.get(Assignment, recipient_id)
        if placed is not None and placed.vendor is not None:
            return placed.vendor, "recipient", None
    if latitude is not None and category in ABOUT_A_STALL:
        near = nearest_stall(latitude, longitude, current_app.config["COMPLAINT_STALL_NEAR_KM"])
        if near is not None:
            return near[0], "point", round(near[1] * 1000)
    return None, None, None


def task_note(complaint: Complaint) -> Code | None:
    """What the task of a complaint says of where it is: the village and the stall (no personal
    data: the point, the address and the link stay on the complaint, which its ``complaint_id``
    leads to while the agency answers for it)."""
    stall = complaint.vendor or complaint.found_vendor
    if complaint.village is None and stall is None and complaint.latitude is None and not complaint.address:
        return None
    return code("complaint_place", complaint_id=complaint.id,
                village=complaint.village.name if complaint.village else None,
                village_source=complaint.village_source if complaint.village else None,
                stall_id=stall.id if stall else None, stall=stall.name if stall else None,
                stall_source=("named" if complaint.vendor else complaint.found_vendor_by) if stall else None,
                stall_m=complaint.found_vendor_m if stall and not complaint.vendor else None,
                point=complaint.latitude is not None or None, address=bool(complaint.address) or None,
                media=bool(complaint.media_url) or None)
