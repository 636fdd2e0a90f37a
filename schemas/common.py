from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from service.text import PHONE_ERROR, PHONE_PATTERN

MAX_PER_PAGE = 500


class BodySchema(Schema):
    """A request body: an unknown field is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """Query arguments: unknown ones (cache busters, tracking) are ignored."""

    class Meta:
        unknown = EXCLUDE


class PageArgs(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def Int(**kwargs) -> fields.Integer:
    """An integer in a JSON body: ``"5"`` is not 5."""
    return fields.Integer(strict=True, **kwargs)


def Bool(**kwargs) -> fields.Boolean:
    """A JSON boolean: only true and false."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def Text(max_length: int, required: bool = False, **kwargs) -> fields.String:
    """A string of 1 to ``max_length`` characters once trimmed of white space."""
    return fields.String(
        required=required, validate=validate.Length(min=1, max=max_length), **kwargs
    )


def Phone(**kwargs) -> fields.String:
    """A phone number as people write it: +62 812-3456-7890, 0812 3456 7890 (the rule the import
    applies too: ``service/text.py``)."""
    return fields.String(validate=validate.Regexp(PHONE_PATTERN, error=PHONE_ERROR), **kwargs)


_pages: dict[type, type] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope ``{items, page, per_page, total}`` around ``item``."""
    if item not in _pages:
        name = item.__name__.removesuffix("Schema").removesuffix("Out") + "Page"
        _pages[item] = Schema.from_dict(
            {
                "items": fields.List(fields.Nested(item)),
                "page": fields.Integer(),
                "per_page": fields.Integer(),
                "total": fields.Integer(),
            },
            name=name,
        )
    return _pages[item]


class ProblemSchema(Schema):
    """An error, as RFC 9457 problem details."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Content"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "For validation errors: messages by field."},
    )
    existing_id = fields.Integer(metadata={"description": "For duplicates: the id already stored."})


def flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's (and webargs') nested messages, ``{"a": {"0": ["msg"]}}``, as problem+json's
    ``errors``: ``{"a.0": ["msg"]}``."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_body": messages}
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(flat_messages(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "_body": [str(messages)]}
