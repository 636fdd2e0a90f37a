"""The OpenAPI document's additions: each operation's ``operationId`` and permission, from the one
permission table, the ``Idempotency-Key`` header of the writes that honour it, and the errors each
operation can answer, as problem+json."""
from __future__ import annotations

import http

from apispec import BasePlugin
from flask import Blueprint
from flask_limiter.util import get_qualified_name

from blueprints import access
from blueprints.extensions import PROBLEM, api, limiter

openapi = Blueprint("openapi", __name__)

IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Any string of 1 to 255 characters. A retry with the same key and body gets the first "
                   "answer again (header `Idempotent-Replayed: true`) and changes nothing; the same key with "
                   "another body is a 409. Keys are kept at least 72 hours.",
}


REGION_PARAMETER = {
    "in": "query", "name": "region", "required": False,
    "schema": {"type": "string", "pattern": r"^\d{2}\.\d{2}$"},
    "description": "The region (regency or city) to work in, by its code (35.10). Staff of one region work in "
                   "theirs without it; staff of several narrow their lists and figures to one, and name the "
                   "region a new row is for; the public chooses a region's door (the default region without "
                   "it). A region the caller does not reach answers 404, as one that does not exist.",
}
WRITES = ("post", "put", "patch", "delete")
PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def operation_id(endpoint: str, method: str, methods: int) -> str:
    """An operation's ``operationId``: its view's name (``complaints.get_complaint`` ->
    ``get_complaint``), which generated clients name their functions by. Stable as long as the view
    keeps its name, which is its endpoint in the permission table too; unique across the API (a
    test holds it so: a second view of the same name in another blueprint is to be renamed).
    A view serving several methods would be told apart by the method."""
    name = endpoint.rpartition(".")[2]
    return name if methods == 1 else f"{method}_{name}"


def error_statuses(operation: dict, method: str, in_path: bool, rule: str | frozenset, idempotent: bool,
                   limited: bool) -> set[int]:
    """The statuses an operation can answer besides those its handler declares, from how the
    request reaches it: the token and the permission table (401, 403), ids in the path (404), a
    body (400 malformed, 413 too large, 415 of another type, 422 invalid), a query (422), an
    ``Idempotency-Key`` or a write racing another for a unique value (409), a rate limit (429),
    the database out of reach (503)."""
    statuses = {503}
    parameters = operation.get("parameters", [])
    if rule != access.PUBLIC:
        statuses.add(401)
        if rule != access.ANY_USER:
            statuses.add(403)
    if in_path or any(p.get("name") == "region" for p in parameters):
        statuses.add(404)
    if any(p.get("in") == "query" for p in parameters):
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    if idempotent or (method in WRITES and rule != access.PUBLIC):
        statuses.add(409)
    if limited:
        statuses.add(429)
    return statuses


class PermissionsPlugin(BasePlugin):
    """Writes each operation's ``operationId`` and its permission from the table into the OpenAPI
    document, the ``Idempotency-Key`` header of the writes that honour it, and the errors it can
    answer."""

    def __init__(self, app) -> None:
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or operations is None:
            return
        view = self.app.view_functions.get(rule.endpoint)
        idempotent = getattr(view, "_idempotent", False)
        # Flask-Limiter marks the views it limits by their qualified name (as it checks them).
        limited = view is not None and get_qualified_name(view) in limiter._marked_for_limiting
        allowed = access.allowed(rule.endpoint)
        for method, operation in operations.items():
            operation["operationId"] = operation_id(rule.endpoint, method, len(operations))
            if idempotent:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
            if path.startswith("/api/"):
                operation.setdefault("parameters", []).append(REGION_PARAMETER)
            note = access.describe(rule.endpoint)
            operation["description"] = f"{operation.get('description', '')}\n\n**{note}**".strip()
            if allowed == access.PUBLIC:
                operation["security"] = []
            # flask-smorest keys responses by int, apispec by str: one key per status.
            responses = {str(status): response for status, response in operation.get("responses", {}).items()}
            for status in error_statuses(operation, method, bool(rule.arguments), allowed, idempotent, limited):
                responses.setdefault(str(status), http.HTTPStatus(status).name)
            for status, response in responses.items():
                if int(status) >= 400 and isinstance(response, dict):  # declared by alt_response
                    response["content"] = PROBLEM_CONTENT
            operation["responses"] = responses


@openapi.record_once
def _document(state) -> None:
    spec = api.spec
    plugin = PermissionsPlugin(state.app)
    plugin.init_spec(spec)
    spec.plugins.append(plugin)
