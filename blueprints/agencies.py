from flask import g

from blueprints.extensions import Blueprint
from blueprints.requests import if_match, versioned
from schemas.accounts import AgencyArgs, AgencyIn, AgencyOut, RevokedOut, UserArgs, UserIn, UserOut, UserPatch
from schemas.common import page_of
from service.accounts import service
from service.extensions import db

blp = Blueprint("agencies", __name__, url_prefix="/api/v1", description="Agencies and their users.")


@blp.route("/agencies", methods=["GET"])
@blp.arguments(AgencyArgs(), location="query")
@blp.response(200, page_of(AgencyOut))
def list_agencies(args):
    return service.list_agencies(**args)


@blp.route("/agencies", methods=["POST"])
@blp.arguments(AgencyIn())
@blp.response(201, AgencyOut)
@blp.alt_response(409, description="The code is taken.")
def create_agency(data):
    agency = service.create_agency(**data)
    db.session.commit()
    return agency


@blp.route("/users", methods=["GET"])
@blp.arguments(UserArgs(), location="query")
@blp.response(200, page_of(UserOut))
def list_users(args):
    return service.list_users(**args)


@blp.route("/users", methods=["POST"])
@blp.arguments(UserIn())
@blp.response(201, UserOut)
@blp.alt_response(409, description="The email is taken.")
def create_user(data):
    """A user: agency staff need `agency_id`, a stall `vendor_id`, a volunteer `volunteer_id`."""
    user = service.create_user(**{"email": None, **data})
    db.session.commit()
    return user


@blp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"])
@blp.response(200, RevokedOut)
def revoke_user_tokens(user_id):
    """Sign a user out everywhere (a lost phone, someone who left)."""
    count = service.revoke_user_tokens(user_id)
    db.session.commit()
    return {"revoked": count}


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserPatch())
@blp.response(200, UserOut)
@blp.alt_response(409, description="Deactivating yourself.")
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_user(changes, user_id):
    """Rename a user, move agency staff to another agency, or deactivate (`active: false`: someone
    who left; every token is revoked, so reactivating brings none back) and reactivate them."""
    user = service.update_user(user_id, changes, expected_version=if_match(), scope=g.caller)
    db.session.commit()
    return versioned(user)
