import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate

from schemas.common import BodySchema, Day, Int, Integer, OneOrMore, PageArgs, QuerySchema, Text
from service.i18n import _l
from service.program.models import AREA_KINDS


class ProgramOut(Schema):
    name = fields.String()
    timezone = fields.String()
    min_age = Integer()
    meal_slots = fields.List(fields.String())
    meal_price = Integer(metadata={"description": "Rupiah per portion."})
    schedule_time = fields.Time(format="%H:%M")
    delivery_cutoff = fields.Time(format="%H:%M")
    max_vendor_distance_km = fields.Float()
    hygiene_validity_days = Integer()
    visit_interval_days = Integer()
    pass_mark = Integer(metadata={"description": "The score (0-100) an inspection passes from."})
    office_closes_at = fields.Time(format="%H:%M", metadata={
        "description": "The end of the offices' day: a complaint filed later counts from the next working day."})
    version = Integer()
    updated_at = fields.AwareDateTime()


def _on_the_minute(value: dt.time) -> None:
    """A time of the program's day: in its own timezone (no offset) and on the minute, as the job
    runner keeps it, so that nothing sent is cut off in silence."""
    if value.tzinfo is not None:
        raise ValidationError(_l("give the time without an offset: it is the program's local time"))
    if value.second or value.microsecond:
        raise ValidationError(_l("give hours and minutes, such as 18:00"))


class ProgramPatch(BodySchema):
    name = Text(200)
    timezone = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"example": "Asia/Jakarta"})
    min_age = Int(validate=validate.Range(min=0, max=120))
    meal_slots = fields.List(fields.String(validate=validate.Regexp(r"^[a-z_]{1,20}$")),
                             validate=validate.Length(min=1, max=6))
    meal_price = Int(validate=validate.Range(min=0, max=10_000_000),
                     metadata={"description": "Holds from today (the program's): statements of earlier days keep "
                                              "their price."})
    schedule_time = fields.Time(validate=_on_the_minute, metadata={"example": "18:00",
                                                                   "description": "HH:MM in the program's timezone."})
    delivery_cutoff = fields.Time(validate=_on_the_minute, metadata={"example": "21:00",
                                                                     "description": "HH:MM in the program's timezone."})
    max_vendor_distance_km = fields.Float(validate=validate.Range(min=0.1, max=100))
    hygiene_validity_days = Int(validate=validate.Range(min=1, max=3650))
    visit_interval_days = Int(validate=validate.Range(min=1, max=365))
    pass_mark = Int(validate=validate.Range(min=0, max=100))
    office_closes_at = fields.Time(validate=_on_the_minute, metadata={
        "example": "16:00", "description": "HH:MM in the program's timezone: complaints filed later count from the "
                                           "next working day."})


class AreaIn(BodySchema):
    name = Text(120, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(AREA_KINDS))
    parent_id = Int(allow_none=True)
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    code = fields.String(allow_none=True, validate=validate.Length(min=1, max=32))


class AreaOut(Schema):
    id = Integer()
    name = fields.String()
    kind = fields.String()
    parent_id = Integer(allow_none=True)
    latitude = fields.Float()
    longitude = fields.Float()
    code = fields.String(allow_none=True)


class AreaArgs(PageArgs):
    kind = OneOrMore(AREA_KINDS)
    parent_id = Integer()
    q = fields.String(validate=validate.Length(min=1, max=120))


class LeaveDayIn(BodySchema):
    date = Day(required=True)
    name = Text(120, required=True, metadata={"example": "Cuti bersama Idul Fitri"})


class LeaveDayOut(Schema):
    date = fields.Date()
    name = fields.String()


class LeaveDayArgs(QuerySchema):
    year = Integer(required=True, validate=validate.Range(min=2000, max=2099))


class RegionPatch(BodySchema):
    """A region's name and its own settings; null gives a setting back to the program's."""

    name = Text(120)
    meal_price = Int(allow_none=True, validate=validate.Range(min=0, max=10_000_000), metadata={
        "description": "Rupiah per portion, holding from the region's today (earlier days keep their price); "
                       "null: the program's."})
    schedule_time = fields.Time(allow_none=True, validate=_on_the_minute, metadata={
        "example": "18:00", "description": "HH:MM in the region's timezone; null: the program's."})
    delivery_cutoff = fields.Time(allow_none=True, validate=_on_the_minute, metadata={
        "example": "21:00", "description": "HH:MM in the region's timezone; null: the program's."})
    pass_mark = Int(allow_none=True, validate=validate.Range(min=0, max=100), metadata={
        "description": "The score (0-100) its inspections pass from; null: the program's."})


class RegionOut(Schema):
    code = fields.String(metadata={"description": "The regency's or city's code, as Kemendagri writes it: 35.10."})
    name = fields.String()
    timezone = fields.String(metadata={"description": "Its clock: Asia/Jakarta (WIB), Asia/Makassar (WITA) or "
                                                      "Asia/Jayapura (WIT). Its today is its own."})
    meal_price = Integer(allow_none=True, metadata={"description": "Its own price; null: the program's."})
    schedule_time = fields.Time(format="%H:%M", allow_none=True, metadata={"description": "null: the program's."})
    delivery_cutoff = fields.Time(format="%H:%M", allow_none=True, metadata={"description": "null: the program's."})
    pass_mark = Integer(allow_none=True, metadata={"description": "null: the program's."})
    version = Integer(metadata={"description": "Send it back in `If-Match` when changing the region."})
