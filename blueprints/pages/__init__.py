"""Pages: the second face of the service, beside the API, for the people who do the work on a
cheap phone (a warung owner, a volunteer, a neighbour). Same service functions, same Scope; words
in the reader's language (Bahasa Indonesia first); plain HTML forms that work without JavaScript,
made better by it (``static/app.js``: an offline queue).

``pages`` holds what every page shares: sign-in and sign-out with a cookie session, the language
switch, the hashed static files, the service worker, and how errors read on a page. Each audience
has its own blueprint beside it (``warung``, ``relawan``, ``public``); each route is in the one
permission table (``blueprints/access.py``) like the API's.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect

from blueprints.auth import account, account_here, signs_in_here
from blueprints.errors import STATUS
from blueprints.extensions import limiter
from blueprints.pages import assets
from service.accounts import service as accounts
from service.db import one_region
from service.errors import DomainError, Invalid, Unauthenticated
from service.extensions import db
from service.i18n import LANGUAGES, _, language
from service.program import regions

csrf = CSRFProtect()
TEMPLATES = "templates"
pages = Blueprint("pages", __name__, template_folder=TEMPLATES)

# What a page may load and do: its own scripts, styles and pictures, nothing inline, no other host.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                           "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")


def wants_json() -> bool:
    """A page's own script asks for JSON (the offline queue); a plain form wants a page."""
    return request.accept_mimetypes.best == "application/json"


def safe_next(target: str | None, default: str) -> str:
    """Where to go after signing in: a path of this site only, never another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# The public's doors of a regency (``?region=35.09``, as on the API): their forms and links keep
# the region the page was opened for, so that a complaint or a sign-up lands where it was meant.
# So do the dashboard's links for staff of several regions who narrowed it to one (``region=None``
# in ``url_for`` leaves it: back to all of theirs).
KEEPS_REGION = frozenset({"public.complaint_form", "public.statistics", "relawan.sign_up"})


@pages.app_url_defaults
def _keep_region(endpoint: str, values: dict) -> None:
    if (endpoint in KEEPS_REGION or endpoint.startswith("dasbor.")) and "region" not in values \
            and has_request_context():
        code = request.args.get("region")
        if code:  # checked already: an unknown region answers 404 before any page (caller._public_region)
            values["region"] = code


def region_choice() -> dict:
    """For a public door's page: the regions to choose from (none while the program has one; for
    staff signed in, theirs) and the one the page is for."""
    choices = regions.visible(everywhere=g.caller is None)
    return {"regions": choices if len(choices) > 1 else [], "now": one_region(db.session)}


def home_of(caller) -> str:
    if caller is None:
        return url_for("pages.sign_in")
    if caller.role == "vendor":
        return url_for("meals.stall_day")
    if caller.role == "volunteer":
        return url_for("relawan.home")
    if caller.role in ("coordinator", "agency"):
        return url_for("dasbor.overview")
    return url_for("public.statistics")


def setup(blueprint: Blueprint) -> None:
    """What every pages' blueprint does: CSRF on every form, the pages' policy and caching, and
    errors as pages (or, for the page's own script, as problem+json)."""

    @blueprint.before_request
    def _protect() -> None:
        if request.method == "POST":
            csrf.protect()

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Content-Language", str(language()))
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response

    @blueprint.errorhandler(Unauthenticated)
    def _sign_in_first(exc):
        session.pop("token", None)
        if wants_json():
            return {"title": _("Sign in again"), "detail": _("Your session has ended: sign in again."),
                    "status": 401}, 401
        if request.method == "GET":
            back = request.full_path.rstrip("?")
        else:  # a form sent after the session ended: back to its page once signed in (then send it again)
            back = safe_next(request.form.get("next_page"), "") or None
        return redirect(url_for("pages.sign_in", next=back), code=303)

    @blueprint.errorhandler(CSRFError)
    def _stale_form(exc):
        message = _("The form is out of date: open the page again and send it once more.")
        if wants_json():
            return {"title": _("Form out of date"), "detail": message, "status": 400, "code": "csrf"}, 400
        return render_template("message.html", title=_("Form out of date"), message=message), 400

    @blueprint.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        db.session.rollback()
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        detail = str(exc.detail)
        if wants_json():
            return {"title": _("Not done"), "detail": detail, "status": status, "code": exc.code}, status
        title = {404: _("Not found"), 403: _("Not for this account"), 422: _("Please check")}.get(status, _("Not done"))
        return render_template("message.html", title=title, message=detail), status


setup(pages)


@pages.app_errorhandler(404)
@pages.app_errorhandler(405)
@pages.app_errorhandler(429)
def _http_error_as_page(exc):
    """A path that is no page, a method it does not take, too many tries (signing in): on the
    pages, a page in the reader's language; on the API, problem+json as always."""
    from blueprints.errors import handle_http_exception

    if request.path.startswith("/api/") or wants_json():
        return handle_http_exception(exc)
    title, message = {
        404: (_("Not found"), _("There is no such page.")),
        405: (_("Not done"), _("This page cannot be sent that way.")),
        429: (_("Too many tries"), _("Too many tries in a short time: wait a few minutes, then try again.")),
    }[exc.code]
    response = current_app.make_response((render_template("message.html", title=title, message=message),
                                          exc.code))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    for name in ("Allow", "Retry-After"):
        if value := exc.get_response().headers.get(name):
            response.headers[name] = value
    return response


@pages.app_context_processor
def _globals():
    return {"asset": assets.asset_url, "caller": g.get("caller"), "language": language(),
            "languages": LANGUAGES, "home": home_of(g.get("caller"))}


@pages.route("/static/<hashed>")
def asset(hashed: str):
    return assets.serve(hashed)


@pages.route("/sw.js")
def service_worker():
    """The service worker, at the site's root so that it may serve every page; never cached for long,
    so that a new version is found on the next visit."""
    response = assets.serve(assets.NAMES["sw.js"])
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@pages.route("/")
def index():
    return redirect(home_of(g.caller), code=303)


def _login() -> str:
    return request.form.get("login", "") if request.method == "POST" else ""


def _refused(response) -> bool:
    return response.status_code in (401, 422)


def _config(key: str):
    return lambda: current_app.config[key]


@pages.route("/masuk", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_AUTH"), methods=["POST"])
@limiter.limit(_config("RATELIMIT_AUTH_ACCOUNT"), key_func=account_here, deduct_when=_refused, methods=["POST"])
@limiter.limit(_config("RATELIMIT_AUTH_ACCOUNT_ANYWHERE"), key_func=account, deduct_when=_refused,
               exempt_when=signs_in_here, methods=["POST"])
def sign_in():
    """Sign in with an email or a phone and the password: the same checks, limits and timing as
    ``POST /api/v1/auth/token``; the token is kept in the signed, HttpOnly session cookie."""
    target = safe_next(request.values.get("next"), "")
    if request.method == "GET":
        if g.caller is not None:
            return redirect(target or home_of(g.caller), code=303)
        return render_template("sign_in.html", next=target, login="")
    login, password = _login().strip(), request.form.get("password", "")
    if not login or not password or len(login) > 254 or len(password) > 200:
        return render_template("sign_in.html", next=target, login=login[:254],
                               error=_("Fill in your email or phone and your password.")), 422
    try:
        token, api_token = accounts.issue_token(login, password, address=get_remote_address())
    except Unauthenticated:
        db.session.rollback()
        return render_template("sign_in.html", next=target, login=login,
                               error=_("Wrong email, phone or password.")), 401
    db.session.commit()
    language = api_token.user.language or session.get("language")
    session.clear()  # a new session on sign-in: nothing from before carries over (session fixation)
    session.permanent = True
    session["token"] = token
    if language:
        session["language"] = language
    caller = accounts.authenticate(token)
    return redirect(target or home_of(caller), code=303)


@pages.route("/keluar", methods=["POST"])
def sign_out():
    """Sign out: the session's token is revoked on the server, not only forgotten by the browser."""
    if g.caller is not None and g.caller.token_id is not None:
        accounts.revoke_token(g.caller.token_id)
        db.session.commit()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    return redirect(url_for("pages.sign_in"), code=303)


@pages.route("/bahasa", methods=["POST"])
def choose_language():
    """Switch the pages' language; a signed-in user's choice is kept on their account (as PATCH /me)."""
    language = request.form.get("language")
    if language not in LANGUAGES:
        raise Invalid({"language": [_("Choose a language from the list.")]})
    session["language"] = language
    if g.caller is not None and g.caller.user_id is not None:
        accounts.set_language(g.caller.user_id, language)
        db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("pages.index")), code=303)
