from marshmallow import Schema, fields, validate

from schemas.common import Integer, PageArgs


class AuditArgs(PageArgs):
    entity = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "recipient"})
    entity_id = Integer(big=True)


class AuditOut(Schema):
    id = Integer()
    at = fields.AwareDateTime()
    actor_id = Integer(allow_none=True)
    actor = fields.String()
    action = fields.String(metadata={"description": "create, update, delete, or an action's name."})
    entity = fields.String()
    entity_id = Integer(big=True)
    changes = fields.Dict(metadata={"description": "Field name to [old, new]."})
