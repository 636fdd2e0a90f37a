"""Helpers the handlers read a request or shape an answer with."""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import request
from marshmallow import missing
from webargs.flaskparser import is_json_request
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from service.errors import Invalid, UnsupportedMedia
from service.i18n import _l
from service.text import unstorable

# A \u escape of NUL or of a surrogate: only a body that holds one is searched for what it decodes to.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class MalformedBody(BadRequest):
    """A body that is not JSON this API can read: a 400 that says why."""


# Python's JSON parser's words (json.JSONDecodeError.msg), in the reader's language.
JSON_ERRORS = {
    "Expecting value": _l("Expecting value"),
    "Expecting property name enclosed in double quotes": _l("Expecting property name enclosed in double quotes"),
    "Expecting ':' delimiter": _l("Expecting ':' delimiter"),
    "Expecting ',' delimiter": _l("Expecting ',' delimiter"),
    "Unterminated string starting at": _l("Unterminated string starting at"),
    "Invalid control character at": _l("Invalid control character at"),
    "Invalid \\escape": _l("Invalid \\escape"),
    "Invalid \\uXXXX escape": _l("Invalid \\uXXXX escape"),
    "Extra data": _l("Extra data"),
    "Illegal trailing comma before end of object": _l("Illegal trailing comma before end of object"),
    "Illegal trailing comma before end of array": _l("Illegal trailing comma before end of array"),
}


def load_json(data: bytes) -> Any:
    """A request body parsed as JSON, or ``MalformedBody``: not UTF-8, not JSON, nested too
    deep for the parser, or holding a string no field can store (NUL, a lone surrogate)."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise MalformedBody(_l("The request body is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise MalformedBody(_l("The request body is not valid JSON: %(msg)s at line %(lineno)s, column "
                               "%(colno)s.",
                               msg=JSON_ERRORS.get(exc.msg, exc.msg), lineno=exc.lineno, colno=exc.colno)) from None
    except RecursionError:
        raise MalformedBody(_l("The request body is nested too deeply to read.")) from None
    except ValueError:  # a number of more than 4,300 digits
        raise MalformedBody(_l("The request body holds a number too long to read.")) from None
    if _SUSPECT_ESCAPE.search(text):
        _check_strings(value, "")
    return value


_NO_BODY = object()
_BODY_KEY = "rantang.json_body"


def request_json() -> Any:
    """This request's JSON body (``load_json``), parsed once however many readers ask (the
    arguments parser, the ``Idempotency-Key`` fingerprint, the sign-in's rate limit);
    marshmallow's ``missing`` when there is no body. A malformed body raises ``MalformedBody`` to
    each of them."""
    found = request.environ.get(_BODY_KEY, _NO_BODY)  # the request's own, not the app context's ``g``
    if found is _NO_BODY:
        data = request.get_data(cache=True)
        try:
            found = load_json(data) if data else missing
        except MalformedBody as exc:
            found = exc
        request.environ[_BODY_KEY] = found
    if isinstance(found, MalformedBody):
        raise found
    return found


def _check_strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        if error := unstorable(value):
            raise MalformedBody(_l("The request body's string at %(value)s %(error)s.",
                                   value=where or _l('the top'), error=error))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, where)
            _check_strings(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{where}/{index}")


def form_fields() -> list[tuple[str, str]]:
    """The request's form (``application/x-www-form-urlencoded`` or ``multipart/form-data``) as
    its (name, value) pairs, read strictly, or ``MalformedBody``: a %-escape or a byte that is no
    UTF-8 (werkzeug would keep ``%FF`` as the text "%FF", or put U+FFFD in its place), a field
    given twice (which of the two was meant?), a multipart body that does not parse. A file part
    is refused by its name (422): nothing sent is dropped in silence."""
    data = request.get_data(cache=True)
    if request.mimetype == "multipart/form-data":
        pairs = _multipart_fields(data, parse_options_header(request.headers.get("Content-Type", ""))[1])
    else:
        pairs = []
        for part in data.split(b"&"):
            if part:
                name, _, value = (unquote_to_bytes(piece.replace(b"+", b" ")) for piece in part.partition(b"="))
                pairs.append((_utf8(name, None), _utf8(value, name)))
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise MalformedBody(_l("The form gives the field %(name)s more than once: give each field once.",
                                   name=repr(name)))
        seen.add(name)
    return pairs


def _utf8(raw: bytes, name: bytes | str | None) -> str:
    """A form's name or value (its %-escapes undone) as UTF-8 text, or ``MalformedBody``."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if name is None:
            where = _l("A form field's name")
        else:
            where = _l("The form field %(name)s",
                       name=repr(name if isinstance(name, str) else name.decode('utf-8', 'replace')))
        raise MalformedBody(_l("%(where)s is not UTF-8 text: it holds a %%-escape or a byte that is no "
                               "UTF-8 character.",
                               where=where)) from None


def _multipart_fields(data: bytes, options: dict[str, str]) -> list[tuple[str, str]]:
    boundary = options.get("boundary", "")
    if not boundary:
        raise MalformedBody(_l("The multipart body names no boundary."))
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"))
    decoder.receive_data(data)
    decoder.receive_data(None)
    pairs: list[tuple[str, str]] = []
    field: Field | None = None
    chunks: list[bytes] = []
    try:
        while not isinstance(event := decoder.next_event(), (Epilogue, NeedData)):
            if isinstance(event, File):
                raise Invalid({event.name: [_l("a file is not kept here: give a link to it (media_url)")]})
            if isinstance(event, Field):
                field, chunks = event, []
            elif isinstance(event, Data) and field is not None:
                chunks.append(event.data)
                if not event.more_data:
                    pairs.append((field.name, _utf8(b"".join(chunks), field.name)))
    except ValueError:
        raise MalformedBody(_l("The multipart body cannot be read.")) from None
    if not isinstance(event, Epilogue):
        raise MalformedBody(_l("The multipart body ends before its closing boundary."))
    return pairs


def require_json() -> None:
    """A body sent as something other than JSON (curl's ``-d`` is form data) is a 415 that names
    the type expected, not a request that silently changes nothing."""
    if not is_json_request(request) and (request.content_length or request.headers.get("Content-Type")):
        raise UnsupportedMedia(_l("send the body as application/json (it came as %(value)s)",
                                  value=request.mimetype or _l('no type')))


def json_list(what: Any) -> list:
    """The request's body as a JSON list (of ``what``): a 415 for another type, a 400 for JSON
    that does not parse, a 422 for JSON that is not a list. For bulk endpoints, which report on
    each item rather than refuse the whole body."""
    require_json()
    items = request_json()
    if not isinstance(items, list):
        raise Invalid({"_body": [_l("must be a JSON list of %(what)s", what=what)]})
    return items


def bulk_answer(report: Any, rows: int, schema: Any):
    """A bulk request's answer by what was taken: 200 when every row was, 207 (Multi-Status) when
    some were refused, a 422 problem when every row was refused (``errors`` by "row.field", the
    whole report under ``report``)."""
    from blueprints.errors import problem

    if report.rejected == 0:
        return report, 200
    if report.rejected < rows:
        return report, 207
    errors: dict[str, list[str]] = {}
    for error in report.errors:
        errors.setdefault(f"{error.row}.{error.field}", []).append(error.message)
    detail = (_l("no row was taken: all %(rows)s refused; see errors", rows=rows) if rows > 1
              else _l("no row was taken: the 1 refused; see errors"))
    return problem(422, detail,
                   type_="urn:rantang:problem:rows-refused", errors=errors, report=schema.dump(report))


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
    if not re.fullmatch(r"[0-9]{1,10}", digits):  # ASCII digits: "²" is a digit to str.isdigit
        raise Invalid({"If-Match": [_l("must be the object's version, such as \"3\"")]})
    return int(digits)
