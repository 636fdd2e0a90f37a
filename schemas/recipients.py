from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Bool, Day, Int, Integer, Note, OneOrMore, PageArgs, Phone, Text
from schemas.words import words
from service.db import EARLIEST_BIRTH
from service.i18n import _l
from service.recipients import rules
from service.recipients import service as recipients_service
from service.recipients.models import EXIT_REASONS, STATUSES

NIK = dict(validate=validate.Regexp(r"^\d{16}$", error=_l("must be exactly 16 digits")),
           metadata={"example": "3510154107540001",
                     "description": "16 digits; digits 7-12 are the birth date DDMMYY, day + 40 for women."})
NEEDS = fields.List(Text(rules.NEED_MAX),
                    validate=validate.Length(max=rules.NEEDS_MAX), metadata={"example": ["soft food", "low salt"]})


class RecipientIn(BodySchema):
    nik = fields.String(required=True, **NIK)
    name = Text(rules.NAME_MAX, required=True)
    birth_date = Day(earliest=EARLIEST_BIRTH, required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("F", "M")))
    address = Text(rules.ADDRESS_MAX, required=True)
    village_id = Int(required=True)
    phone = Phone(allow_none=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    dietary_needs = NEEDS
    notes = Note(rules.NOTES_MAX)


class RecipientPatch(RecipientIn):
    """Any subset of the registration fields (load it with ``partial=True``); the status changes
    only through its actions."""


class PauseOut(Schema):
    id = Integer()
    recipient_id = Integer()
    start_date = fields.Date()
    end_date = fields.Date()
    reason = fields.String()
    created_at = fields.AwareDateTime()


class RecipientOut(Schema):
    id = Integer()
    nik = fields.String()
    name = fields.String()
    birth_date = fields.Date()
    sex = fields.String()
    address = fields.String()
    village_id = Integer()
    village = fields.Function(lambda r: r.village.name)
    district = fields.Function(lambda r: r.village.parent.name if r.village.parent else None, allow_none=True)
    phone = fields.String(allow_none=True)
    latitude = fields.Float()
    longitude = fields.Float()
    location_source = fields.String(metadata={"description": "gps, geocoded or village (its centre)."})
    dietary_needs = fields.List(fields.String())
    notes = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    source = fields.String(metadata={"description": "registry | public_report (reported unreached by the public)"})
    verification_notes = fields.String(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    enrolled_at = fields.AwareDateTime(allow_none=True)
    exited_at = fields.AwareDateTime(allow_none=True)
    exit_reason = fields.String(allow_none=True)
    pauses = fields.List(fields.Nested(PauseOut))
    vendor_id = fields.Function(lambda r: r.assignment.vendor_id if r.assignment else None, allow_none=True,
                                metadata={"type": "integer", "description": "The stall that feeds them; null: none."})
    distance_km = fields.Function(lambda r: r.assignment.distance_km if r.assignment else None, allow_none=True,
                                  metadata={"type": "number", "description": "Geodesic distance to that stall."})
    assignment_note = fields.Function(lambda r: words(r.assignment.reason) if r.assignment else None, allow_none=True,
                                      metadata={"type": "string",
                                                "description": "Why they are at this stall, or at none."})
    assignment_reason = fields.Function(lambda r: r.assignment.reason if r.assignment else None, allow_none=True,
                                        metadata={"type": "object", "description": "The same as a code with its "
                                                  "parameters, for clients that say it in their own words."})
    flagged_on = fields.Date(allow_none=True, metadata={
        "description": "Set by the cut-off after three days running without a delivered meal, for the social "
                       "agency to look in on them; cleared with DELETE /recipients/{id}/flag."})
    covered_by = fields.Function(lambda r: recipients_service.covered_by(r), allow_none=True, metadata={
        "type": "string", "enum": ["stall", "volunteer", None], "nullable": True,
        "description": "Who reaches them today: a stall that may cook, a volunteer's open claim, or nobody."})
    flag_reason = fields.Function(lambda r: words(r.flag_reason), allow_none=True, metadata={"type": "string"})
    flag_code = fields.Raw(attribute="flag_reason", allow_none=True, metadata={
        "type": "object", "description": "The flag's reason as a code with its parameters."})
    version = Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class RecipientArgs(PageArgs):
    status = OneOrMore(STATUSES)
    village_id = Integer()
    district_id = Integer()
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "A NIK, its first digits, or part of a name (empty: no search)."})
    vendor_id = Integer(metadata={"description": "Fed by this stall."})
    covered = fields.Boolean(metadata={
        "description": "Fed today by a stall that may cook, within reach (true) or not (false)."})
    flagged = fields.Boolean(metadata={"description": "Flagged for three days running without a meal (true) or not."})


class UncoveredArgs(PageArgs):
    status = OneOrMore(("verified", "enrolled"), "enrolled: in the program but fed by no stall; verified: waiting "
                                                 "to be enrolled.")
    village_id = Integer()
    district_id = Integer()


class VerifyIn(BodySchema):
    eligible = Bool(required=True)
    notes = Note(5000)


class PauseIn(BodySchema):
    start_date = Day(required=True)
    end_date = Day(required=True)
    reason = Text(500, required=True)


class PausePatch(BodySchema):
    end_date = Day(required=True)
    reason = Text(500)


class ExitIn(BodySchema):
    reason = fields.String(required=True, validate=validate.OneOf(EXIT_REASONS))


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False)


class RowErrorOut(Schema):
    row = Integer()
    field = fields.String()
    message = fields.String()


class DuplicateOut(Schema):
    row = Integer()
    nik = fields.String()
    existing_id = Integer(allow_none=True)
    first_row = Integer(allow_none=True)
    region = fields.String(allow_none=True, metadata={
        "description": "Registered in another region (its code): a person is enrolled in one region only."})


class ImportReportOut(Schema):
    dry_run = fields.Boolean()
    created = Integer(metadata={"description": "Created, or with dry_run, would be created."})
    duplicates = Integer()
    rejected = Integer()
    errors = fields.List(fields.Nested(RowErrorOut))
    duplicate_rows = fields.List(fields.Nested(DuplicateOut))
    ignored_columns = fields.List(fields.String())
