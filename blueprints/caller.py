"""Who is calling: every request's bearer token authenticated (or, on a route that needs none,
ignored when stale), the permission table applied, and the caller's scope set for the handler
(``g.caller``) and the audit trail."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, request, session

from blueprints import access
from service.accounts.scope import Scope
from service.accounts.service import authenticate
from service.database import BEGIN_DEFERRED
from service.db import bind, default_region
from service.errors import Forbidden, Unauthenticated
from service.extensions import db
from service.i18n import _l
from service.program import regions
from service.program.models import Region

log = logging.getLogger(__name__)
caller = Blueprint("caller", __name__)


@caller.before_app_request
def authorize() -> None:
    """Authenticate the bearer token, if any, then apply the permission table."""
    g.caller = None
    if request.endpoint is None or request.method == "OPTIONS":
        return  # routing fails with a 404 or 405 next; OPTIONS is answered by Flask
    if request.method in ("GET", "HEAD") and current_app.config["READS_WITHOUT_TRANSACTION"]:
        reads_only()
    _public_region()
    rule = access.allowed(request.endpoint)
    if not request.path.startswith("/api/"):
        return _page_caller(rule)
    header = request.headers.get("Authorization")
    if header:
        try:
            g.caller = _caller(header)
        except Unauthenticated:
            if rule != access.PUBLIC:
                raise
            # A public route ignores a stale or bogus token: an app holding an expired one can
            # still sign in again, read the areas, the documentation.
        else:
            _act(g.caller)
    apply(rule, _l("this route needs a bearer token (POST /api/v1/auth/token)"))


def _public_region() -> None:
    """Until a caller is known the request works in one region: ``region`` if it names one (the
    public's doors of a regency: complaints, volunteer sign-up, statistics), else the default."""
    code = request.args.get("region")
    if code is None:
        bind(db.session, (default_region(),))
    elif not regions.CODE.fullmatch(code) or db.session.get(Region, code) is None:
        raise regions.unknown(code)
    else:
        bind(db.session, (code,))


def _act(caller: Scope) -> None:
    """The caller acts, in the regions they reach; with ``region``, in that one alone (staff of
    several regions narrowing their lists and figures, or naming the region a new row is for).
    A region not theirs answers as one that does not exist."""
    code = request.args.get("region")
    if code is not None:
        narrowed = caller.narrowed(code)
        if narrowed is None:
            raise regions.unknown(code)
        caller = g.caller = narrowed
    caller.act_in(db.session)


def apply(rule, sign_in_first) -> None:
    """The permission table's rule for this request, applied to ``g.caller`` (``sign_in_first``:
    what a caller with no sign-in is told)."""
    if rule == access.PUBLIC:
        return
    if rule is None:
        log.error("route %s has no entry in the permission table: refused", request.endpoint)
        raise Forbidden(_l("this route is not open to anyone"))
    if g.caller is None:
        raise Unauthenticated(sign_in_first)
    if g.caller.principal not in rule:
        raise Forbidden(_l("the %(principal)s role may not do this", principal=g.caller.principal))


def _page_caller(rule) -> None:
    """A page's caller is the one signed in with the pages' form (the token in the signed session
    cookie); a bearer header is not read there, nor the cookie on the API."""
    token = session.get("token")
    if isinstance(token, str) and token:
        try:
            g.caller = authenticate(token)
        except Unauthenticated:
            session.pop("token", None)  # expired or revoked (signed out elsewhere): signed out here too
        else:
            _act(g.caller)
    apply(rule, _l("sign in first"))


def _caller(header: str):
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(_l("send the token as 'Authorization: Bearer <token>'"))
    return authenticate(token.strip())


def reads_only() -> None:
    """A read-only request's connection: on PostgreSQL in autocommit, on SQLite without the
    write lock.

    A GET changes nothing, and at READ COMMITTED each statement sees its own snapshot anyway, so
    wrapping it in BEGIN and ROLLBACK buys nothing and costs two round trips, a third of a read's
    time. The pool restores transactions when the connection is returned. On SQLite, whose
    transactions otherwise begin with the write lock (service/database.py), a read runs beside
    the writer instead of waiting for it.
    """
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    elif dialect == "sqlite":
        db.session.connection(execution_options={BEGIN_DEFERRED: True})
