"""The volunteers' pages: sign up (as ``POST /api/v1/volunteers``), then, signed in with the pages'
form, a home that says what one's status means; once approved, the elderly nearby whom nobody
reaches (as ``GET /volunteers/me/opportunities`` shows them: no name, no address), taking one on,
one's claims (the person's address and phone on the claim's own page, as
``GET /volunteers/me/claims/{id}``), letting go, and logging a visit. The same service functions
and Scope as the API; nothing shown that the API does not show a volunteer."""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import TooManyRequests

from blueprints.extensions import limiter
from blueprints.idempotency import idempotent
from blueprints.pages import home_of, region_choice, setup, wants_json
from blueprints.pages.forms import FormErrors, decimal, load, text, whole
from schemas.volunteers import OpportunityArgs, VisitIn, VolunteerIn
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.extensions import db
from service.i18n import _, _l
from service.program import clock
from service.program import service as program
from service.volunteers import claims
from service.volunteers import service as volunteers
from service.volunteers.claims import DEFAULT_RADIUS_KM, MAX_RADIUS_KM
from service.volunteers.models import CLAIM_KINDS, MAX_CAPACITY, SKILLS

relawan = Blueprint("relawan", __name__, template_folder="templates")
setup(relawan)

SKILL_WORDS = {"deliver": _l("Bring meals"), "visit": _l("Visit and keep company"), "cook": _l("Cook")}
KIND_WORDS = {"deliver": _l("bring meals"), "visit": _l("visits")}
CONCERN_WORDS = {"received": _l("waiting for the social office"), "open": _l("the social office is on it"),
                 "done": _l("followed up"), "cancelled": _l("closed without follow-up")}
OUTCOME_WORDS = {"visited": _l("Visited: all is well"), "not_at_home": _l("Not at home"),
                 "concern": _l("Visited, and I am worried")}
RADII = (1, 2, 5, 10, 15)
SIGN_UP_FIELDS = ("name", "phone", "email", "password", "village_id", "latitude", "longitude", "capacity")
VISIT_FIELDS = ("visited_on", "outcome", "notes", "concern_reason", "hours")
NOTICES = {"claimed": _l("You have taken this person on. Thank you!"),
           "released": _l("You have let go. The social office (Dinas Sosial) will follow up."),
           "visit": _l("The visit is logged. Thank you!")}


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


@relawan.errorhandler(TooManyRequests)
def _too_many(exc):
    return render_template("message.html", title=_("Too many tries"),
                           message=_("Too many tries from this connection: wait a while, then try again.")), 429


def _notice() -> str | None:
    key = session.pop("relawan_notice", None)
    return NOTICES.get(key) if isinstance(key, str) else None


# --- sign-up --------------------------------------------------------------------------------------

def _sign_up_form(values: dict, errors: FormErrors | None = None, status: int = 200):
    villages = program.list_areas(page=1, per_page=1000, kind="village").items
    return render_template("relawan_sign_up.html", values=values, errors=errors or FormErrors(), villages=villages,
                           skills=[(s, SKILL_WORDS[s]) for s in SKILLS], max_capacity=MAX_CAPACITY,
                           choice=region_choice()), status


@relawan.route("/relawan/daftar", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def sign_up():
    """Sign up as a volunteer, as ``POST /api/v1/volunteers`` does: pending until approved, with a
    sign-in (the phone or the email, and the password) of one's own."""
    if request.method == "GET":
        if g.caller is not None:
            return redirect(home_of(g.caller), code=303)
        return _sign_up_form({"capacity": "1", "skills": []})
    form = request.form
    values = {name: form.get(name, "") for name in SIGN_UP_FIELDS if name != "password"}
    values["skills"] = form.getlist("skills")
    values["accepts_code_of_conduct"] = form.get("accepts_code_of_conduct") == "yes"
    errors = FormErrors()
    body = {
        "name": text(form, "name"), "phone": text(form, "phone"), "email": text(form, "email"),
        "password": form.get("password") or None,
        "village_id": whole(form, "village_id", errors, _("Choose a village from the list.")),
        "latitude": decimal(form, "latitude", errors, _("A number, such as -8.3541.")),
        "longitude": decimal(form, "longitude", errors, _("A number, such as 114.1672.")),
        "skills": values["skills"],
        "capacity": whole(form, "capacity", errors, _("A number from 1 to 5.")),
        "accepts_code_of_conduct": values["accepts_code_of_conduct"],
    }
    if not body["skills"]:
        errors.add("skills", _("Choose at least one way to help."))
    if not body["accepts_code_of_conduct"]:
        errors.add("accepts_code_of_conduct", _("Read the code of conduct and tick the box to agree."))
    data = load(VolunteerIn(), body, errors, {"skills.0": "skills", "skills.1": "skills", "skills.2": "skills"})
    if data is None or errors:
        return _sign_up_form(values, errors, 422)
    try:
        volunteers.sign_up(**data)
    except Invalid as exc:
        db.session.rollback()
        errors.update_from(exc.errors)
        return _sign_up_form(values, errors, 422)
    except Conflict:
        db.session.rollback()
        errors.add("phone", _("This phone number or email is registered already: sign in, or use another."))
        return _sign_up_form(values, errors, 409)
    db.session.commit()
    return redirect(url_for("relawan.signed_up"), code=303)


@relawan.route("/relawan/terdaftar")
def signed_up():
    return render_template("relawan_signed_up.html")


# --- home -----------------------------------------------------------------------------------------

@relawan.route("/relawan")
def home():
    """What the volunteer can do now: wait (pending), read why not (rejected, suspended), or, once
    approved, find people nearby and look after the ones they have taken on."""
    volunteer = volunteers.own_record(g.caller)
    if volunteer.status != "approved":
        return render_template("relawan_waiting.html", volunteer=volunteer)
    kinds = [k for k in CLAIM_KINDS if k in volunteer.skills]
    errors = FormErrors()
    asked = {name: request.args[name] for name in ("kind", "radius_km", "page") if request.args.get(name)}
    args = load(OpportunityArgs(), asked, errors) or {}
    if args.get("kind") and args["kind"] not in kinds:
        errors.add("kind", _("Add this skill to your record first."))
        args.pop("kind")
    found = claims.opportunities(**args, scope=g.caller) if kinds else None
    kind = (found.items[0].kind if found and found.items else args.get("kind")) or (kinds[0] if kinds else None)
    mine = claims.own_claims(status="open", scope=g.caller)
    return render_template("relawan_home.html", volunteer=volunteer, kinds=[(k, KIND_WORDS[k]) for k in kinds],
                           kind=kind, radius=args.get("radius_km", DEFAULT_RADIUS_KM), radii=RADII,
                           max_radius=MAX_RADIUS_KM, found=found, mine=mine.items, errors=errors,
                           kind_words=KIND_WORDS, notice=_notice())


# --- claims ---------------------------------------------------------------------------------------

@relawan.route("/relawan/klaim", methods=["POST"])
def take():
    """Take on one of one's opportunities (``POST /volunteers/me/claims``); then their claim's page."""
    errors = FormErrors()
    recipient_id = whole(request.form, "recipient_id", errors, _("Choose someone from the list."))
    kind = request.form.get("kind", "")
    if recipient_id is None or kind not in CLAIM_KINDS:
        raise NotFound("recipient", "chosen")
    try:
        shown = claims.claim(recipient_id, kind, scope=g.caller)
    except Conflict as exc:
        db.session.rollback()
        existing = exc.extra.get("existing_id")
        if existing is not None:  # sent twice: the first one took them on
            return redirect(url_for("relawan.claim", claim_id=existing), code=303)
        message = (_("Someone else has just taken this person on. Choose someone else.") if exc.detail == claims.HELD
                   else _("You help as many people as you said you can: let go of someone first."))
        return render_template("message.html", title=_("Not done"), message=message,
                               back=url_for("relawan.home")), 409
    db.session.commit()
    session["relawan_notice"] = "claimed"
    return redirect(url_for("relawan.claim", claim_id=shown.id), code=303)


def _claim_page(claim_id: int, values: dict | None = None, errors: FormErrors | None = None, status: int = 200):
    try:
        shown = claims.own_claim(claim_id, scope=g.caller)
    except NotFound:
        return render_template("message.html", title=_("Not found"),
                               message=_("You have taken on nobody under this number."),
                               back=url_for("relawan.home")), 404
    try:  # the visits logged under this claim, with how their concerns are followed up (GET /volunteers/me/visits)
        visits = [v for v in claims.own_visits(per_page=200, scope=g.caller).items if v.claim_id == shown.id]
    except Forbidden:
        visits = []  # no longer approved: the visits are not theirs to read
    return render_template("relawan_claim.html", claim=shown, kind_words=KIND_WORDS, outcomes=OUTCOME_WORDS,
                           visits=visits, concern_words=CONCERN_WORDS,
                           values=values or {"visited_on": clock.today().isoformat(), "outcome": "visited"},
                           errors=errors or FormErrors(), today=clock.today().isoformat(),
                           notice=_notice()), status


@relawan.route("/relawan/klaim/<int:claim_id>")
def claim(claim_id: int):
    """One of one's claims: while open, the person's name, address and phone (as the API's)."""
    return _claim_page(claim_id)


@relawan.route("/relawan/klaim/<int:claim_id>/lepas", methods=["POST"])
def release(claim_id: int):
    """Let go of a claim (``POST /volunteers/me/claims/{id}/release``)."""
    try:
        claims.release(claim_id, scope=g.caller)
    except NotFound:
        db.session.rollback()
        return _claim_page(claim_id)
    db.session.commit()
    session["relawan_notice"] = "released"
    return redirect(url_for("relawan.home"), code=303)


@relawan.route("/relawan/klaim/<int:claim_id>/kunjungan", methods=["POST"])
@idempotent
def log_visit(claim_id: int):
    """Log a visit to the person of a visit claim (``POST /volunteers/me/visits``). The page's
    script may queue it offline and send it later with an ``Idempotency-Key``, asking for JSON:
    logged once, however often it is sent."""
    return make_response(_log_visit(claim_id))  # a Response, which the idempotency record keeps


def _log_visit(claim_id: int):
    try:
        shown = claims.own_claim(claim_id, scope=g.caller)
    except NotFound:
        if wants_json():
            raise
        return _claim_page(claim_id)  # another's claim, or none: the same 404
    form = request.form
    values = {name: form.get(name, "") for name in VISIT_FIELDS}
    errors = FormErrors()
    reason = text(form, "concern_reason")
    body = {"recipient_id": shown.recipient_id, "visited_on": text(form, "visited_on"),
            "outcome": text(form, "outcome"), "notes": text(form, "notes"),
            "concern": {"reason": reason} if reason else None,
            "hours": decimal(form, "hours", errors, _("A number of hours, such as 1.5."))}
    data = load(VisitIn(), body, errors, {"concern.reason": "concern_reason", "concern": "concern_reason"})
    if data is None or errors:
        return _refused_visit(claim_id, values, errors)
    try:
        visit = claims.log_visit(**data, scope=g.caller)
    except Invalid as exc:
        db.session.rollback()
        errors.update_from(exc.errors, {"concern.reason": "concern_reason", "concern": "concern_reason"})
        return _refused_visit(claim_id, values, errors)
    if wants_json():
        return jsonify({"id": visit.id, "status": "logged"})
    session["relawan_notice"] = "visit"
    return redirect(url_for("relawan.claim", claim_id=claim_id), code=303)


def _refused_visit(claim_id: int, values: dict, errors: FormErrors):
    if wants_json():
        detail = " ".join(str(message) for messages in errors.values() for message in messages)
        return jsonify({"title": _("Please check"), "detail": detail, "status": 422, "errors": errors}), 422
    return _claim_page(claim_id, values, errors, 422)
