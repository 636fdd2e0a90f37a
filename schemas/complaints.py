from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Bool, Day, Int, Integer, Note, OneOrMore, PageArgs, Prose, Text
from service.complaints.models import CATEGORIES, NEEDS_PLACE, REJECT_REASONS, STATUSES
from service.db import EARLIEST_BIRTH
from service.i18n import _l

PHONE = fields.String(allow_none=True, validate=validate.Length(min=6, max=32), metadata={
    "example": "0812 3456 7890",
    "description": "As people write it (0812..., 62812..., +62 812-...): stored as E.164."})
CODE = fields.String(metadata={"example": "RK-7KQ4-9MZP", "description": "The tracking code: RK- and 8 characters "
                                                                         "(no 0, O, 1 or I)."})


EMAIL = fields.Email(allow_none=True, validate=validate.Length(max=254), metadata={
    "description": "The complainant's email, kept as their contact."})
ADDRESS = Text(500, allow_none=True, metadata={"description": "Where, in words: a street, a hamlet, a landmark."})
MEDIA_URL = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2000), metadata={
    "description": "A link to a picture of it (http or https), shown to the staff who answer."})
NEEDS_PLACE_NOTE = (f"A report of {', '.join(NEEDS_PLACE)} is about a place: it gives a point, an address, the "
                    "village, the stall or the person.")


class ElderlyIn(BodySchema):
    """An elderly person nobody reaches, as the reporter knows them. With a NIK, they become a
    candidate in the registry (or are found there)."""

    name = Text(200, required=True)
    village_id = Int(required=True)
    nik = fields.String(allow_none=True, validate=validate.Regexp(r"^\d{16}$", error=_l("must be exactly 16 digits")))
    birth_date = Day(earliest=EARLIEST_BIRTH, allow_none=True)
    sex = fields.String(allow_none=True, validate=validate.OneOf(("F", "M")))
    address = Note(500)


class ComplaintIn(BodySchema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES), metadata={
        "description": NEEDS_PLACE_NOTE})
    description = Prose(10, 2000, required=True, metadata={"description": "What happened: 10 to 2,000 characters."})
    contact_name = Text(200, allow_none=True)
    contact_phone = fields.String(allow_none=True, validate=PHONE.validate, metadata=PHONE.metadata)
    contact_email = EMAIL
    village_id = Int(allow_none=True)
    recipient_id = Int(allow_none=True)
    vendor_id = Int(allow_none=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90), metadata={
        "description": "Within 15 km of the village given, or of some village of the program."})
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    address = ADDRESS
    media_url = MEDIA_URL
    anonymous = Bool(load_default=False, metadata={"description": "No contact is kept at all."})
    confidential = Bool(load_default=False, metadata={"description": "The contact is kept, shown to the "
                                                                     "coordinator alone."})
    elderly = fields.Nested(ElderlyIn, allow_none=True, metadata={
        "description": "For `unreached_elderly`: whom nobody reaches."})


class FiledOut(Schema):
    code = CODE
    status = fields.String()
    forward_by = fields.Date(metadata={"description": "Forwarded to the responsible office by the end of this "
                                                      "day (3 working days)."})
    respond_by = fields.Date(metadata={"description": "Answered by the end of this day (5 working days)."})


class HistoryOut(Schema):
    status = fields.String()
    action = fields.String(metadata={"description": "received, forwarded, started, answered, reopened, closed, "
                                                    "rejected"})
    at = fields.AwareDateTime()


class PublicComplaintOut(Schema):
    """What the complainant reads by code."""

    code = CODE
    category = fields.String(metadata={"description": " | ".join(CATEGORIES)})
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    received_at = fields.AwareDateTime()
    forward_by = fields.Date()
    respond_by = fields.Date()
    answered_at = fields.AwareDateTime(allow_none=True)
    public_answer = fields.String(allow_none=True)
    reject_reason = fields.String(allow_none=True, metadata={"description": " | ".join(REJECT_REASONS)})
    reopen_until = fields.Date(allow_none=True, metadata={"description": "The last day the answer may be "
                                                                         "questioned (`/reopen`), once."})
    history = fields.List(fields.Nested(HistoryOut))


class CodePath(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata=CODE.metadata)


class ReopenIn(BodySchema):
    reason = Prose(10, 2000, required=True, metadata={"description": "Why the answer does not settle it."})


class ContactOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class PlaceOut(Schema):
    """Where the complaint is: what the reporter sent, and what was found of it, saying how."""

    latitude = fields.Float(allow_none=True, metadata={"description": "The point as the reporter sent it."})
    longitude = fields.Float(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "As the reporter wrote it."})
    media_url = fields.String(allow_none=True, metadata={
        "description": "The reporter's link to a picture: a page elsewhere, open it with care."})
    village_id = Integer(allow_none=True)
    village = fields.String(allow_none=True)
    village_source = fields.String(allow_none=True, metadata={
        "description": "given (by the reporter) | point (the village whose centre is nearest the point: likely, "
                       "not certain) | elderly (the reported person's) | stall (the stall's)"})
    stall_id = Integer(allow_none=True)
    stall = fields.String(allow_none=True)
    stall_source = fields.String(allow_none=True, metadata={
        "description": "named (by the reporter) | recipient (none named: the stall that feeds the recipient named) "
                       "| point (none named: the stall nearest the point, `stall_distance_m` away; likely, not "
                       "certain)"})
    stall_distance_m = Integer(allow_none=True)


class ElderlyOut(Schema):
    name = fields.String()
    village_id = Integer()
    nik = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True)
    sex = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class ComplaintOut(Schema):
    """A complaint as staff read it."""

    id = Integer()
    code = CODE
    category = fields.String(metadata={"description": " | ".join(CATEGORIES)})
    description = fields.String()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    channel = fields.String(metadata={"description": "api | open311"})
    anonymous = fields.Boolean()
    confidential = fields.Boolean()
    contact = fields.Nested(ContactOut, allow_none=True, metadata={
        "description": "The complainant's contact: to the coordinator, and to the responsible agency unless "
                       "confidential; null otherwise (and always for anonymous ones)."})
    village_id = Integer(allow_none=True, metadata={"description": "Given, or found (`place.village_source`)."})
    recipient_id = Integer(allow_none=True)
    vendor_id = Integer(allow_none=True, metadata={"description": "The stall the reporter named."})
    place = fields.Nested(PlaceOut, allow_none=True, metadata={
        "description": "Where it is, for the staff who answer it."})
    elderly = fields.Nested(ElderlyOut, allow_none=True, metadata={
        "description": "The reported elderly person: to the coordinator and the responsible agency."})
    reported_recipient_id = Integer(allow_none=True, metadata={
        "description": "Their record in the registry (a candidate from the report, or found there)."})
    agency_id = Integer(allow_none=True)
    task_id = Integer(allow_none=True)
    received_at = fields.AwareDateTime()
    counts_from = fields.Date(metadata={"description": "The working day the deadlines count from."})
    forward_by = fields.Date()
    respond_by = fields.Date()
    reanswer_by = fields.Date(allow_none=True)
    forwarded_at = fields.AwareDateTime(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    public_answer = fields.String(allow_none=True)
    internal_notes = fields.String(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    reopened_at = fields.AwareDateTime(allow_none=True)
    reopen_reason = fields.String(allow_none=True)
    overdue = fields.Boolean()
    forward_missed_on = fields.Date(allow_none=True)
    answer_missed_on = fields.Date(allow_none=True)
    escalated = fields.Boolean()
    history = fields.List(fields.Nested(HistoryOut))
    version = Integer()


class ComplaintArgs(PageArgs):
    status = OneOrMore(STATUSES)
    category = OneOrMore(CATEGORIES)
    agency_id = Integer()
    village_id = Integer()
    overdue = fields.Boolean()
    escalated = fields.Boolean(metadata={"description": "Escalated to the coordinator: a deadline was missed."})


class ForwardIn(BodySchema):
    agency_id = Int(required=True)
    reason = Note(500)


class AnswerIn(BodySchema):
    public_answer = Prose(1, 2000, required=True, metadata={"description": "What the complainant reads."})
    internal_notes = Note(5000, metadata={"description": "What they do not."})


class RejectIn(BodySchema):
    reason = fields.String(required=True, validate=validate.OneOf(REJECT_REASONS))
    internal_notes = Note(5000)


class RouteOut(Schema):
    category = fields.String()
    agency_id = Integer(allow_none=True, metadata={"description": "The coordinator's choice; null: the default."})
    agency = fields.String(allow_none=True)
    default_kind = fields.String(allow_none=True, metadata={
        "description": "Else the least-loaded agency of this kind; null: the coordinator's triage."})
    editable = fields.Boolean()


class RouteIn(BodySchema):
    agency_id = Int(required=True, allow_none=True, metadata={"description": "null: back to the default."})


def Count(**kwargs) -> fields.Raw:
    """A count of people: a number, ``"<5"`` when from 1 to 4, or null when withheld so that no
    count of 1 to 4 can be worked out from the others (nobody singled out)."""
    return fields.Raw(allow_none=True, metadata={
        "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": ["<5"]}], "nullable": True,
        "description": "A number; \"<5\" for 1 to 4 people; null when withheld so as not to tell a small count "
                       "(by itself, by difference in its row, or by subtraction from the total).",
        **kwargs.pop("metadata", {})}, **kwargs)


ELIGIBLE_YESTERDAY = ("People enrolled and not paused yesterday: the row's one denominator (coverage's `eligible`). "
                      "A district's is 5 or more when null; the program's may be anything when null.")
FED_YESTERDAY = "Of the eligible yesterday, those with a meal delivered (coverage's `covered`)."
RATE = "fed_yesterday / eligible_yesterday, beside exact counts only (null otherwise)."


class DistrictStatsOut(Schema):
    district = fields.String()
    eligible_yesterday = Count(metadata={"description": ELIGIBLE_YESTERDAY})
    fed_yesterday = Count(metadata={"description": FED_YESTERDAY})
    coverage_rate = fields.Float(allow_none=True, metadata={"description": RATE})


class ComplaintStatsOut(Schema):
    month = fields.String(metadata={"example": "2026-12"})
    received = Integer()
    due = Integer(metadata={"description": "Answers due this month so far (rejected ones aside)."})
    answered_on_time = Integer()
    on_time_rate = fields.Float(allow_none=True)


class PublicStatsOut(Schema):
    """The program in figures, aggregates only."""

    as_of = fields.Date()
    yesterday = fields.Date()
    eligible_yesterday = Count(metadata={"description": ELIGIBLE_YESTERDAY})
    fed_yesterday = Count(metadata={"description": FED_YESTERDAY})
    coverage_rate = fields.Float(allow_none=True, metadata={"description": RATE})
    stalls_active = Integer()
    stalls_certified = Integer(metadata={"description": "Active stalls with a valid hygiene certificate today."})
    complaints = fields.Nested(ComplaintStatsOut)
    districts = fields.List(fields.Nested(DistrictStatsOut))
