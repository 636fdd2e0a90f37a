from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from blueprints.extensions import Blueprint, limiter
from blueprints.requests import MalformedBody, request_json
from schemas.accounts import MePatch, PasswordIn, RevokedOut, TokenIn, TokenOut, UserOut
from service.accounts import service
from service.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Tokens and the signed-in user.")


def _auth_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


def _account_limit() -> str:
    return current_app.config["RATELIMIT_AUTH_ACCOUNT"]


def account() -> str:
    """The account a sign-in tries (the email or phone as sent: the API's JSON body, or the pages'
    form field ``login``), for the limit per account: guesses spread over many addresses still
    count against it. Empty (no limit to count) when there is none."""
    if request.mimetype == "application/x-www-form-urlencoded":
        login = request.form.get("login")
    else:
        try:
            body = request_json() if request.is_json else None
        except MalformedBody:
            return ""  # the parser answers it with a 400
        login = (body.get("email") or body.get("phone")) if isinstance(body, dict) else None
    if not isinstance(login, str) or not login.strip():
        return ""
    return f"account:{service.normal_login(login) or login.strip().lower()}"


def _anywhere_limit() -> str:
    return current_app.config["RATELIMIT_AUTH_ACCOUNT_ANYWHERE"]


def account_here() -> str:
    """The account a sign-in tries, from this address: a stranger's guesses lock only themselves out."""
    tried = account()
    return f"{tried}|{get_remote_address()}" if tried else ""


def signs_in_here() -> bool:
    """Whether the account signs in from this address (lately): then guesses from elsewhere do not lock it out."""
    tried = account()
    return bool(tried) and service.signs_in_from(tried.removeprefix("account:"), get_remote_address())


def _refused(response) -> bool:
    return response.status_code in (401, 422)


@blp.route("/auth/token", methods=["POST"])
@limiter.limit(_auth_limit)
@limiter.limit(_account_limit, key_func=account_here, deduct_when=_refused)
@limiter.limit(_anywhere_limit, key_func=account, deduct_when=_refused, exempt_when=signs_in_here)
@blp.arguments(TokenIn())
@blp.response(201, TokenOut)
@blp.alt_response(401, description="Wrong email, phone or password.")
def issue_token(data):
    """Exchange an email (or a volunteer's phone) and password for a bearer token. Refused tries are
    limited per account from one address (`RATELIMIT_AUTH_ACCOUNT`) and per account from addresses it
    has not signed in from lately (`RATELIMIT_AUTH_ACCOUNT_ANYWHERE`): 429 with `Retry-After`."""
    token, api_token = service.issue_token(data.get("email") or data["phone"], data["password"],
                                           address=get_remote_address())
    db.session.commit()
    return {"token": token, "expires_at": api_token.expires_at, "user": api_token.user}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with (signing out)."""
    service.revoke_token(g.caller.token_id)
    db.session.commit()


@blp.route("/me/password", methods=["POST"])
@limiter.limit(_account_limit, key_func=lambda: f"user:{g.caller.user_id}", deduct_when=_refused)
@blp.arguments(PasswordIn())
@blp.response(200, RevokedOut)
@blp.alt_response(422, description="`old_password` is not the current one, or `new_password` breaks a rule.")
def change_password(data):
    """Change your own password (the current one, then the new one). Every other token of yours is
    revoked: a lost phone or a shared computer is signed out; this token keeps working."""
    count = service.change_password(data["old_password"], data["new_password"], scope=g.caller)
    db.session.commit()
    return {"revoked": count}


@blp.route("/me", methods=["GET"])
@blp.response(200, UserOut)
def me():
    """The signed-in user."""
    return service.get_user(g.caller.user_id)


@blp.route("/me", methods=["PATCH"])
@blp.arguments(MePatch())
@blp.response(200, UserOut)
def update_me(data):
    """Your own settings: the language of the API's messages and of your pages (`id` or `en`)."""
    user = service.set_language(g.caller.user_id, data["language"])
    db.session.commit()
    return user
