"""Open311 GeoReport v2's fields, as the standard names them (https://wiki.open311.org/GeoReport_v2)."""
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from schemas.common import Note, Prose, QuerySchema, Text
from service.complaints.models import CATEGORIES, NEEDS_PLACE


class ServiceOut(Schema):
    service_code = fields.String()
    service_name = fields.String()
    description = fields.String()
    metadata = fields.Boolean(metadata={"description": "No service has extra attributes."})
    type = fields.String(metadata={"description": "realtime: the request is a complaint at once"})
    keywords = fields.String()
    group = fields.String()


class RequestIn(Schema):
    """A service request, form-encoded. `email` is kept as the contact, `address_string` and
    `media_url` for the staff who answer. Fields of the standard this program has no use for
    (`device_id`, `account_id`, `attribute[...]`, `jurisdiction_id`, `api_key`) are accepted and
    dropped. An empty field is taken for one not sent (forms send every field)."""

    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(required=True, validate=validate.OneOf(CATEGORIES), metadata={
        "description": f"For {', '.join(NEEDS_PLACE)}: a place is needed, `lat` and `long` or `address_string` "
                       "(else a 400)."})
    description = Prose(10, 2000, required=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90), metadata={
        "description": "Within 15 km of a village of the program; (0, 0), a phone without a fix, is a 400."})
    long = fields.Float(validate=validate.Range(min=-180, max=180))
    address_string = Note(500, metadata={"description": "Where, in words."})
    email = fields.Email(validate=validate.Length(max=254), metadata={"description": "Kept as the contact."})
    first_name = Text(100)
    last_name = Text(100)
    phone = fields.String(validate=validate.Length(min=6, max=32))
    media_url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2000), metadata={
        "description": "A link to a picture (http or https), shown to the staff who answer."})

    @pre_load
    def _empty_is_absent(self, data, **kwargs):
        return {key: value for key, value in data.items() if value != ""}


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
