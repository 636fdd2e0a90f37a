from flask import current_app, g, request

from blueprints.extensions import Blueprint, limiter
from schemas.common import page_of
from schemas.complaints import (
    AnswerIn,
    ComplaintArgs,
    ComplaintIn,
    ComplaintOut,
    FiledOut,
    ForwardIn,
    PublicComplaintOut,
    PublicStatsOut,
    RejectIn,
    ReopenIn,
    RouteIn,
    RouteOut,
)
from service.complaints import service
from service.extensions import db
from service.public import stats

blp = Blueprint("complaints", __name__, url_prefix="/api/v1",
                description="The public's complaints and reports of elderly nobody reaches: filed with a tracking "
                            "code, forwarded to the agency that answers for them within 3 working days, answered "
                            "within 5; and the program's statistics for the public.")


def complaint_limit() -> str:
    return current_app.config["RATELIMIT_COMPLAINT"]


def lookup_limit() -> str:
    return current_app.config["RATELIMIT_COMPLAINT_LOOKUP"]


def misses_limit() -> str:
    return current_app.config["RATELIMIT_COMPLAINT_MISSES"]


def unknown_codes() -> int:
    """Codes this request tried that are no complaint's: 1 for a 404 of one code; a list of codes
    (Open311) says how many of its own were unknown (``g.unknown_codes``)."""
    return g.get("unknown_codes", 1)


def missed(response) -> bool:
    return g.get("unknown_codes", 1 if response.status_code == 404 else 0) > 0


def filed(response) -> bool:
    return response.status_code < 400  # a typo refused with a 422 does not use up the day's reports


def codes_asked() -> int:
    """How many codes a request reads: a list counts each (Open311's ``service_request_id=a,b``)."""
    asked = request.args.get("service_request_id")
    return min(max(1, len(asked.split(","))), 100) if asked else 1


# Shared by every way in (the API and Open311): one count of complaints filed, of lookups and of
# unknown codes (guesses) per client address.
filing = limiter.shared_limit(complaint_limit, scope="complaints-filed", deduct_when=filed)
lookups = limiter.shared_limit(lookup_limit, scope="complaint-lookups", cost=codes_asked)
guesses = limiter.shared_limit(misses_limit, scope="complaint-guesses", deduct_when=missed, cost=unknown_codes)


@blp.route("/complaints", methods=["POST"])
@filing
@blp.arguments(ComplaintIn())
@blp.response(201, FiledOut)
def file_complaint(data):
    """File a complaint (anyone, no account): a missed meal, bad food, a dirty stall, a rude courier,
    or an elderly person nobody feeds yet (`unreached_elderly`, with `elderly`). Keep the `code`: it
    is the only way to follow the complaint. `anonymous`: no contact is kept; `confidential`: only
    the coordinator sees it."""
    complaint = service.file_complaint(**data)
    db.session.commit()
    return complaint


@blp.route("/complaints/<code:code>", methods=["GET"])
@lookups
@guesses
@blp.response(200, PublicComplaintOut)
def read_complaint(code):
    """Follow a complaint by its tracking code: its status, dates, deadlines and the answer. An unknown
    code and a malformed one are the same 404; guesses are rate limited."""
    return service.read_by_code(code)


@blp.route("/complaints/<code:code>/reopen", methods=["POST"])
@lookups
@guesses
@blp.arguments(ReopenIn())
@blp.response(200, PublicComplaintOut)
@blp.alt_response(409, description="Not answered, reopened once already, or the 10 days are over.")
def reopen_complaint(data, code):
    """The answer does not settle it: reopen the complaint, once, within 10 days of the answer. It goes
    back to the agency, to be answered within 5 working days."""
    shown = service.reopen(code, data["reason"])
    db.session.commit()
    return shown


@blp.route("/complaints", methods=["GET"])
@blp.arguments(ComplaintArgs(), location="query")
@blp.response(200, page_of(ComplaintOut))
def list_complaints(args):
    """Complaints, the most pressing deadline first. An agency sees those it answers for; the contact
    only where it may."""
    return service.list_complaints(**args, scope=g.caller)


@blp.route("/complaints/by-id/<int:complaint_id>", methods=["GET"])
@blp.response(200, ComplaintOut)
def get_complaint(complaint_id):
    """One complaint as staff read it. By id, under `/complaints/by-id/`: `/complaints/{code}` is the
    public's reading by tracking code."""
    return service.get_complaint(complaint_id, scope=g.caller)


def _done(shown):
    db.session.commit()
    return shown


@blp.route("/complaints/by-id/<int:complaint_id>/forward", methods=["POST"])
@blp.arguments(ForwardIn())
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="Answered, closed or rejected: `current_status` says which.")
def forward_complaint(data, complaint_id):
    """Hand the complaint to an agency: the coordinator's triage, or the responsible agency handing it
    on (its task is cancelled; the new agency's links to it). The deadlines stand."""
    return _done(service.forward(complaint_id, data["agency_id"], data.get("reason"), scope=g.caller))


@blp.route("/complaints/by-id/<int:complaint_id>/start", methods=["POST"])
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="Not `forwarded`.")
def start_complaint(complaint_id):
    """The responsible agency is on it: `in_progress`."""
    return _done(service.start(complaint_id, scope=g.caller))


@blp.route("/complaints/by-id/<int:complaint_id>/answer", methods=["POST"])
@blp.arguments(AnswerIn())
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="Not forwarded or in progress.")
def answer_complaint(data, complaint_id):
    """Answer: `public_answer` is what the complainant reads, `internal_notes` what they do not. The
    complaint's task is done."""
    return _done(service.answer(complaint_id, data["public_answer"], data.get("internal_notes"), scope=g.caller))


@blp.route("/complaints/by-id/<int:complaint_id>/close", methods=["POST"])
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="Not answered.")
def close_complaint(complaint_id):
    """Close an answered complaint (the job runner does so 10 days after the answer)."""
    return _done(service.close(complaint_id, scope=g.caller))


@blp.route("/complaints/by-id/<int:complaint_id>/reject", methods=["POST"])
@blp.arguments(RejectIn())
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="Answered, closed or rejected already.")
def reject_complaint(data, complaint_id):
    """Refuse it: `spam`, `out_of_scope`, `duplicate` or `not_enough_information` (what the
    complainant reads)."""
    return _done(service.reject(complaint_id, data["reason"], data.get("internal_notes"), scope=g.caller))


@blp.route("/complaints/routes", methods=["GET"])
@blp.response(200, RouteOut(many=True))
def list_routes():
    """Which agency answers for each category."""
    return service.routes()


@blp.route("/complaints/routes/<category>", methods=["PUT"])
@blp.arguments(RouteIn())
@blp.response(200, RouteOut(many=True))
def set_route(data, category):
    """Send a category (`missed_meal`, `behaviour`, `other`) to another agency; `null`: the default."""
    return _done(service.set_route(category, data["agency_id"]))


@blp.route("/public/stats", methods=["GET"])
@blp.response(200, PublicStatsOut)
def public_stats():
    """The program in figures, for anyone: eligible and fed yesterday, coverage by district,
    certified stalls, complaints this month. Aggregates only: a count of people under 5 is `"<5"`,
    and counts from which one could be worked out (by difference in a row, or from the totals) are
    null. Counted again every few minutes."""
    response = current_app.make_response(PublicStatsOut().dump(stats.public_stats()))
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['PUBLIC_STATS_CACHE_SECONDS']}"
    return response
