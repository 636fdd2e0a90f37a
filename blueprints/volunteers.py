from flask import current_app, g, request

from blueprints.extensions import Blueprint, limiter
from blueprints.idempotency import idempotent
from blueprints.requests import MalformedBody, if_match, request_json, versioned
from schemas.common import page_of
from schemas.deliveries import ManifestOut
from schemas.volunteers import (
    ClaimArgs,
    ClaimIn,
    ClaimOut,
    EndClaimIn,
    ManifestDayArgs,
    OpportunityArgs,
    OpportunityOut,
    OwnRecordOut,
    ReasonIn,
    StaffClaimArgs,
    VisitArgs,
    VisitIn,
    VisitOut,
    VolunteerArgs,
    VolunteerIn,
    VolunteerOut,
    VolunteerOwnPatch,
)
from service.deliveries import service as deliveries
from service.extensions import db
from service.volunteers import claims, service

blp = Blueprint("volunteers", __name__, url_prefix="/api/v1",
                description="The public's volunteers: sign-up, vetting, their own record, the elderly near "
                            "them nobody reaches, the people they take on (claims), their meals and visits.")


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


def _move_limit() -> str:
    return current_app.config["RATELIMIT_VOLUNTEER_MOVE"]


def _changing(*names: str):
    """Whether the request's body changes one of ``names`` (a limit that counts only such changes)."""
    def changing() -> bool:
        try:
            body = request_json() if request.is_json else None
        except MalformedBody:
            return False  # the parser answers it with a 400
        return isinstance(body, dict) and any(name in body for name in names)
    return changing


def _succeeded(response) -> bool:
    return response.status_code < 400


def _own_key(kind: str):
    return lambda: f"{kind}:{g.caller.user_id}"


MOVES, CONTACTS = ("latitude", "longitude", "village_id"), ("phone", "email")


@blp.route("/volunteers", methods=["POST"])
@limiter.limit(_signup_limit)
@blp.arguments(VolunteerIn())
@blp.response(201, VolunteerOut)
@blp.alt_response(409, description="The phone or the email is registered already (whose is not said).")
def sign_up(data):
    """Sign up as a volunteer: `pending` until the social agency approves. The volunteer signs in at
    once (`POST /auth/token` with the phone or the email) and sees their own record only."""
    volunteer = service.sign_up(**data)
    db.session.commit()
    return volunteer


@blp.route("/volunteers", methods=["GET"])
@blp.arguments(VolunteerArgs(), location="query")
@blp.response(200, page_of(VolunteerOut))
def list_volunteers(args):
    """Volunteers to vet, oldest sign-up first: by `status`, `village_id`, `skill`, or `q` (part of the
    name, email or phone)."""
    return service.list_volunteers(**args, scope=g.caller)


@blp.route("/volunteers/<int:volunteer_id>", methods=["GET"])
@blp.response(200, VolunteerOut)
def get_volunteer(volunteer_id):
    """One volunteer."""
    return service.get_volunteer(volunteer_id, scope=g.caller)


def _decision(volunteer_id: int, decision: str, reason: str | None = None):
    volunteer = service.decide(volunteer_id, decision, reason, scope=g.caller)
    db.session.commit()
    return volunteer


@blp.route("/volunteers/<int:volunteer_id>/approve", methods=["POST"])
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Not pending: `current_status` says what it is.")
def approve_volunteer(volunteer_id):
    """Approve a pending volunteer."""
    return _decision(volunteer_id, "approve")


@blp.route("/volunteers/<int:volunteer_id>/reject", methods=["POST"])
@blp.arguments(ReasonIn())
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Not pending.")
def reject_volunteer(data, volunteer_id):
    """Reject a pending volunteer, with a reason they read."""
    return _decision(volunteer_id, "reject", data["reason"])


@blp.route("/volunteers/<int:volunteer_id>/suspend", methods=["POST"])
@blp.arguments(ReasonIn())
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Not approved.")
def suspend_volunteer(data, volunteer_id):
    """Suspend an approved volunteer, with a reason they read."""
    return _decision(volunteer_id, "suspend", data["reason"])


@blp.route("/volunteers/<int:volunteer_id>/reinstate", methods=["POST"])
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Not suspended.")
def reinstate_volunteer(volunteer_id):
    """Approve a suspended volunteer again."""
    return _decision(volunteer_id, "reinstate")


@blp.route("/volunteers/<int:volunteer_id>/contact/confirm", methods=["POST"])
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Nothing waits to be confirmed, or the new phone or email is someone else's "
                                   "(whose is not said).")
def confirm_contact(volunteer_id):
    """Confirm the new phone or email a volunteer asked for, having reached them there: the sign-in
    follows it."""
    volunteer = service.decide_contact(volunteer_id, True, scope=g.caller)
    db.session.commit()
    return volunteer


@blp.route("/volunteers/<int:volunteer_id>/contact/reject", methods=["POST"])
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="Nothing waits to be confirmed.")
def reject_contact(volunteer_id):
    """Turn down the new phone or email a volunteer asked for: the old ones stay."""
    volunteer = service.decide_contact(volunteer_id, False, scope=g.caller)
    db.session.commit()
    return volunteer


@blp.route("/volunteers/me", methods=["GET"])
@blp.response(200, OwnRecordOut)
def get_own_record():
    """The signed-in volunteer's own record, whatever its status, with what they have done: open
    claims, people helped now, meals delivered, visits, hours."""
    return versioned(service.own_record_with_activity(g.caller))


@blp.route("/volunteers/me", methods=["PATCH"])
# Where one helps from moves a few times a day at most: what opportunities show is worked out from
# cells of about 1 km, and no stream of moves should be a way to measure them.
@limiter.limit(_move_limit, key_func=_own_key("volunteer-moves"), exempt_when=lambda: not _changing(*MOVES)(),
               deduct_when=_succeeded)
# A new phone or email, as limited as a sign-up, per address and per account.
@limiter.limit(_signup_limit, exempt_when=lambda: not _changing(*CONTACTS)())
@limiter.limit(_signup_limit, key_func=_own_key("volunteer-contacts"), exempt_when=lambda: not _changing(*CONTACTS)())
@blp.arguments(VolunteerOwnPatch())
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="The account is closed.")
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_own_record(changes):
    """Change one's skills, capacity, village or point (a few times a day: `RATELIMIT_VOLUNTEER_MOVE`), or
    ask for a new phone or email: it waits in `pending_contact` until staff confirm it, and the
    answer is the same whether or not someone else has it (the sign-in keeps the old one till then).
    `email: null` drops one's email at once."""
    volunteer = service.update_own(changes, expected_version=if_match(), scope=g.caller)
    db.session.commit()
    return versioned(volunteer)


@blp.route("/volunteers/me", methods=["DELETE"])
@blp.response(204)
def close_own_account():
    """Close one's account: the record stays for the history without the personal data (name,
    phone, email, point), and every token of the account stops working."""
    service.close_own(g.caller)
    db.session.commit()


@blp.route("/volunteers/me/opportunities", methods=["GET"])
@blp.arguments(OpportunityArgs(), location="query")
@blp.response(200, page_of(OpportunityOut))
@blp.alt_response(403, description="The volunteer is not approved (pending, suspended or rejected).")
def list_opportunities(args):
    """Whom the volunteer could help, nearest first, within `radius_km` (default 5, at most 15) of
    their point or village centre: for `deliver`, verified or enrolled elderly not paused whom no
    stall that may cook today and no other volunteer reaches; for `visit`, those not visited (at
    school or by a volunteer) within the program's visit interval and not taken on for visits.
    Never who or where: a first name and an initial, the village, the distance to 0.5 km."""
    return claims.opportunities(**args, scope=g.caller)


@blp.route("/volunteers/me/claims", methods=["POST"])
@idempotent
@blp.arguments(ClaimIn())
@blp.response(201, ClaimOut)
@blp.alt_response(403, description="The volunteer is not approved.")
@blp.alt_response(404, description="The recipient is not one of the volunteer's opportunities (or does not exist).")
@blp.alt_response(409, description="Someone else has taken this person on, the volunteer has already, or they help "
                                   "as many people as their capacity.")
def create_claim(data):
    """Take on one of one's opportunities (another recipient is a 404). For `deliver`, the
    recipient counts as reached at once and their meals are the volunteer's from the days already
    scheduled; read the claim to see their name, address, point and phone. Send an
    `Idempotency-Key`: a retry gets the first answer."""
    return claims.claim(data["recipient_id"], data["kind"], scope=g.caller)


@blp.route("/volunteers/me/claims", methods=["GET"])
@blp.arguments(ClaimArgs(), location="query")
@blp.response(200, page_of(ClaimOut))
@blp.alt_response(403, description="The volunteer is not approved (pending, suspended or rejected).")
def list_own_claims(args):
    """One's claims, open first, newest first (no address in the list: read one claim)."""
    return claims.own_claims(**args, scope=g.caller)


@blp.route("/volunteers/me/claims/<int:claim_id>", methods=["GET"])
@blp.response(200, ClaimOut)
def get_own_claim(claim_id):
    """One of one's claims: while open, with the recipient's name, address, point and phone."""
    return claims.own_claim(claim_id, scope=g.caller)


@blp.route("/volunteers/me/claims/<int:claim_id>/release", methods=["POST"])
@blp.response(200, ClaimOut)
@blp.alt_response(409, description="The claim has ended already.")
def release_claim(claim_id):
    """Let go of a claim: the recipient is uncovered again, the meals not yet delivered go to a
    stall or are cancelled, and the social agency follows up."""
    found = claims.release(claim_id, scope=g.caller)
    db.session.commit()
    return found


@blp.route("/volunteers/me/manifest", methods=["GET"])
@blp.arguments(ManifestDayArgs(), location="query")
@blp.response(200, ManifestOut)
@blp.alt_response(403, description="The volunteer is not approved (pending, suspended or rejected).")
def volunteer_manifest(args):
    """The volunteer's meals of a day (today by default), as a stall's manifest: whom, where, what
    they may not eat; confirm each with `POST /deliveries/{id}/confirm`."""
    return deliveries.manifest(args.get("date"), scope=g.caller)


@blp.route("/volunteers/me/visits", methods=["POST"])
@idempotent
@blp.arguments(VisitIn())
@blp.response(201, VisitOut)
@blp.alt_response(403, description="The volunteer is not approved.")
@blp.alt_response(404, description="The volunteer has not taken this recipient on for visits.")
def log_visit(data):
    """Log a visit to someone one has taken on for visits (another recipient is a 404). `visited`
    and `concern` count for `visit_rate` as a school visit does; a `concern` (with its `reason`)
    opens a follow-up for the social agency, whose status the volunteer reads back here."""
    return claims.log_visit(**data, scope=g.caller)


@blp.route("/volunteers/me/visits", methods=["GET"])
@blp.arguments(VisitArgs(), location="query")
@blp.response(200, page_of(VisitOut))
@blp.alt_response(403, description="The volunteer is not approved (pending, suspended or rejected).")
def list_own_visits(args):
    """One's visits, newest first, with the status of each concern's follow-up."""
    return claims.own_visits(**args, scope=g.caller)


@blp.route("/claims", methods=["GET"])
@blp.arguments(StaffClaimArgs(), location="query")
@blp.response(200, page_of(ClaimOut))
def list_claims(args):
    """Volunteers' claims, open first, newest first: by status, kind, volunteer or recipient."""
    return claims.list_claims(**args, scope=g.caller)


@blp.route("/claims/<int:claim_id>/end", methods=["POST"])
@blp.arguments(EndClaimIn())
@blp.response(200, ClaimOut)
@blp.alt_response(409, description="The claim has ended already.")
def end_claim(data, claim_id):
    """End a volunteer's claim, saying why (they read it): the recipient is uncovered again and the
    meals not yet delivered go to a stall or are cancelled."""
    found = claims.end_by_staff(claim_id, data["reason"], scope=g.caller)
    db.session.commit()
    return found
