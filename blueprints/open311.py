"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), the open standard civic reporting
apps speak, mapped onto complaints: a service is a complaint category, a service request a
complaint, its ``service_request_id`` the tracking code. JSON only (``.json``); requests are posted
form-encoded, as the standard says.

What the standard would make public and this program may not: a request is read by its id (the
tracking code, which nobody can guess) and shows what the public reading of a complaint shows,
with the point of the request only to the nearest 0.01 degree (about a kilometre); ``GET
requests.json`` needs ``service_request_id`` (one or several codes, comma-separated): a list of
everyone's requests would publish their codes.
"""
import functools

from flask import g, request

from blueprints.complaints import filing, guesses, lookups
from blueprints.extensions import Blueprint
from schemas.open311 import RequestArgs, RequestIn, RequestOut, ServiceOut, SubmittedOut
from service.complaints import service
from service.complaints.models import CATEGORIES, NEEDS_PLACE
from service.complaints.places import PlaceNeeded
from service.errors import Invalid, Malformed, UnsupportedMedia
from service.extensions import db
from service.i18n import _l

blp = Blueprint("open311", __name__, url_prefix="/api/v1/open311/v2",
                description="Open311 GeoReport v2: civic reporting apps file and follow complaints.")

# Each service's name and description, in the reader's language.
SERVICES = {
    "missed_meal": (_l("Missed meal"), _l("A meal of the program did not arrive.")),
    "food_quality": (_l("Food quality"), _l("The food was spoiled, too little, or not what the person may eat.")),
    "hygiene": (_l("Dirty stall"), _l("A partner stall that cooks for the program is not clean.")),
    "behaviour": (_l("Behaviour"), _l("A courier, a stall or a volunteer was rude or did wrong.")),
    "unreached_elderly": (_l("Elderly person nobody feeds"),
                          _l("An elderly person living alone whom no meal reaches.")),
    "other": (_l("Other"), _l("Anything else about the program.")),
}
# Said in each service's description: what a request of the service must hold to be found.
PLACE_NOTE = _l("Say where: lat and long, or address_string.")
OPEN311_STATUS = {"received": "open", "forwarded": "open", "in_progress": "open", "answered": "closed",
                  "closed": "closed", "rejected": "closed"}
MAX_IDS = 20
OPEN311_NAMES = {"contact_phone": "phone", "contact_name": "first_name", "contact_email": "email", "latitude": "lat",
                 "longitude": "long", "category": "service_code", "address": "address_string"}


def form_only(view):
    """GeoReport v2 posts requests form-encoded: another body is a 415 that says so."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            raise UnsupportedMedia(_l("post the request form-encoded (application/x-www-form-urlencoded), "
                                      "as GeoReport v2 does"))
        return view(*args, **kwargs)
    return wrapper


@blp.route("/services.json", methods=["GET"])
@blp.response(200, ServiceOut(many=True))
def list_services():
    """The kinds of request: one per complaint category."""
    return [{"service_code": c, "service_name": str(SERVICES[c][0]),
             "description": str(SERVICES[c][1]) + (" " + str(PLACE_NOTE) if c in NEEDS_PLACE else ""),
             "metadata": False,
             "type": "realtime", "keywords": c.replace("_", " "), "group": "Rantang Kasih"} for c in CATEGORIES]


@blp.route("/requests.json", methods=["POST"])
@filing
@form_only
@blp.arguments(RequestIn(), location="form")
@blp.response(200, SubmittedOut(many=True))
def create_request(data):
    """File a service request (a complaint), form-encoded: `service_code`, `description`, `lat` and
    `long` or `address_string` (a place is needed for the services that say so: else a 400, as the
    standard has it), `first_name`, `last_name`, `phone`, `email`, `media_url`. The answer's
    `service_request_id` is the complaint's tracking code."""
    if data.get("lat") == 0 and data.get("long") == 0:
        raise Malformed({"lat": [_l("(0, 0) is where a phone puts itself without a fix, not a place: send "
                                    "the point, or address_string")]})
    name = " ".join(part for part in (data.get("first_name"), data.get("last_name")) if part) or None
    try:
        complaint = service.file_complaint(
            data["service_code"], data.get("description") or "", contact_name=name, contact_phone=data.get("phone"),
            contact_email=data.get("email"), latitude=data.get("lat"), longitude=data.get("long"),
            address=data.get("address_string"), media_url=data.get("media_url"), channel="open311")
    except PlaceNeeded:
        raise Malformed({"lat": [_l("a request for %(service_code)s is about a place: send lat and long, "
                                    "or address_string",
                                    service_code=data['service_code'])]}) from None
    except Invalid as exc:  # in the standard's names, which the client sent
        raise Invalid({OPEN311_NAMES.get(k, k): v for k, v in exc.errors.items()}) from None
    db.session.commit()
    return [{"service_request_id": complaint.code, "account_id": None,
             "service_notice": f"Forwarded within 3 working days (by {complaint.forward_by}), answered within 5 "
                               f"(by {complaint.respond_by})."}]


def _shown(complaint) -> dict:
    view = service.public_view(complaint)
    return {
        "service_request_id": view.code, "status": OPEN311_STATUS[view.status],
        "status_notes": view.public_answer or view.reject_reason, "service_name": str(SERVICES[view.category][0]),
        "service_code": view.category, "agency_responsible": None, "service_notice": None,
        "requested_datetime": view.received_at, "updated_datetime": view.history[-1]["at"] if view.history else None,
        "expected_datetime": service.answer_due_at(complaint),
        "lat": round(complaint.latitude, 2) if complaint.latitude is not None else None,
        "long": round(complaint.longitude, 2) if complaint.longitude is not None else None,
    }


@blp.route("/requests/<code:request_id>.json", methods=["GET"])
@lookups
@guesses
@blp.response(200, RequestOut(many=True))
def get_request(request_id):
    """One service request by its id (the tracking code)."""
    return [_shown(service.by_code(request_id))]


@blp.route("/requests.json", methods=["GET"])
@lookups
@guesses
@blp.arguments(RequestArgs(), location="query")
@blp.response(200, RequestOut(many=True))
def list_requests(args):
    """Service requests by id: `service_request_id` takes one or several codes, comma-separated (at most
    20); unknown ones are left out. Filters `service_code`, `status` (open, closed)."""
    codes = [c for c in args["service_request_id"].split(",") if c.strip()]
    if not codes or len(codes) > MAX_IDS:
        raise Invalid({"service_request_id": [_l("one to %(MAX_IDS)s request ids, comma-separated", MAX_IDS=MAX_IDS)]})
    complaints = service.by_codes(codes)
    g.unknown_codes = len(service.unknown_codes(codes, complaints))  # guesses count as a lookup by code would
    found = [_shown(c) for c in complaints]
    if args.get("service_code"):
        found = [r for r in found if r["service_code"] == args["service_code"]]
    if args.get("status"):
        found = [r for r in found if r["status"] == args["status"]]
    return found
