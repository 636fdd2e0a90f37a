"""The API's documentation page: Swagger UI, served from the copy the flask-swagger-ui package
ships, never from a CDN (a kabupaten office without internet still has its docs), under a strict
Content-Security-Policy: the page has no inline script, and ``docs.js`` starts the UI on the
document at ``/api/v1/openapi.json``. flask-swagger-ui's own blueprint is not used (its page
starts the UI with an inline script); flask-smorest's Swagger UI route is off for the same reason.
"""
from __future__ import annotations

import os

import flask_swagger_ui
from flask import Blueprint, current_app, send_from_directory, url_for
from markupsafe import escape

SWAGGER_UI = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")
OWN = os.path.join(os.path.dirname(__file__), "static")
ASSET_MAX_AGE = 24 * 3600

docs = Blueprint("docs", __name__, url_prefix="/api/v1/docs")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="referrer" content="no-referrer">
  <title>{title}</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
  <div id="swagger-ui" data-spec="{spec}"></div>
  <script src="{bundle}"></script>
  <script src="{start}"></script>
</body>
</html>
"""


@docs.get("")
def page():
    """The browsable documentation of the API."""
    asset = lambda name: url_for("docs.asset", name=name)  # noqa: E731
    html = PAGE.format(title=escape(current_app.config["API_TITLE"]), css=asset("swagger-ui.css"),
                       icon=asset("favicon-32x32.png"), spec=url_for("api-docs.openapi_json"),
                       bundle=asset("swagger-ui-bundle.js"), start=asset("docs.js"))
    return current_app.response_class(html, mimetype="text/html")


@docs.get("/assets/<path:name>")
def asset(name: str):
    """Swagger UI's files, and the script that starts it."""
    folder = OWN if name == "docs.js" else SWAGGER_UI
    return send_from_directory(folder, name, max_age=ASSET_MAX_AGE)
