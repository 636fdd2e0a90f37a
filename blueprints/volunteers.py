from flask import current_app, g

from blueprints.extensions import Blueprint, limiter
from blueprints.requests import if_match, versioned
from schemas.common import page_of
from schemas.volunteers import ReasonIn, VolunteerArgs, VolunteerIn, VolunteerOut, VolunteerOwnPatch
from service.extensions import db
from service.volunteers import service

blp = Blueprint("volunteers", __name__, url_prefix="/api/v1",
                description="The public's volunteers: sign-up, vetting, their own record.")


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


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


@blp.route("/volunteers/me", methods=["GET"])
@blp.response(200, VolunteerOut)
def get_own_record():
    """The signed-in volunteer's own record, whatever its status."""
    return versioned(service.own_record(g.caller))


@blp.route("/volunteers/me", methods=["PATCH"])
@blp.arguments(VolunteerOwnPatch())
@blp.response(200, VolunteerOut)
@blp.alt_response(409, description="The phone or email is registered already, or the account is closed.")
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_own_record(changes):
    """Change one's contact details (the sign-in follows), skills, capacity, village or point."""
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
