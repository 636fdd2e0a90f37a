"""Helpers the handlers read a request or shape an answer with."""
from __future__ import annotations

import json
from typing import Any

from flask import request

from service.errors import Invalid


def json_list(what: str) -> list:
    """The request's body as a JSON list (of ``what``), or a 422 that says what is wrong with it:
    for bulk endpoints, which report on each item rather than refuse the whole body."""
    try:
        items = json.loads(request.get_data())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid({"_body": ["is not valid JSON"]}) from None
    if not isinstance(items, list):
        raise Invalid({"_body": [f"must be a JSON list of {what}"]})
    return items


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
    if not digits.isdigit():
        raise Invalid({"If-Match": ["must be the object's version, such as \"3\""]})
    return int(digits)
