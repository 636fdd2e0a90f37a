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
from flask.sessions import SessionInterface, SessionMixin
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
from blueprints.open311 import blp as open311
from blueprints.openapi import openapi
from blueprints.program import blp as program
from blueprints.recipients import blp as recipients
from blueprints.tasks import blp as tasks
from blueprints.vendors import blp as vendors
from blueprints.volunteers import blp as volunteers
from service.app import create_app

BLUEPRINTS = [openapi, caller, errors, headers, docs, auth, program, agencies, recipients, vendors, deliveries,
              tasks, volunteers, complaints, open311, audit]


class NoCookieSession(SessionInterface):
    """Callers identify with bearer tokens: no request reads or writes a cookie session, so none
    is built (Flask's default signs and parses one for every request, a few percent of a
    confirmation's time). Writing to ``flask.session`` fails loudly."""

    def open_session(self, app: Flask, request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        return None


def create_web_app(config: Mapping[str, Any] | None = None, blueprints=None) -> Flask:
    """The service's app, served over HTTP (``blueprints``: these instead of ``BLUEPRINTS``)."""
    app = create_app(config)
    app.session_interface = NoCookieSession()
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
