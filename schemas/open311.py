"""Open311 GeoReport v2's fields, as the standard names them (https://wiki.open311.org/GeoReport_v2)."""
from marshmallow import EXCLUDE, Schema, fields, validate

from schemas.common import Prose, QuerySchema, Text
from service.complaints.models import CATEGORIES


class ServiceOut(Schema):
    service_code = fields.String()
    service_name = fields.String()
    description = fields.String()
    metadata = fields.Boolean(metadata={"description": "No service has extra attributes."})
    type = fields.String(metadata={"description": "realtime: the request is a complaint at once"})
    keywords = fields.String()
    group = fields.String()


class RequestIn(Schema):
    """A service request, form-encoded. Fields of the standard this program does not keep
    (`address_string`, `email`, `device_id`, `account_id`, `media_url`, `attribute[...]`,
    `jurisdiction_id`, `api_key`) are accepted and dropped."""

    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    description = Prose(10, 2000, required=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    long = fields.Float(validate=validate.Range(min=-180, max=180))
    first_name = Text(100)
    last_name = Text(100)
    phone = fields.String(validate=validate.Length(min=6, max=32))


class SubmittedOut(Schema):
    service_request_id = fields.String(metadata={"example": "RK-7KQ4-9MZP"})
    service_notice = fields.String()
    account_id = fields.String(allow_none=True)


class RequestOut(Schema):
    service_request_id = fields.String(metadata={"example": "RK-7KQ4-9MZP"})
    status = fields.String(metadata={"description": "open | closed"})
    status_notes = fields.String(allow_none=True)
    service_name = fields.String()
    service_code = fields.String()
    agency_responsible = fields.String(allow_none=True)
    service_notice = fields.String(allow_none=True)
    requested_datetime = fields.AwareDateTime()
    updated_datetime = fields.AwareDateTime(allow_none=True)
    expected_datetime = fields.AwareDateTime()
    lat = fields.Float(allow_none=True, metadata={"description": "To 0.01 degree."})
    long = fields.Float(allow_none=True)


class RequestArgs(QuerySchema):
    service_request_id = fields.String(required=True, validate=validate.Length(min=1, max=600), metadata={
        "description": "One or several request ids (tracking codes), comma-separated, at most 20."})
    service_code = fields.String(validate=validate.OneOf(CATEGORIES))
    status = fields.String(validate=validate.OneOf(("open", "closed")))
    jurisdiction_id = fields.String(validate=validate.Length(max=100))
