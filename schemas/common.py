from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel.speaklater import LazyString
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList

from service.db import EARLIEST_DAY, LATEST_DAY, MAX_BIG_ID, MAX_INT
from service.i18n import _l
from service.text import PHONE_ERROR, PHONE_PATTERN, text_error

MAX_PER_PAGE = 500


class BodySchema(Schema):
    """A request body: an unknown field is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """Query arguments: unknown ones (cache busters, tracking) are ignored."""

    class Meta:
        unknown = EXCLUDE


class Integer(fields.Integer):
    """An integer the database's column can hold (``big``: a BIGINT column's): beyond it a 422,
    never a database error; the bound is in the OpenAPI document."""

    def __init__(self, *args, big: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bound = MAX_BIG_ID if big else MAX_INT
        tighter = any(isinstance(v, validate.Range) and v.min is not None and v.max is not None
                      and -bound <= v.min and v.max <= bound for v in self.validators)
        if not tighter:  # a field with its own range within the column's says that one only
            self.validators.append(validate.Range(min=-bound, max=bound))


def Day(*, earliest: dt.date = EARLIEST_DAY, **kwargs) -> fields.Date:
    """A day a record of this program can carry: from ``earliest`` (2000-01-01) to 2099-12-31."""
    return fields.Date(validate=validate.Range(
        min=earliest, max=LATEST_DAY, error=_l("must be from %(earliest)s to %(LATEST_DAY)s",
                                               earliest=earliest, LATEST_DAY=LATEST_DAY)), **kwargs)


def Moment(**kwargs) -> fields.AwareDateTime:
    """A timestamp with its offset, on a day ``Day`` accepts."""
    start = dt.datetime.combine(EARLIEST_DAY, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(LATEST_DAY, dt.time(23, 59, 59), tzinfo=dt.UTC)
    return fields.AwareDateTime(validate=validate.Range(
        min=start, max=end, error=_l("must be from %(EARLIEST_DAY)s to %(LATEST_DAY)s",
                                     EARLIEST_DAY=EARLIEST_DAY, LATEST_DAY=LATEST_DAY)), **kwargs)


class PageArgs(QuerySchema):
    page = Integer(load_default=1, validate=validate.Range(min=1))
    per_page = Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def OneOrMore(choices, description: str = "", **kwargs) -> DelimitedList:
    """A query filter of one value of ``choices`` or several, comma-separated (``status=open,done``)."""
    note = "One or several, comma-separated."
    return DelimitedList(fields.String(validate=validate.OneOf(choices)),
                         validate=validate.Length(min=1, error=_l("give one value or more, or leave the filter out")),
                         metadata={"description": f"{description} {note}".strip()}, **kwargs)


def Int(**kwargs) -> fields.Integer:
    """An integer in a JSON body: ``"5"`` is not 5."""
    return Integer(strict=True, **kwargs)


class _JsonBoolean(fields.Boolean):
    """Only JSON's true and false: not 0 and 1, which equal False and True in Python."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Bool(**kwargs) -> fields.Boolean:
    """A JSON boolean: only true and false."""
    return _JsonBoolean(**kwargs)


def _visible(value: str) -> None:
    if error := text_error(value):
        raise ValidationError(error)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(_l("must not be blank"))


def Text(max_length: int, required: bool = False, **kwargs) -> fields.String:
    """A string of 1 to ``max_length`` characters once trimmed of white space, with nothing
    invisible in it (``service.text.text_error``)."""
    return fields.String(
        required=required, validate=[validate.Length(min=1, max=max_length), _not_blank, _visible], **kwargs
    )


def Note(max_length: int, **kwargs) -> fields.String:
    """Free text of up to ``max_length`` characters (null or empty allowed), with nothing
    invisible in it; tabs and line breaks are kept."""
    return fields.String(allow_none=True, validate=[validate.Length(max=max_length), _visible], **kwargs)


def Prose(min_length: int, max_length: int, **kwargs) -> fields.String:
    """Free text someone must write (``min_length`` to ``max_length`` characters once trimmed),
    with nothing invisible in it; tabs and line breaks are kept."""
    def long_enough(value: str) -> None:
        if len(value.strip()) < min_length:
            raise ValidationError(_l("at least %(min_length)s characters", min_length=min_length))
    return fields.String(validate=[validate.Length(max=max_length), long_enough, _visible], **kwargs)


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
                "page": Integer(),
                "per_page": Integer(),
                "total": Integer(),
            },
            name=name,
        )
    return _pages[item]


class ProblemSchema(Schema):
    """An error, as RFC 9457 problem details."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Content"})
    status = Integer(metadata={"example": 422})
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "For validation errors: messages by field."},
    )
    existing_id = Integer(metadata={"description": "For duplicates: the id already stored."})
    current_status = fields.String(metadata={"description": "For a transition the object's status refuses: "
                                                            "that status."})
    delivery_status = fields.String(metadata={"description": "For a delivery that refuses the action: its status."})
    task_status = fields.String(metadata={"description": "For a task that refuses the action: its status."})
    version = Integer(metadata={"description": "For a stale `If-Match`: the stored version."})
    cause = fields.Dict(metadata={"description": "For a cancelled meal: why, as a code with its parameters."})
    cutoff_at = fields.String(metadata={"description": "For a meal or photo refused after its day's cut-off: when "
                                                       "that day closed, in the program's timezone."})
    local_time = fields.String(metadata={"description": "For a meal or photo refused by the clock: the program's "
                                                        "local time when it was refused."})
    report = fields.Dict(metadata={"description": "For a bulk request none of whose rows was taken: its "
                                                  "report, as a 200 would have given it."})


def flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's (and webargs') nested messages, ``{"a": {"0": ["msg"]}}``, as problem+json's
    ``errors``: ``{"a.0": ["msg"]}``."""
    if isinstance(messages, list) and all(isinstance(m, str | LazyString) for m in messages):
        return {prefix or "_body": messages}
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(flat_messages(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "_body": [messages if isinstance(messages, LazyString) else str(messages)]}
