"""What every request goes through: authentication, the permission table, problem+json errors.

A plain Flask blueprint (registered before the API blueprints) so that the service knows nothing
of HTTP: it raises domain errors, and this module decides what each one means on the wire.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Any

from apispec import BasePlugin
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from blueprints import access
from schemas.common import ProblemSchema, flat_messages
from service.accounts.service import authenticate
from service.database import BEGIN_DEFERRED, unavailable
from service.errors import (Conflict, DomainError, Forbidden, Invalid, NotFound, PreconditionFailed, TooLarge,
                            Unauthenticated, UnsupportedMedia)
from service.extensions import api, db
from service.idempotency import service as idempotency

log = logging.getLogger(__name__)
http = Blueprint("http", __name__)

STATUS = {NotFound: 404, Conflict: 409, PreconditionFailed: 412, Invalid: 422, Unauthenticated: 401,
          Forbidden: 403, TooLarge: 413, UnsupportedMedia: 415}
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
          413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def problem(status: int, detail: str, type_: str = "about:blank", headers: Any = None, **extra: Any):
    body = {"type": type_, "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if headers:
        response.headers.extend(headers)
    return response


@http.app_errorhandler(HTTPException)
def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = dict(exc.get_response().headers) if status in (405, 429) else {}
    headers.pop("Content-Type", None)
    headers.pop("Content-Length", None)
    if "messages" in data:  # webargs: a body or query that does not parse or validate
        errors: dict[str, list[str]] = {}
        for messages in data["messages"].values():  # by location: json, query, files
            errors.update(flat_messages(messages))
        if status == 400:
            return problem(400, "The request body is not valid JSON.", errors=errors)
        return problem(status, "Some fields are not valid: see errors.", errors=errors)
    detail = exc.description if status != 500 else "Something went wrong on our side; it has been logged."
    return problem(status, detail, headers=headers)


@http.app_errorhandler(DomainError)
def handle_domain_error(exc: DomainError):
    db.session.rollback()
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    extra = dict(exc.extra)
    if isinstance(exc, Invalid):
        extra["errors"] = exc.errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, exc.detail, type_=f"urn:rantang:problem:{exc.code}", headers=headers, **extra)


@http.app_errorhandler(IntegrityError)
def handle_integrity_error(exc: IntegrityError):
    """Two requests racing for the same unique value: the loser gets a clean 409."""
    db.session.rollback()
    log.info("integrity error: %s", exc.orig)
    return problem(409, "The request conflicts with data stored meanwhile; read it again and retry.",
                   type_="urn:rantang:problem:conflict")


@http.app_errorhandler(DBAPIError)
@http.app_errorhandler(PoolTimeout)
def handle_database_error(exc: Exception):
    """The database is down, restarting, out of connections or (SQLite) held by a writer too
    long: 503 with Retry-After, so that phones and agencies' systems retry. Any other database
    error is a fault of ours: a 500 that shows nothing of it."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 (the connection is gone: nothing to roll back)
        log.debug("no rollback after a database error", exc_info=True)
    if not unavailable(exc):
        log.exception("database error")
        return problem(500, "Something went wrong on our side; it has been logged.")
    log.warning("database unavailable: %s", getattr(exc, "orig", exc))
    retry_after = str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])
    return problem(503, "The database is not reachable just now; retry in a few seconds.",
                   type_="urn:rantang:problem:unavailable", headers={"Retry-After": retry_after})


@http.app_errorhandler(StaleDataError)
def handle_stale_data(exc: StaleDataError):
    db.session.rollback()
    return problem(412, "The object was changed by someone else meanwhile; read it again and retry.",
                   type_="urn:rantang:problem:version-mismatch")


# The only HTML is the docs page: its scripts and styles come from this origin, and nothing else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


@http.after_app_request
def protect(response):
    """Headers every answer carries: no content sniffing, no referrer; no caching of any answer
    that did not say it may be cached (most carry personal data or a token); a strict policy on
    HTML; HSTS in production (behind TLS)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


@http.before_app_request
def authorize() -> None:
    """Authenticate the bearer token, if any, then apply the permission table."""
    g.caller = None
    if request.endpoint is None or request.method == "OPTIONS":
        return  # routing fails with a 404 or 405 next; OPTIONS is answered by Flask
    if request.method in ("GET", "HEAD") and current_app.config["READS_WITHOUT_TRANSACTION"]:
        reads_only()
    rule = access.allowed(request.endpoint)
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
            g.caller.act_in(db.session)
    if rule == access.PUBLIC:
        return
    if rule is None:
        log.error("route %s has no entry in the permission table: refused", request.endpoint)
        raise Forbidden("this route is not open to anyone")
    if g.caller is None:
        raise Unauthenticated("this route needs a bearer token (POST /api/v1/auth/token)")
    if g.caller.principal not in rule:
        raise Forbidden(f"the {g.caller.principal} role may not do this")


def _caller(header: str):
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the token as 'Authorization: Bearer <token>'")
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


def json_list(what: str) -> list:
    """The request's body as a JSON list (of ``what``), or a 422 that says what is wrong with it:
    for bulk endpoints, which report on each item rather than refuse the whole body."""
    try:
        items = json.loads(request.get_data())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid({"_body": ["is not valid JSON"]}) from None
    if not isinstance(items, list):
        raise Invalid({"_body": [f"must be a JSON list of {what}"]})
    return items


def versioned(resource: Any) -> tuple[Any, dict[str, str]]:
    """An editable resource's answer with its ``ETag`` (the version, weak: the same version may be
    shown in more than one form), which ``If-Match`` takes back."""
    return resource, {"ETag": f'W/"{resource.version}"'}


def if_match() -> int | None:
    """The version a client expects, from ``If-Match: "3"`` (or 3, or W/"3"), or None."""
    value = request.headers.get("If-Match")
    if value is None or value.strip() == "*":  # "*" matches any version
        return None
    digits = value.strip().removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise Invalid({"If-Match": ["must be the object's version, such as \"3\""]})
    return int(digits)


class PermissionsPlugin(BasePlugin):
    """Writes each operation's permission from the table into the OpenAPI document, and the
    ``Idempotency-Key`` header of the writes that honour it."""

    def __init__(self, app) -> None:
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or operations is None:
            return
        view = self.app.view_functions.get(rule.endpoint)
        for operation in operations.values():
            if getattr(view, "_idempotent", False):
                operation.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            note = access.describe(rule.endpoint)
            operation["description"] = f"{operation.get('description', '')}\n\n**{note}**".strip()
            if access.allowed(rule.endpoint) == access.PUBLIC:
                operation["security"] = []


@http.record_once
def _document(state) -> None:
    spec = api.spec
    plugin = PermissionsPlugin(state.app)
    plugin.init_spec(spec)
    spec.plugins.append(plugin)
    spec.components.schema("Problem", schema=ProblemSchema)
    for response in spec.components.responses.values():
        response["content"] = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _replay(stored):
    response = current_app.response_class(stored.body, status=stored.status, content_type=stored.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Any string up to 255 characters. A retry with the same key and body gets the first "
                   "answer again (header `Idempotent-Replayed: true`) and changes nothing; the same key with "
                   "another body is a 409. Keys are kept at least 72 hours.",
}


def _fingerprint() -> str:
    """What makes two requests "the same": method, path, query and body, the body canonicalised (JSON key
    order, a multipart boundary) so that a phone's retry matches its first attempt."""
    query = request.query_string.decode("latin-1")  # ?dry_run=true is another request
    digest = hashlib.sha256(f"{request.method} {request.path}{'?' + query if query else ''}\n".encode())
    if request.mimetype == "multipart/form-data":  # not request.files: that parses any body as a form
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"file {name} {hashlib.sha256(content).hexdigest()}\n".encode())
        digest.update(json.dumps(sorted(request.form.items(multi=True))).encode())
    elif request.is_json and request.get_json(silent=True) is not None:
        digest.update(json.dumps(request.get_json(), sort_keys=True, separators=(",", ":")).encode())
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def idempotent(view):
    """Honour ``Idempotency-Key`` on a write, and commit the request's transaction.

    Views under this decorator do not commit themselves: the first successful answer is stored in
    the same transaction as the write it answers, so a retry can never see the write without the
    answer, nor the answer without the write. The usual request (a new key) costs one INSERT: the
    write is done first, and only if the key turns out to be taken (a retry, or a key reused for
    another request) is it rolled back and the stored answer replayed, or a 409 given.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        key = key.strip()
        if not 0 < len(key) <= 255:
            raise Invalid({"Idempotency-Key": ["must be 1 to 255 characters"]})
        fingerprint = _fingerprint()
        user_id = g.caller.user_id
        try:
            response = view(*args, **kwargs)
        except DomainError:  # the retry of a success may fail now (after the cut-off): replay it
            db.session.rollback()
            stored = idempotency.find(user_id, key, fingerprint)
            if stored is None:
                raise
            return _replay(stored)
        if 200 <= response.status_code < 300 and not idempotency.store(
                user_id, key, fingerprint, response.status_code, response.content_type,
                response.get_data(as_text=True)):
            db.session.rollback()
            return _replay(idempotency.find(user_id, key, fingerprint))
        db.session.commit()
        return response

    wrapper._idempotent = True  # PermissionsPlugin documents the header (a manual "parameters" doc
    # would replace the query arguments' instead of adding to them)
    return wrapper
