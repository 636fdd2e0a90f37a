from blueprints.extensions import Blueprint
from schemas.audit import AuditArgs, AuditOut
from schemas.common import page_of
from service.audit import service

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Who changed what, when.")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditArgs(), location="query")
@blp.response(200, page_of(AuditOut))
def list_audit_events(args):
    """The audit trail, newest first; filter by `entity` (e.g. recipient) and `entity_id`."""
    return service.list_events(**args)
