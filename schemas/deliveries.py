import datetime as dt

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, missing, validate

from schemas.common import BodySchema, Day, Integer, Moment, OneOrMore, PageArgs, QuerySchema, Text
from schemas.words import words
from service.db import EARLIEST_DAY, LATEST_DAY
from service.deliveries.models import OUTCOMES, STATUSES
from service.i18n import _l

Latitude = lambda **kw: fields.Float(validate=validate.Range(min=-90, max=90), **kw)  # noqa: E731
Longitude = lambda **kw: fields.Float(validate=validate.Range(min=-180, max=180), **kw)  # noqa: E731


class DayIn(BodySchema):
    date = Day(required=True, metadata={"example": "2026-11-24"})


class ScheduleOut(Schema):
    date = fields.Date()
    created = Integer(metadata={"description": "Deliveries created by this run."})
    existing = Integer(metadata={"description": "Deliveries of that day that existed already."})
    moved = Integer(metadata={
        "description": "Recipients moved first off stalls that may not cook that day (or left uncovered)."})


class CloseOut(Schema):
    date = fields.Date()
    missed = Integer(metadata={"description": "Meals still scheduled at the cut-off, now `missed`."})
    flagged = Integer(metadata={"description": "Recipients newly flagged: three days running without a meal."})
    coverage_rate = fields.Float(allow_none=True, metadata={"description": "null when nobody was eligible."})


class DeliveryArgs(PageArgs):
    date = Day()
    vendor_id = Integer()
    status = OneOrMore(STATUSES)
    village_id = Integer()
    recipient_id = Integer()
    meal = fields.String(validate=validate.Length(max=16))


PERSONAL = "Only for the coordinator, the social and data agencies, and the stall that made the delivery."


class DeliveryOut(Schema):
    """A meal. Whom it fed and where (``recipient_id``, the GPS point, the stall's reason, the
    photo) are absent for the health, education and other agencies."""

    id = Integer(big=True)
    recipient_id = Integer(metadata={"description": PERSONAL})
    vendor_id = Integer(allow_none=True)
    volunteer_id = Integer(allow_none=True)
    village_id = Integer()
    date = fields.Date()
    meal = fields.String()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    reason = fields.Function(lambda d: _reason(d), allow_none=True, metadata={
        "type": "string", "description": "Why it failed (the stall's words), or why it was cancelled or missed. "
                                         + PERSONAL})
    cause = fields.Raw(allow_none=True, metadata={
        "type": "object", "description": "Why it was cancelled or missed, as a code. " + PERSONAL})
    delivered_at = fields.AwareDateTime(allow_none=True)
    latitude = fields.Float(allow_none=True, metadata={"description": PERSONAL})
    longitude = fields.Float(allow_none=True, metadata={"description": PERSONAL})
    confirmed_at = fields.AwareDateTime(allow_none=True)
    confirmed_by = Integer(allow_none=True)
    photo_sha256 = fields.String(allow_none=True, metadata={"description": PERSONAL})
    has_evidence = fields.Boolean(metadata={"description": "With a photo or the phone's GPS."})


def _reason(meal):
    """The stall's words, or the service's cause in words; nothing where the caller may not see it."""
    if not hasattr(meal, "reason"):
        return missing
    return meal.reason or words(getattr(meal, "cause", None))


class ManifestArgs(QuerySchema):
    date = Day(metadata={"description": "Default: today in the program's timezone."})


HELD_ONLY = ("On a volunteer's manifest, null unless the volunteer holds this person now (an open claim): a meal "
             "of a claim that ended shows its status alone.")


class Coordinate(fields.Float):
    """A coordinate to 5 decimals (about 1 m): all a rider needs, and fewer bytes on 2G."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), 5)


class ManifestItemOut(Schema):
    id = Integer(big=True, metadata={"description": "The delivery id to confirm."})
    meal = fields.String()
    status = fields.String()
    recipient_id = Integer(allow_none=True, metadata={"description": HELD_ONLY})
    name = fields.String(allow_none=True, metadata={"description": HELD_ONLY})
    address = fields.String(allow_none=True, metadata={"description": HELD_ONLY})
    latitude = Coordinate(allow_none=True, metadata={"description": HELD_ONLY + " To 5 decimals."})
    longitude = Coordinate(allow_none=True, metadata={"description": HELD_ONLY + " To 5 decimals."})
    phone = fields.String(allow_none=True, metadata={"description": HELD_ONLY})
    dietary_needs = fields.List(fields.String(), allow_none=True, metadata={"description": HELD_ONLY})


class ManifestOut(Schema):
    date = fields.Date()
    vendor_id = Integer(allow_none=True, metadata={"description": "The stall's (null on a volunteer's manifest)."})
    volunteer_id = Integer(allow_none=True, metadata={"description": "The volunteer's (null on a stall's)."})
    deliveries = fields.List(fields.Nested(ManifestItemOut))


class ConfirmIn(BodySchema):
    status = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = Text(300, metadata={"description": "Required when `failed`: why (not at home, refused, ...)."})
    delivered_at = Moment(metadata={"description": "When it was handed over; default: now."})
    latitude = Latitude(metadata={"description": "The phone's GPS at the handover (evidence)."})
    longitude = Longitude()


class PhotoIn(Schema):
    file = Upload(required=True, metadata={"description": "JPEG or PNG, at most 5 MB."})


def month_of(text: str) -> dt.date:
    try:
        month = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValidationError(_l("must be a month, such as 2026-11")) from None
    if not EARLIEST_DAY <= month <= LATEST_DAY:
        raise ValidationError(_l("must be from %(EARLIEST_DAY)s to %(LATEST_DAY)s",
                                 EARLIEST_DAY=format(EARLIEST_DAY, '%Y-%m'), LATEST_DAY=format(LATEST_DAY, '%Y-%m')))
    return month


class StatementArgs(QuerySchema):
    month = fields.String(required=True, validate=[validate.Regexp(r"^\d{4}-\d{2}$",
                                                                   error=_l("must be a month, such as 2026-11")),
                                                   month_of],
                          metadata={"example": "2026-11"})


class StatementLineOut(Schema):
    date = fields.Date()
    delivered = Integer()
    with_evidence = Integer()
    failed = Integer()
    missed = Integer()
    meal_price = Integer(metadata={"description": "Rupiah per meal on this day: the price in force then."})
    amount = Integer(metadata={"description": "Rupiah: delivered x this day's meal_price."})


class StatementOut(Schema):
    vendor_id = Integer()
    vendor_name = fields.String()
    month = fields.String()
    meal_price = Integer(metadata={"description": "Rupiah per meal on the month's last day (each line has its "
                                                  "day's)."})
    delivered = Integer()
    with_evidence = Integer()
    amount = Integer()
    lines = fields.List(fields.Nested(StatementLineOut))


SourceOut = Schema.from_dict({"covered": Integer(metadata={"description": "Recipients with a meal delivered."}),
                              "delivered": Integer(metadata={"description": "Meals delivered."})}, name="Source")
SourcesOut = Schema.from_dict({"stall": fields.Nested(SourceOut), "volunteer": fields.Nested(SourceOut)},
                              name="Sources")


# What each count of a day is (service/deliveries/coverage.py): people first, then meals.
COUNTS = {
    "eligible": "Recipients enrolled and not paused that day (by their village).",
    "covered": "Of the eligible: those with at least one meal delivered that day.",
    "uncovered": "Of the eligible: those without a delivered meal, `eligible - covered`.",
    "unplanned": "Of the uncovered: those with no meal planned that day (none scheduled, or all cancelled), whom "
                 "no stall and no volunteer was to feed; the rest of the uncovered had a meal that failed, was "
                 "missed or is still pending. Null for a day counted before this count was kept. Not the same as "
                 "`GET /recipients/uncovered`, which lists the verified and the enrolled whom nobody reaches now.",
    "scheduled": "Meals planned that day (cancelled ones are not), by the village they were scheduled in.",
    "delivered": "Meals confirmed delivered: what the stalls' statements pay.",
    "failed": "Meals confirmed failed.",
    "missed": "Meals not confirmed by the cut-off.",
    "pending": "Meals not confirmed yet (before the cut-off): `scheduled - delivered - failed - missed`.",
}


def _count_fields(prefix: str) -> dict[str, fields.Field]:
    """The counts and rates of a day, read from ``<prefix>.<name>``."""
    out: dict[str, fields.Field] = {
        name: Integer(attribute=f"{prefix}{name}", allow_none=name == "unplanned", metadata={"description": words})
        for name, words in COUNTS.items()
    }
    out["coverage_rate"] = fields.Float(attribute=f"{prefix}coverage_rate", allow_none=True, metadata={
        "description": "Eligible recipients with at least one delivered meal / eligible recipients; null when "
                       "nobody was eligible."})
    out["delivery_rate"] = fields.Float(attribute=f"{prefix}delivery_rate", allow_none=True, metadata={
        "description": "Delivered meals / scheduled meals; null when no meal was scheduled."})
    out["by_source"] = fields.Nested(SourcesOut, attribute=f"{prefix}by_source", metadata={
        "description": "Who fed them: stalls and volunteers (a recipient fed by both on a day counts for the "
                       "volunteer)."})
    return out


VillageCoverageOut = Schema.from_dict(
    {"village_id": Integer(), "village": fields.String(), "district": fields.String(allow_none=True),
     **_count_fields("counts.")}, name="VillageCoverage")

COUNTED_AT = fields.AwareDateTime(metadata={
    "description": "When the counts were taken: the cut-off for a closed day; for an open day the job runner's "
                   "snapshot (at most a few minutes old), or now with `live=true`."})

RegionCoverageOut = Schema.from_dict(
    {"region_code": fields.String(), **_count_fields("counts.")}, name="RegionCoverage")

CoverageOut = Schema.from_dict(
    {"date": fields.Date(), "closed": fields.Boolean(metadata={"description": "Counted at the cut-off (final)."}),
     "counted_at": COUNTED_AT,
     **_count_fields("counts."), "by_village": fields.List(fields.Nested(VillageCoverageOut)),
     "by_region": fields.List(fields.Nested(RegionCoverageOut), metadata={
         "description": "Each region's part of the total (one row for staff of one region); the sum of each count "
                        "is the total's."})}, name="Coverage")

TrendDayOut = Schema.from_dict(
    {"date": fields.Date(), "closed": fields.Boolean(), "counted_at": COUNTED_AT, **_count_fields("counts.")},
    name="TrendDay")


class CoverageArgs(QuerySchema):
    date = Day(metadata={"description": "Default: today in the program's timezone."})
    live = fields.Boolean(load_default=False, metadata={
        "description": "Count an open day now rather than serve the runner's snapshot (slower)."})


class TrendArgs(QuerySchema):
    from_ = Day(data_key="from", metadata={"description": "Default: 29 days before `to`."})
    to = Day(metadata={"description": "Default and latest: today."})


class TrendOut(Schema):
    days = fields.List(fields.Nested(TrendDayOut))
