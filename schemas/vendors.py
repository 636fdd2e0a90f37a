from marshmallow import Schema, fields, validate

from schemas.common import BodySchema, Bool, Day, Int, Integer, Note, OneOrMore, PageArgs, Phone, Text
from service.vendors.models import HYGIENE_STATUSES, INSPECTION_KINDS, STATUSES


class VendorIn(BodySchema):
    name = Text(200, required=True, metadata={"example": "Warung Bu Sri"})
    owner_name = Text(200, required=True)
    phone = Phone(allow_none=True)
    address = Text(500, required=True)
    village_id = Int(required=True)
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    daily_capacity = Int(required=True, validate=validate.Range(min=0, max=10_000), metadata={
        "description": "Recipients the stall can feed a day (each gets every meal slot), not portions."})
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))


class VendorPatch(VendorIn):
    """Any subset of the fields (load with ``partial=True``). Hygiene changes only by inspection; a
    stall editing itself may not change its status."""


class VendorOut(Schema):
    id = Integer()
    name = fields.String()
    owner_name = fields.String()
    phone = fields.String(allow_none=True)
    address = fields.String()
    village_id = Integer()
    village = fields.Function(lambda v: v.village.name, metadata={"type": "string"})
    latitude = fields.Float()
    longitude = fields.Float()
    daily_capacity = Integer()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    hygiene_status = fields.String(metadata={
        "enum": list(HYGIENE_STATUSES),
        "description": "none | valid | expired | failed, today in the program's timezone (read-only)."})
    hygiene_inspected_on = fields.Date(allow_none=True)
    hygiene_valid_until = fields.Date(allow_none=True, metadata={
        "description": "Last day the hygiene certificate holds; the stall may not cook from the day after."})
    eligible = fields.Boolean(metadata={"description": "May cook today: active with a valid certificate."})
    assigned_count = Integer(metadata={"description": "Recipients it feeds (paused ones keep their place)."})
    distance_km = fields.Float(metadata={"description": "Only in a search near a point."})
    version = Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class VendorArgs(PageArgs):
    status = OneOrMore(STATUSES)
    hygiene_status = OneOrMore(HYGIENE_STATUSES)
    village_id = Integer()
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    radius_km = fields.Float(validate=validate.Range(min=0, max=200, min_inclusive=False),
                             metadata={"description": "With lat and lon: stalls within this distance, nearest first.",
                                       "exclusiveMinimum": True})


class InspectionIn(BodySchema):
    kind = fields.String(required=True, validate=validate.OneOf(INSPECTION_KINDS))
    inspected_on = Day(required=True)
    score = Int(required=True, validate=validate.Range(min=0, max=100))
    passed = Bool(required=True)
    findings = Note(5000)


class InspectionOut(Schema):
    id = Integer()
    vendor_id = Integer()
    kind = fields.String()
    inspected_on = fields.Date()
    score = Integer()
    passed = fields.Boolean()
    findings = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True, metadata={"description": "Hygiene, passed: the certificate's last day."})
    inspector_id = Integer(allow_none=True)
    created_at = fields.AwareDateTime()


class InspectionRecordedOut(InspectionOut):
    recipients_moved = Integer(metadata={"description": "Moved to other stalls by this inspection."})
    recipients_uncovered = Integer(metadata={"description": "Left without a stall by this inspection."})
    recipients_placed = Integer(metadata={"description": "Uncovered recipients this stall took in."})


class InspectionArgs(PageArgs):
    kind = OneOrMore(INSPECTION_KINDS)


class RebalanceOut(Schema):
    enrolled = Integer()
    covered = Integer(metadata={"description": "Enrolled recipients with a stall after the rebalance."})
    assigned = Integer(metadata={"description": "Had no stall, have one now."})
    moved = Integer(metadata={"description": "Moved from one stall to another."})
    unassigned = Integer(metadata={"description": "Enrolled and still without a stall within reach."})
    total_distance_km = fields.Float()
    mean_distance_km = fields.Float()
    seconds = fields.Float()
