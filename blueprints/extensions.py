"""The HTTP layer's extensions, created once and unbound: the OpenAPI document (flask-smorest) and
the rate limits (Flask-Limiter). ``blueprints.create_web_app`` binds them."""
import http

import flask_smorest
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema
from marshmallow import missing
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter, IntegerConverter

from blueprints.requests import form_fields, request_json, require_json
from schemas.common import ProblemSchema
from service.db import MAX_BIG_ID, MAX_INT
from service.errors import Invalid
from service.i18n import _l
from service.text import unstorable

PROBLEM = "application/problem+json"


class ProblemApi(Api):
    """flask-smorest's Api with errors documented as they are sent: ``application/problem+json``
    with the ``Problem`` schema, under each status an operation can answer (``PermissionsPlugin``
    lists them) and never under a catch-all ``default``."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)


class Parser(FlaskParser):
    """webargs' parser, stricter about what it is given: a JSON body of another type is a 415,
    malformed JSON a 400 that says where (``requests.request_json``), a form that is no UTF-8 or
    gives a field twice a 400 (``requests.form_fields``), and a query value holding a NUL a 422,
    never a database error."""

    def load_json(self, req, schema):
        require_json()
        body = request_json()
        if req.method == "PATCH" and body in (missing, {}):
            raise Invalid({"_body": [_l("send at least one field to change")]})
        return body

    def load_form(self, req, schema):
        return self._makeproxy(MultiDict(form_fields()), schema)

    def load_querystring(self, req, schema):
        errors = {name: [error] for name, value in req.args.items(multi=True) if (error := unstorable(value))}
        for name in req.args:
            if len(req.args.getlist(name)) > 1:
                errors.setdefault(name, []).append(_l("give it once (several values: comma-separated)"))
        if errors:
            raise Invalid(errors)
        return super().load_querystring(req, schema)


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprints: flask-smorest's, with ``Parser``."""

    ARGUMENTS_PARSER = Parser()


class IdConverter(IntegerConverter):
    """``<int:id>`` in a path: an id an INTEGER column can hold, 1 or more. Any other is a 404,
    as an id that does not exist is, never a database error (nor werkzeug's 405 for a path whose
    converter refused it)."""

    regex = r"[0-9]+"  # ASCII digits only: not "٣٠١" nor a fullwidth "１"

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_INT,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        # More digits than the largest id has is no id (and int() refuses beyond 4,300 digits).
        number = int(value) if len(value) <= len(str(self.max)) else None
        if number is None or not self.min <= number <= self.max:
            raise NotFound(_l("no object has the id %(id)s", id=value[:30] + ("..." if len(value) > 30 else "")))
        return number


class BigIdConverter(IdConverter):
    """``<bigid:id>``: an id of a BIGINT column (deliveries)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_BIG_ID,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


class TrackingCodeConverter(BaseConverter):
    """``<code:code>``: a complaint's tracking code as people type it (``RK-7KQ4-9MZP``,
    ``rk7kq49mzp``): any path segment but one of digits alone. A malformed code reaches the
    handler, which answers as for an unknown one (and counts as a guess); digits alone are no code
    but an id, which staff read under ``/complaints/by-id/`` (here they once did): a plain 404,
    not a guess."""

    regex = r"[^/]*[^0-9/][^/]*"


def trackingcode2paramschema(converter) -> dict:
    return {"type": "string", "pattern": "^[Rr][Kk]-?[2-9A-HJ-NP-Za-hj-np-z]{4}-?[2-9A-HJ-NP-Za-hj-np-z]{4}$",
            "example": "RK-7KQ4-9MZP"}


CONVERTERS = {"int": IdConverter, "bigid": BigIdConverter, "code": TrackingCodeConverter}

api = ProblemApi()
for _converter in (IdConverter, BigIdConverter):
    api.register_converter(_converter, integerconverter2paramschema)
api.register_converter(TrackingCodeConverter, trackingcode2paramschema)
limiter = Limiter(key_func=get_remote_address, default_limits=[])
