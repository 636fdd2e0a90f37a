from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Bool, Int, Integer, OneOrMore, PageArgs, Text
from service.volunteers.models import MAX_CAPACITY, SKILLS, STATUSES

SKILL_LIST = fields.List(fields.String(validate=validate.OneOf(SKILLS)), validate=validate.Length(min=1, max=3),
                         metadata={"example": ["deliver", "visit"]})
PHONE = fields.String(validate=validate.Length(min=6, max=32), metadata={
    "example": "0812 3456 7890",
    "description": "As people write it (0812..., 62812..., +62 812-...): stored as E.164."})
CAPACITY = Int(validate=validate.Range(min=1, max=MAX_CAPACITY), metadata={"description": "People they can help."})


class VolunteerIn(BodySchema):
    name = Text(200, required=True)
    phone = fields.String(required=True, validate=PHONE.validate, metadata=PHONE.metadata)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "At least 10 characters, not a common one."})
    village_id = Int(required=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    skills = fields.List(fields.String(validate=validate.OneOf(SKILLS)), required=True,
                         validate=validate.Length(min=1, max=3), metadata=SKILL_LIST.metadata)
    capacity = Int(load_default=1, validate=CAPACITY.validate, metadata=CAPACITY.metadata)
    accepts_code_of_conduct = Bool(required=True, metadata={"description": "Must be true: the code of conduct "
                                                                           "is read and accepted."})


class VolunteerOwnPatch(BodySchema):
    phone = fields.String(validate=PHONE.validate, metadata=PHONE.metadata)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    skills = fields.List(fields.String(validate=validate.OneOf(SKILLS)), validate=validate.Length(min=1, max=3))
    capacity = Int(validate=CAPACITY.validate)
    village_id = Int()
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class VolunteerOut(Schema):
    """A volunteer as the coordinator, the social agency and the volunteer themselves see them."""

    id = Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    village_id = Integer()
    village = fields.Function(lambda v: v.village.name)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    skills = fields.List(fields.String())
    capacity = Integer()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    status_reason = fields.String(allow_none=True, metadata={"description": "Why rejected or suspended."})
    decided_at = fields.AwareDateTime(allow_none=True)
    consented_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    version = Integer()


class VolunteerArgs(PageArgs):
    status = OneOrMore(STATUSES)
    village_id = Integer()
    skill = fields.String(validate=validate.OneOf(SKILLS))
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Part of the name, the email or the phone (empty: no search)."})


class ReasonIn(BodySchema):
    reason = Text(500, required=True)
