"""The application factory. It reads like a table of contents; the blueprints come from outside."""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

import flask_smorest
from flask import Blueprint, Flask
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import DEFAULT_SECRET_KEY, Config
from service import models  # noqa: F401  (every model on the metadata, for Alembic)
from service import wiring
from service.extensions import api, db, limiter, migrate


class NoCookieSession(SessionInterface):
    """Callers identify with bearer tokens: no request reads or writes a cookie session, so none
    is built (Flask's default signs and parses one for every request, a few percent of a
    confirmation's time). Writing to ``flask.session`` fails loudly."""

    def open_session(self, app: Flask, request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:
        return None


def create_app(config: Mapping[str, Any] | None = None, blueprints: Iterable[Blueprint] = ()) -> Flask:
    app = Flask("service", instance_relative_config=True, static_folder=None)
    app.session_interface = NoCookieSession()
    configure_settings(app, config)
    configure_proxies(app)
    configure_database(app)
    configure_extensions(app)
    register_blueprints(app, blueprints)
    register_cli(app)
    wiring.wire()
    return app


def configure_settings(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Class defaults, then ``instance/config.py``, then ``RANTANG_*`` variables, then ``config``."""
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("RANTANG")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        os.makedirs(app.instance_path, exist_ok=True)
        uri = f"sqlite:///{os.path.join(app.instance_path, 'rantang.db')}"
    for plain in ("postgres://", "postgresql://"):  # the usual URL form means psycopg 3 here
        if uri.startswith(plain):
            uri = "postgresql+psycopg://" + uri[len(plain):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if app.config["ENV"] == "production" and app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("RANTANG_SECRET_KEY must be set to a secret value in production")


def configure_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` proxies the client's address (which rate limits count by) and
    scheme come from their X-Forwarded-For and -Proto; with none, those headers are ignored."""
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def configure_database(app: Flask) -> None:
    """Connections as ``service.database`` holds them (its listeners: SQLite's transactions, stale
    pooled connections replaced at checkout)."""
    from service import database  # noqa: F401  (registers the connection listeners)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file database makes a second writer wait for the first, not fail at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "connect_args": {"timeout": app.config["SQLITE_BUSY_TIMEOUT"]},
        }


def configure_extensions(app: Flask) -> None:
    from service.accounts import callers
    from service.recipients import locating

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={
        "info": {"description": "Rantang: one meal program run by several agencies. See README."},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerAuth": []}],
    })
    locating.init_app(app)
    callers.init_app(app, db)


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def register_blueprints(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    for blueprint in blueprints:
        if isinstance(blueprint, flask_smorest.Blueprint):
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from service.accounts.cli import users_cli
    from service.assignments.cli import assignments_cli
    from service.demo.cli import demo_cli
    from service.recipients.cli import recipients_cli
    from service.scheduler.cli import scheduler_cli

    for group in (users_cli, recipients_cli, assignments_cli, scheduler_cli, demo_cli):
        app.cli.add_command(group)
