"""Errors as problem+json (RFC 9457): the one place that decides what each domain error, database
error and HTTP error means on the wire. The service raises domain errors and knows nothing of HTTP."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from schemas.common import flat_messages
from service.database import unavailable
from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unauthenticated,
    UnsupportedMedia,
)
from service.extensions import db
from service.i18n import _l, render

log = logging.getLogger(__name__)
errors = Blueprint("errors", __name__)

STATUS = {Malformed: 400, NotFound: 404, Conflict: 409, PreconditionFailed: 412, Invalid: 422, Unauthenticated: 401,
          Forbidden: 403, TooLarge: 413, UnsupportedMedia: 415}
# Titles and details are put into words in the request's language (blueprints/language.py) when the
# answer is written; ``type``, ``status`` and the field names of ``errors`` are the same in every language.
TITLES = {400: _l("Bad Request"), 401: _l("Unauthorized"), 403: _l("Forbidden"), 404: _l("Not Found"),
          405: _l("Method Not Allowed"), 409: _l("Conflict"), 412: _l("Precondition Failed"),
          413: _l("Content Too Large"), 415: _l("Unsupported Media Type"), 422: _l("Unprocessable Content"),
          429: _l("Too Many Requests"), 500: _l("Internal Server Error"), 503: _l("Service Unavailable")}
# What werkzeug says of an HTTP error it raises itself (a route that does not exist, a method it
# does not take), in words of ours.
DESCRIPTIONS = {
    400: _l("The request cannot be read."),
    404: _l("The requested URL was not found on the server. If you entered the URL manually please check your "
            "spelling and try again."),
    405: _l("The method is not allowed for the requested URL."),
    413: _l("The data value transmitted exceeds the capacity limit."),
    415: _l("The server does not support the media type transmitted in the request."),
    429: _l("Too many requests: retry later."),
}
# Set by the tests (TESTING only): called with every problem's body, its messages still lazy.
RECORDERS: list[Callable[[dict[str, Any]], None]] = []


def problem(status: int, detail: Any, type_: str = "about:blank", headers: Any = None, **extra: Any):
    body = {"type": type_, "title": TITLES.get(status, _l("Error")), "status": status, "detail": detail, **extra}
    if RECORDERS and current_app.testing:
        for record in RECORDERS:
            record(body)
    response = jsonify(render(body))
    response.status_code = status
    response.mimetype = "application/problem+json"
    if headers:
        response.headers.extend(headers)
    return response


@errors.app_errorhandler(HTTPException)
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
            return problem(400, _l("The request body is not valid JSON."), errors=errors)
        return problem(status, _l("Some fields are not valid: see errors."), errors=errors)
    detail = exc.description
    item = getattr(getattr(exc, "limit", None), "limit", None)  # flask-limiter's rate: "5 per 1 minute"
    if status == 500:
        detail = _l("Something went wrong on our side; it has been logged.")
    elif status == 429 and item is not None:
        detail = _l("At most %(amount)s requests in %(seconds)s seconds: retry later.",
                    amount=item.amount, seconds=item.get_expiry())
    elif status in DESCRIPTIONS and detail == type(exc).description:  # werkzeug's own words
        detail = DESCRIPTIONS[status]
    return problem(status, detail, headers=headers)


@errors.app_errorhandler(DomainError)
def handle_domain_error(exc: DomainError):
    db.session.rollback()
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    extra = dict(exc.extra)
    if isinstance(exc, Invalid):
        extra["errors"] = exc.errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, exc.detail, type_=f"urn:rantang:problem:{exc.code}", headers=headers, **extra)


@errors.app_errorhandler(IntegrityError)
def handle_integrity_error(exc: IntegrityError):
    """Two requests racing for the same unique value: the loser gets a clean 409."""
    db.session.rollback()
    log.info("integrity error: %s", exc.orig)
    return problem(409, _l("The request conflicts with data stored meanwhile; read it again and retry."),
                   type_="urn:rantang:problem:conflict")


@errors.app_errorhandler(DBAPIError)
@errors.app_errorhandler(PoolTimeout)
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
        return problem(500, _l("Something went wrong on our side; it has been logged."))
    log.warning("database unavailable: %s", getattr(exc, "orig", exc))
    retry_after = str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])
    return problem(503, _l("The database is not reachable just now; retry in a few seconds."),
                   type_="urn:rantang:problem:unavailable", headers={"Retry-After": retry_after})


@errors.app_errorhandler(StaleDataError)
def handle_stale_data(exc: StaleDataError):
    db.session.rollback()
    return problem(412, _l("The object was changed by someone else meanwhile; read it again and retry."),
                   type_="urn:rantang:problem:version-mismatch")
