"""HTTP: parse with schemas, call one service function, commit once, dump.

``create_web_app`` is the service's app with its HTTP layer: the session interface, the client's
address behind trusted proxies, the rate limits, the OpenAPI document and the blueprints. The
plain blueprints come first: ``openapi`` documents the API blueprints as they are registered;
``caller``, ``errors`` and ``headers`` act on every request.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask_smorest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from blueprints.agencies import blp as agencies
from blueprints.audit import blp as audit
from blueprints.auth import blp as auth
from blueprints.caller import caller
from blueprints.complaints import blp as complaints
from blueprints.deliveries import blp as deliveries
from blueprints.docs import docs
from blueprints.errors import errors
from blueprints.extensions import CONVERTERS, api, limiter
from blueprints.headers import headers
from blueprints.language import refresh_language, select_language
from blueprints.open311 import blp as open311
from blueprints.openapi import openapi
from blueprints.pages import csrf, pages
from blueprints.pages.dasbor import dasbor
from blueprints.pages.meals import meals
from blueprints.pages.public import public
from blueprints.pages.relawan import relawan
from blueprints.program import blp as program
from blueprints.recipients import blp as recipients
from blueprints.tasks import blp as tasks
from blueprints.vendors import blp as vendors
from blueprints.volunteers import blp as volunteers
from service.app import create_app

BLUEPRINTS = [openapi, caller, errors, headers, docs, auth, program, agencies, recipients, vendors, deliveries,
              tasks, volunteers, complaints, open311, audit, pages, meals, public, relawan, dasbor]


class PagesOnlySession(SecureCookieSessionInterface):
    """The API's callers identify with bearer tokens: no API request reads or writes a cookie
    session, so none is built there (Flask's signs and parses one for every request, a few percent
    of a confirmation's time), and writing to ``flask.session`` fails loudly. The pages
    (``blueprints/pages``) keep their sign-in and CSRF secret in Flask's signed cookie session."""

    def open_session(self, app: Flask, request) -> SessionMixin | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        if self.is_null_session(session):
            return None
        return super().save_session(app, session, response)


def create_web_app(config: Mapping[str, Any] | None = None, blueprints=None) -> Flask:
    """The service's app, served over HTTP (``blueprints``: these instead of ``BLUEPRINTS``)."""
    app = create_app(config)
    app.session_interface = PagesOnlySession()
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["ENV"] == "production"
    app.extensions["babel"].locale_selector = select_language
    # Each request chooses its language anew (Flask-Babel keeps the choice in the app context, which
    # outlives a request where the context is pushed around several, as in the CLI and the tests).
    app.before_request(refresh_language)
    Compress(app)
    csrf.init_app(app)
    app.url_map.converters.update(CONVERTERS)
    configure_proxies(app)
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={
        "info": {"description": "Rantang: one meal program run by several agencies. See README."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    for blueprint in BLUEPRINTS if blueprints is None else blueprints:
        if isinstance(blueprint, flask_smorest.Blueprint):
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)
    return app


def configure_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` proxies the client's address (which rate limits count by) and
    scheme come from their X-Forwarded-For and -Proto; with none, those headers are ignored."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
