"""The public's pages: file a complaint (or report an elderly person nobody reaches) and follow it by
its tracking code, and the program's statistics. The same service functions, schemas and rate
limits as ``POST /api/v1/complaints``, ``GET /api/v1/complaints/{code}`` and
``GET /api/v1/public/stats``; nothing shown that the API does not show the public."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.exceptions import TooManyRequests

from blueprints.complaints import complaint_limit, filed, guesses, lookups
from blueprints.extensions import limiter
from blueprints.pages import region_choice, setup
from blueprints.pages.forms import FormErrors, decimal, load, text, whole
from schemas.complaints import ComplaintIn, PublicStatsOut, ReopenIn
from service.complaints import service as complaints
from service.complaints.models import CATEGORIES
from service.errors import Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _, _l, lazy, pgettext
from service.program import clock
from service.program import service as program
from service.public import stats

public = Blueprint("public", __name__, template_folder="templates")
setup(public)

# The categories, statuses and reasons of complaints in plain words.
CATEGORY_WORDS = {
    "missed_meal": _l("A meal did not arrive"),
    "food_quality": _l("The food was bad (stale, spoiled, too little)"),
    "hygiene": _l("A stall or kitchen is dirty"),
    "behaviour": _l("A courier, cook or volunteer behaved badly"),
    "unreached_elderly": _l("An elderly person nobody brings meals to yet"),
    "other": _l("Something else"),
}
STATUS_WORDS = {
    "received": _l("Received"),
    "forwarded": _l("Sent to the office that answers it"),
    "in_progress": _l("Being handled"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
    "rejected": _l("Not taken up"),
}
ACTION_WORDS = {
    "received": _l("received"), "forwarded": _l("sent to the office"), "started": _l("work started"),
    "answered": _l("answered"), "reopened": _l("reopened"),
    "closed": lazy(lambda: pgettext("complaint history", "closed")),  # a day "closed" is another word
    "rejected": _l("not taken up"),
}
REJECT_WORDS = {
    "spam": _l("It was not a real report."),
    "out_of_scope": _l("It is not about the meal program."),
    "duplicate": _l("The same matter was reported already."),
    "not_enough_information": _l("There was not enough information to act on it."),
}
PRIVACY = ("open", "confidential", "anonymous")
# Where the service's and the schema's errors go on the form.
RENAME = {"elderly.village_id": "village_id", "anonymous": "privacy", "confidential": "privacy", "_body": "form"}
FIELDS = ("category", "description", "contact_name", "contact_phone", "contact_email", "privacy", "village_id",
          "latitude", "longitude", "address", "media_url", "elderly_name", "elderly_nik", "elderly_birth_date",
          "elderly_sex", "elderly_address")
ELDERLY = ("name", "nik", "birth_date", "sex", "address")

# One count of complaints filed per client address, shared with the API and Open311 (a form refused
# for a typo uses none of it).
filing = limiter.shared_limit(complaint_limit, scope="complaints-filed", deduct_when=filed, methods=["POST"])


@public.errorhandler(TooManyRequests)
def _too_many(exc):
    return render_template("message.html", title=_("Too many tries"),
                           message=_("Too many tries from this connection: wait a while, then try again.")), 429


@public.app_template_filter("local_day")
def local_day(moment) -> str:
    """A moment's day where the program is (its timezone), as 2026-12-03."""
    return clock.day_of(moment).isoformat()


def _villages():
    return program.list_areas(page=1, per_page=1000, kind="village").items


def _body(form) -> tuple[dict, FormErrors]:
    """The complaint form as ``POST /api/v1/complaints``' body, and the form's own errors."""
    errors = FormErrors()
    privacy = form.get("privacy") or "open"
    if privacy not in PRIVACY:
        errors.add("privacy", _("Choose one of the three."))
    body = {
        "category": text(form, "category"),
        "description": form.get("description") or None,
        "contact_name": text(form, "contact_name"),
        "contact_phone": text(form, "contact_phone"),
        "contact_email": text(form, "contact_email"),
        "village_id": whole(form, "village_id", errors, _("Choose a village from the list.")),
        "latitude": decimal(form, "latitude", errors, _("A number, such as -8.3541.")),
        "longitude": decimal(form, "longitude", errors, _("A number, such as 114.1672.")),
        "address": text(form, "address"),
        "media_url": text(form, "media_url"),
        "anonymous": privacy == "anonymous",
        "confidential": privacy == "confidential",
    }
    if (body["latitude"] is None) != (body["longitude"] is None) and "latitude" not in errors \
            and "longitude" not in errors:
        errors.add("latitude", _("Give both numbers of the place, or neither."))
    elderly = {name: text(form, f"elderly_{name}") for name in ELDERLY}
    if any(elderly.values()):
        if body["category"] != "unreached_elderly":
            errors.add("elderly_name", _("Only for a report of an elderly person nobody brings meals to: choose "
                                         "that above, or clear their details."))
        elif elderly["name"] is None:
            errors.add("elderly_name", _("Fill this in."))
        else:
            body["elderly"] = {"village_id": body["village_id"],
                               **{k: v for k, v in elderly.items() if v is not None}}
    return body, errors


def _form(values: dict, errors: FormErrors | None = None, status: int = 200):
    return render_template("public_complaint_form.html", values=values, errors=errors or FormErrors(),
                           categories=[(c, CATEGORY_WORDS[c]) for c in CATEGORIES], villages=_villages(),
                           choice=region_choice()), status


@public.route("/pengaduan", methods=["GET", "POST"])
@filing
def complaint_form():
    """File a complaint, as ``POST /api/v1/complaints``; then read its tracking code."""
    if request.method == "GET":
        return _form({"privacy": "open"})
    values = {name: request.form.get(name, "") for name in FIELDS}
    body, errors = _body(request.form)
    data = load(ComplaintIn(), body, errors, RENAME)  # every message at once, the form's and the schema's
    if data is None or errors:
        return _form(values, errors, 422)
    try:
        complaint = complaints.file_complaint(**data)
    except Invalid as exc:
        db.session.rollback()
        errors.update_from(exc.errors, RENAME)
        return _form(values, errors, 422)
    db.session.commit()
    session["filed_code"] = complaint.code
    return redirect(url_for("public.filed"), code=303)


@public.route("/pengaduan/terkirim")
def filed():
    """The code of the complaint just filed, big enough to write down."""
    code = session.get("filed_code")
    if not isinstance(code, str):
        return redirect(url_for("public.complaint_form"), code=303)
    return render_template("public_filed.html", complaint=complaints.read_by_code(code),
                           status_words=STATUS_WORDS, category_words=CATEGORY_WORDS)


def _unknown_code():
    return render_template("message.html", title=_("Not found"),
                           message=_("No complaint has this code. Check it and type it again."),
                           back=url_for("public.complaint_form")), 404


@public.route("/pengaduan/lacak")
@guesses
def track():
    """The form's typed code: to its page (a code that cannot be one is the same 404 as an unknown one)."""
    typed = request.args.get("code", "")
    code = complaints.normal_code(typed) if typed.strip() else None
    if code is None:
        return _unknown_code()
    return redirect(url_for("public.complaint", code=code), code=303)


def _complaint_page(code: str, values: dict | None = None, errors: FormErrors | None = None, status: int = 200):
    try:
        shown = complaints.read_by_code(code)
    except NotFound:
        return _unknown_code()
    return render_template("public_complaint.html", complaint=shown, status_words=STATUS_WORDS,
                           category_words=CATEGORY_WORDS, action_words=ACTION_WORDS, reject_words=REJECT_WORDS,
                           values=values or {}, errors=errors or FormErrors()), status


@public.route("/pengaduan/<code>")
@lookups
@guesses
def complaint(code: str):
    """A complaint as its code shows it to the public (``GET /api/v1/complaints/{code}``)."""
    return _complaint_page(code)


@public.route("/pengaduan/<code>/buka-lagi", methods=["POST"])
@lookups
@guesses
def reopen(code: str):
    """The answer does not settle it: reopen the complaint once (``POST /api/v1/complaints/{code}/reopen``)."""
    values = {"reason": request.form.get("reason", "")}
    errors = FormErrors()
    data = load(ReopenIn(), {"reason": values["reason"] or None}, errors)
    if data is None:
        return _complaint_page(code, values, errors, 422)
    try:
        shown = complaints.reopen(code, data["reason"])
    except NotFound:
        db.session.rollback()
        return _unknown_code()
    except InvalidTransition as exc:
        db.session.rollback()
        errors.add("reason", exc.detail)
        return _complaint_page(code, values, errors, 409)
    db.session.commit()
    return redirect(url_for("public.complaint", code=shown.code), code=303)


@public.route("/statistik")
def statistics():
    """The program in figures, as ``GET /api/v1/public/stats`` gives them (counts of 1 to 4 people
    and those withheld so as not to tell them, said in words)."""
    return render_template("public_statistics.html", stats=PublicStatsOut().dump(stats.public_stats()),
                           choice=region_choice())
