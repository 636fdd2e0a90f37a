"""marshmallow's and webargs' own messages ("Missing data for required field.", "Unknown field.",
the validators'), made lazy messages of ours (``service.i18n._l``), so that they are read in the
request's language when the answer is written. Imported by ``schemas/__init__.py``, before any
schema is declared (a field takes its messages when it is made)."""
from __future__ import annotations

from marshmallow import fields, validate
from marshmallow.exceptions import ValidationError
from marshmallow.schema import Schema
from webargs import fields as webargs_fields

from service.i18n import Lazy, _l

FIELDS = {
    fields.Field: {"required": _l("Missing data for required field."), "null": _l("Field may not be null."),
                   "validator_failed": _l("Invalid value.")},
    fields.Nested: {"type": _l("Invalid type.")},
    fields.List: {"invalid": _l("Not a valid list.")},
    fields.Tuple: {"invalid": _l("Not a valid tuple.")},
    fields.String: {"invalid": _l("Not a valid string."), "invalid_utf8": _l("Not a valid utf-8 string.")},
    fields.UUID: {"invalid_uuid": _l("Not a valid UUID.")},
    fields.Number: {"invalid": _l("Not a valid number."), "too_large": _l("Number too large.")},
    fields.Integer: {"invalid": _l("Not a valid integer.")},
    fields.Float: {"special": _l("Special numeric values (nan or infinity) are not permitted.")},
    fields.Decimal: {"special": _l("Special numeric values (nan or infinity) are not permitted.")},
    fields.Boolean: {"invalid": _l("Not a valid boolean.")},
    fields.DateTime: {"invalid": _l("Not a valid date and time."),
                      "invalid_awareness": _l("Not a valid date and time with its offset."),
                      "format": _l("\"{input}\" cannot be formatted as a date and time.")},
    fields.NaiveDateTime: {"invalid_awareness": _l("Not a valid date and time without an offset.")},
    fields.AwareDateTime: {"invalid_awareness": _l("Not a valid date and time with its offset.")},
    fields.Date: {"invalid": _l("Not a valid date."), "format": _l("\"{input}\" cannot be formatted as a date.")},
    fields.Time: {"invalid": _l("Not a valid time."), "format": _l("\"{input}\" cannot be formatted as a time.")},
    fields.TimeDelta: {"invalid": _l("Not a valid period of time."),
                       "format": _l("{input!r} cannot be formatted as a timedelta.")},
    fields.Mapping: {"invalid": _l("Not a valid mapping type.")},
    fields.Url: {"invalid": _l("Not a valid URL.")},
    fields.Email: {"invalid": _l("Not a valid email address.")},
    fields.IP: {"invalid_ip": _l("Not a valid IP address.")},
    fields.Enum: {"unknown": _l("Must be one of: {choices}.")},
    webargs_fields.DelimitedList: {"invalid": _l("Not a valid delimited list.")},
    webargs_fields.DelimitedTuple: {"invalid": _l("Not a valid delimited tuple.")},
}
VALIDATORS = {
    validate.URL: {"default_message": _l("Not a valid URL.")},
    validate.Email: {"default_message": _l("Not a valid email address.")},
    validate.Range: {"message_min": _l("Must be {min_op} {{min}}."), "message_max": _l("Must be {max_op} {{max}}."),
                     "message_all": _l("Must be {min_op} {{min}} and {max_op} {{max}}."),
                     "message_gte": _l("greater than or equal to"), "message_gt": _l("greater than"),
                     "message_lte": _l("less than or equal to"), "message_lt": _l("less than")},
    validate.Length: {"message_min": _l("Shorter than minimum length {min}."),
                      "message_max": _l("Longer than maximum length {max}."),
                      "message_all": _l("Length must be between {min} and {max}."),
                      "message_equal": _l("Length must be {equal}.")},
    validate.Equal: {"default_message": _l("Must be equal to {other}.")},
    validate.Regexp: {"default_message": _l("String does not match expected pattern.")},
    validate.Predicate: {"default_message": _l("Invalid input.")},
    validate.NoneOf: {"default_message": _l("Invalid input.")},
    validate.OneOf: {"default_message": _l("Must be one of: {choices}.")},
    validate.ContainsOnly: {"default_message": _l("One or more of the choices you made was not in: {choices}.")},
    validate.ContainsNoneOf: {"default_message": _l("One or more of the choices you made was in: {values}.")},
}
SCHEMA = {"type": _l("Invalid input type."), "unknown": _l("Unknown field.")}


def _make_error(self, key: str, **kwargs) -> ValidationError:
    msg = self.error_messages[key]
    if isinstance(msg, str | Lazy):
        msg = msg.format(**kwargs)  # a lazy message stays lazy
    return ValidationError(msg)


_validation_error_init = ValidationError.__init__


def _validation_error(self, message, *args, **kwargs) -> None:
    # marshmallow takes a single message for a list of one only when it is a str.
    _validation_error_init(self, [message] if isinstance(message, Lazy) else message, *args, **kwargs)


def _str_message_only(init):
    """fields.Email's and fields.Url's ``__init__`` insist on a str "invalid" message: made with
    one, then given the lazy one (the validator they insert first says it)."""
    def __init__(self, *args, **kwargs) -> None:
        given = kwargs.get("error_messages") or {}
        init(self, *args, **{**kwargs, "error_messages": {**given, "invalid": "-"}})
        self.error_messages["invalid"] = given.get("invalid") or type(self).default_error_messages["invalid"]
        self.validators[0].error = self.error_messages["invalid"]
    return __init__


def install() -> None:
    for cls, messages in FIELDS.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    for cls, messages in VALIDATORS.items():
        for name, message in messages.items():
            setattr(cls, name, message)
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA}
    fields.Field.make_error = _make_error
    ValidationError.__init__ = _validation_error
    fields.Email.__init__ = _str_message_only(fields.Email.__init__)
    fields.Url.__init__ = _str_message_only(fields.Url.__init__)


install()
