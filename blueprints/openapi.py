"""The OpenAPI document's additions: each operation's permission, from the one permission table, and
the ``Idempotency-Key`` header of the writes that honour it; errors as problem+json."""
from __future__ import annotations

from apispec import BasePlugin
from flask import Blueprint

from blueprints import access
from blueprints.extensions import api
from schemas.common import ProblemSchema

openapi = Blueprint("openapi", __name__)

IDEMPOTENCY_HEADER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Any string up to 255 characters. A retry with the same key and body gets the first "
                   "answer again (header `Idempotent-Replayed: true`) and changes nothing; the same key with "
                   "another body is a 409. Keys are kept at least 72 hours.",
}


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


@openapi.record_once
def _document(state) -> None:
    spec = api.spec
    plugin = PermissionsPlugin(state.app)
    plugin.init_spec(spec)
    spec.plugins.append(plugin)
    spec.components.schema("Problem", schema=ProblemSchema)
    for response in spec.components.responses.values():
        response["content"] = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
