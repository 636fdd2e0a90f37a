from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Bool, Day, Int, Integer, Note, OneOrMore, PageArgs, QuerySchema, Text
from service.volunteers.claims import DEFAULT_RADIUS_KM, MAX_RADIUS_KM, MAX_VISIT_HOURS
from service.volunteers.models import (
    CLAIM_KINDS,
    CLAIM_STATUSES,
    END_REASONS,
    MAX_CAPACITY,
    SKILLS,
    STATUSES,
    VISIT_OUTCOMES,
)

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


class PendingContactOut(Schema):
    phone = fields.String(allow_none=True, attribute="pending_phone")
    email = fields.String(allow_none=True, attribute="pending_email")
    requested_at = fields.AwareDateTime(attribute="contact_requested_at")


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
    pending_contact = fields.Method("_pending", allow_none=True, metadata={
        "type": "object", "nullable": True,
        "description": "A new phone or email asked for with `PATCH /volunteers/me`, waiting for staff to confirm "
                       "it (`POST /volunteers/{id}/contact/confirm`): until then the sign-in keeps the old one."})

    def _pending(self, volunteer):
        return None if volunteer.contact_requested_at is None else PendingContactOut().dump(volunteer)


class VolunteerArgs(PageArgs):
    status = OneOrMore(STATUSES)
    village_id = Integer()
    skill = fields.String(validate=validate.OneOf(SKILLS))
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Part of the name, the email or the phone (empty: no search)."})


class ReasonIn(BodySchema):
    reason = Text(500, required=True)


class ActivityOut(Schema):
    open_claims = Integer(metadata={"description": "Claims open now (a person may be held for both kinds)."})
    helping = Integer(metadata={"description": "People taken on now: at most `capacity`."})
    meals_delivered = Integer(attribute="counts.meals_delivered")
    visits = Integer()
    hours = fields.Float(allow_none=True, metadata={"description": "Hours of the visits that gave them."})


class OwnRecordOut(VolunteerOut):
    """The volunteer's own record, with what they have done."""

    activity = fields.Nested(ActivityOut)


class OpportunityArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(CLAIM_KINDS), metadata={
        "description": "Default: `deliver` if it is one of the volunteer's skills, else `visit`."})
    radius_km = fields.Float(validate=validate.Range(min=0, max=MAX_RADIUS_KM, min_inclusive=False), metadata={
        "description": f"From the volunteer's point (or village centre); default {DEFAULT_RADIUS_KM:g}.",
        "exclusiveMinimum": True})


class OpportunityOut(Schema):
    """Someone near the volunteer whom nobody reaches: never who (first name and an initial), nor
    where (the village, and the distance between cells of about 1 km to half a kilometre)."""

    recipient_id = Integer()
    display_name = fields.String(metadata={"example": "Siti A."})
    village_id = Integer()
    village = fields.String()
    kind = fields.String(metadata={"description": " | ".join(CLAIM_KINDS)})
    distance_km = fields.Float(metadata={
        "description": "From the volunteer's cell of about 1 km to the recipient's (never point to point), rounded "
                       "to 0.5 km, never under 0.5."})
    needs = fields.List(fields.String(), metadata={"example": ["meals", "diet:low salt"]})
    meals_from = fields.Date(allow_none=True, metadata={
        "description": "`deliver`: the first day whose meals are the volunteer's if they take this person on now "
                       "(today's at once when today is scheduled and not yet cut off). Null for `visit`."})


class ClaimIn(BodySchema):
    recipient_id = Int(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CLAIM_KINDS))


class ClaimPersonOut(Schema):
    """Whom the volunteer helps, while the claim is open and only to them."""

    name = fields.String()
    address = fields.String()
    latitude = fields.Float()
    longitude = fields.Float()
    phone = fields.String(allow_none=True)
    dietary_needs = fields.List(fields.String())


class ClaimOut(Schema):
    id = Integer()
    volunteer_id = Integer()
    recipient_id = Integer()
    display_name = fields.String()
    village_id = Integer()
    village = fields.String()
    kind = fields.String(metadata={"description": " | ".join(CLAIM_KINDS)})
    status = fields.String(metadata={"description": " | ".join(CLAIM_STATUSES)})
    opened_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": " | ".join(END_REASONS)})
    end_note = fields.String(allow_none=True, metadata={"description": "Staff's words when they ended it."})
    person = fields.Nested(ClaimPersonOut, allow_none=True, metadata={
        "description": "The recipient's name, address, point and phone: on the volunteer's own open claim, read "
                       "one by one (`GET /volunteers/me/claims/{id}`); null otherwise."})


class ClaimArgs(PageArgs):
    status = OneOrMore(CLAIM_STATUSES)
    kind = OneOrMore(CLAIM_KINDS)


class StaffClaimArgs(ClaimArgs):
    volunteer_id = Integer()
    recipient_id = Integer()


class ConcernIn(BodySchema):
    reason = Text(500, required=True, metadata={"description": "What worries you: the social agency follows it up."})


class VisitIn(BodySchema):
    recipient_id = Int(required=True)
    visited_on = Day(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(VISIT_OUTCOMES))
    notes = Note(2000)
    concern = fields.Nested(ConcernIn, allow_none=True, metadata={"description": "With `outcome: concern`."})
    hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=MAX_VISIT_HOURS, min_inclusive=False),
                         metadata={"exclusiveMinimum": True})


class ConcernOut(Schema):
    reason = fields.String(attribute="concern")
    status = fields.String(attribute="concern_status", metadata={
        "description": "The social agency's follow-up: open | done | cancelled (received: none opened yet). "
                       "What the agency wrote is theirs."})


class VisitOut(Schema):
    id = Integer()
    recipient_id = Integer()
    claim_id = Integer()
    visited_on = fields.Date()
    outcome = fields.String(metadata={"description": " | ".join(VISIT_OUTCOMES)})
    notes = fields.String(allow_none=True)
    hours = fields.Float(allow_none=True)
    concern = fields.Nested(ConcernOut, attribute="raised", allow_none=True,
                            metadata={"description": "What was raised and the status of its follow-up."})
    created_at = fields.AwareDateTime()


class VisitArgs(PageArgs):
    pass


class ManifestDayArgs(QuerySchema):
    date = Day(metadata={"description": "Default: today in the program's timezone."})


class EndClaimIn(BodySchema):
    reason = Text(500, required=True)
