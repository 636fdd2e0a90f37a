"""The domain's application factory: settings, the database, the domain's extensions, the CLI and
the wiring of the areas. It reads like a table of contents. The HTTP layer (blueprints, the OpenAPI
document, rate limits) is added by ``blueprints.create_web_app``: the service knows nothing of it."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from service import (
    models,  # noqa: F401  (every model on the metadata, for Alembic)
    wiring,
)
from service.config import DEFAULT_SECRET_KEY, Config
from service.extensions import db, migrate


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask("service", instance_relative_config=True, static_folder=None)
    configure_settings(app, config)
    configure_database(app)
    configure_extensions(app)
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
    from service.i18n import babel
    from service.recipients import locating

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    locating.init_app(app)
    callers.init_app(app, db)
    # The CLI and the job runner speak the program's language; a request's is chosen by the HTTP layer.
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["LANGUAGE"]
    babel.init_app(app)


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def register_cli(app: Flask) -> None:
    from service.accounts.cli import users_cli
    from service.accounts.regions_cli import regions_cli
    from service.assignments.cli import assignments_cli
    from service.demo.cli import demo_cli
    from service.recipients.cli import recipients_cli
    from service.scheduler.cli import scheduler_cli

    for group in (regions_cli, users_cli, recipients_cli, assignments_cli, scheduler_cli, demo_cli):
        app.cli.add_command(group)
