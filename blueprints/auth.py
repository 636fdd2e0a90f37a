from flask import current_app, g
from flask_smorest import Blueprint

from schemas.accounts import TokenIn, TokenOut, UserOut
from service.accounts import service
from service.extensions import db, limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Tokens and the signed-in user.")


def _auth_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


@blp.route("/auth/token", methods=["POST"])
@limiter.limit(_auth_limit)
@blp.arguments(TokenIn())
@blp.response(201, TokenOut)
@blp.alt_response(401, description="Wrong email or password.")
def issue_token(data):
    """Exchange email and password for a bearer token."""
    token, api_token = service.issue_token(data["email"], data["password"])
    db.session.commit()
    return {"token": token, "expires_at": api_token.expires_at, "user": api_token.user}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with (signing out)."""
    service.revoke_token(g.caller.token_id)
    db.session.commit()


@blp.route("/me", methods=["GET"])
@blp.response(200, UserOut)
def me():
    """The signed-in user."""
    return service.get_user(g.caller.user_id)
