from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Day, Int, Integer, OneOrMore, PageArgs, Text
from schemas.tasks import TaskCountsOut
from service.targets.models import INDICATORS, STATUSES

INDICATOR_HELP = ("coverage_rate, delivery_rate, weekly_meal_rate, visit_rate and hygiene_valid_rate are shares "
                  "from 0 to 1; enrolled_count is a number of people.")


class TargetIn(BodySchema):
    title = Text(200, required=True, metadata={"example": "Every enrolled elder fed every day"})
    indicator = fields.String(required=True, validate=validate.OneOf(INDICATORS), metadata={
        "description": INDICATOR_HELP})
    threshold = fields.Float(required=True, allow_nan=False, metadata={"example": 0.95})
    due_date = Day(required=True)
    owner_agency_id = Int(required=True, metadata={"description": "The agency that answers for it."})
    signatory_agency_ids = fields.List(Int(), required=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "The agencies that sign it; it is in force once all have."})


class TargetPatch(TargetIn):
    """Any subset (loaded with ``partial=True``). Changing the indicator, threshold, due date, owner
    or signatories voids the signatures: the agencies sign the new promise again."""


class TargetArgs(PageArgs):
    status = OneOrMore(STATUSES)
    indicator = OneOrMore(INDICATORS)
    owner_agency_id = Integer()
    signatory_agency_id = Integer()


class SignatureOut(Schema):
    agency_id = Integer()
    agency = fields.Function(lambda s: s.agency.name, metadata={"type": "string"})
    signed_at = fields.AwareDateTime(allow_none=True)
    signed_by = Integer(allow_none=True)


class TargetOut(Schema):
    id = Integer()
    title = fields.String()
    indicator = fields.String(metadata={"description": INDICATOR_HELP})
    threshold = fields.Float()
    due_date = fields.Date()
    owner_agency_id = Integer()
    owner_agency = fields.Function(lambda t: t.owner_agency.name, metadata={"type": "string"})
    signatory_agency_ids = fields.List(Integer())
    signed_by = fields.List(fields.Nested(SignatureOut), metadata={"description": "The signatures given so far."})
    in_force_since = fields.AwareDateTime(allow_none=True, metadata={"description": "When the last signatory signed."})
    current_value = fields.Float(allow_none=True, metadata={
        "description": "The indicator from the data now, on `measured_on` (null: nothing to measure yet, such as "
                       "nobody eligible)."})
    measured_on = fields.Date(metadata={
        "description": "The day measured: today (indicators counted from meals: the last day the cut-off "
                       "closed), or the due date once it has passed."})
    value_week_before = fields.Float(allow_none=True)
    projected_value = fields.Float(allow_none=True, metadata={
        "description": "The last week's trend carried on to the due date."})
    status = fields.String(metadata={
        "enum": list(STATUSES),
        "description": "draft (not signed by all) | achieved | on_track / at_risk (by the projection, before the "
                       "due date) | missed (below the threshold on the due date)."})
    created_by = Integer(allow_none=True)
    version = Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class PerformanceOut(Schema):
    agency_id = Integer()
    agency = fields.String()
    kind = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    tasks = fields.Nested(TaskCountsOut)
    by_type = fields.List(fields.Nested(TaskCountsOut))
    targets = fields.List(fields.Nested(TargetOut), metadata={"description": "The targets this agency owns."})
