from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import BodySchema, Bool, Int, Integer, OneOrMore, PageArgs, Text
from service.accounts.models import AGENCY_KINDS, ROLES
from service.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from service.i18n import LANGUAGES, _l

PASSWORD_RULES = (f"At least {MIN_LENGTH} characters, not one of the most common passwords, not containing "
                  "the email.")


class TokenIn(BodySchema):
    """Sign in with an email, or (a volunteer) a phone as people write it."""

    email = fields.String(validate=validate.Length(min=3, max=254))
    phone = fields.String(validate=validate.Length(min=3, max=32), metadata={"example": "0812 3456 7890"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def _one_login(self, data, **kwargs):
        if ("email" in data) == ("phone" in data):
            raise ValidationError(_l("send email or phone (one of them)"), "email")


class UserOut(Schema):
    id = Integer()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True,
                          metadata={"description": "A volunteer's, in E.164, if they sign in with it."})
    name = fields.String()
    role = fields.String()
    agency_id = Integer(allow_none=True)
    agency_kind = fields.Function(lambda u: u.agency.kind if u.agency else None, allow_none=True)
    vendor_id = Integer(allow_none=True)
    volunteer_id = Integer(allow_none=True)
    active = fields.Boolean(metadata={"description": "false: deactivated (someone who left); no token works."})
    language = fields.String(allow_none=True, metadata={
        "description": "The language of the user's messages and pages (id, en); null: the browser's."})
    version = Integer()
    created_at = fields.AwareDateTime()


class TokenOut(Schema):
    token = fields.String(metadata={"description": "Shown once; send as `Authorization: Bearer <token>`."})
    expires_at = fields.AwareDateTime()
    user = fields.Nested(UserOut)


class AgencyIn(BodySchema):
    name = Text(200, required=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{2,32}$",
                         error=_l("2 to 32 letters, digits, - or _")))
    kind = fields.String(required=True, validate=validate.OneOf(AGENCY_KINDS))


class AgencyOut(Schema):
    id = Integer()
    name = fields.String()
    code = fields.String()
    kind = fields.String()


class AgencyArgs(PageArgs):
    kind = OneOrMore(AGENCY_KINDS)


class UserIn(BodySchema):
    """Email or phone (one of them, or both): a warung owner without email signs in with the phone."""

    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(min=3, max=32), metadata={"example": "0812 3456 7890"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH),
                             metadata={"description": PASSWORD_RULES})
    name = Text(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    agency_id = Int(allow_none=True)
    vendor_id = Int(allow_none=True)
    volunteer_id = Int(allow_none=True)

    @validates_schema
    def _a_login(self, data, **kwargs):
        if "email" not in data and "phone" not in data:
            raise ValidationError(_l("send email or phone (one of them)"), "email")


class MePatch(BodySchema):
    language = fields.String(required=True, allow_none=True, validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "id (Bahasa Indonesia) or en; null: the browser's."})


class UserArgs(PageArgs):
    role = OneOrMore(ROLES)
    agency_id = Integer()


class RevokedOut(Schema):
    revoked = Integer()


class UserPatch(BodySchema):
    """Any of these."""

    active = Bool(metadata={"description": "false deactivates the user (someone who left) and revokes every "
                                           "token; true lets them sign in again (with no old token)."})
    name = Text(200)
    agency_id = Int(metadata={"description": "Agency staff only: move them to another agency."})


class PasswordIn(BodySchema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LENGTH),
                                 metadata={"description": PASSWORD_RULES})
