from flask import g, request

from blueprints.extensions import Blueprint
from blueprints.requests import bulk_answer, if_match, json_list, versioned
from schemas.common import page_of
from schemas.recipients import (
    ExitIn,
    ImportArgs,
    ImportReportOut,
    PauseIn,
    PauseOut,
    PausePatch,
    RecipientArgs,
    RecipientIn,
    RecipientOut,
    RecipientPatch,
    UncoveredArgs,
    VerifyIn,
)
from service.errors import Invalid, UnsupportedMedia
from service.extensions import db
from service.i18n import _l
from service.recipients import importing, service

blp = Blueprint("recipients", __name__, url_prefix="/api/v1", description="The registry of elderly recipients.")


@blp.route("/recipients", methods=["POST"])
@blp.arguments(RecipientIn())
@blp.response(201, RecipientOut)
@blp.alt_response(409, description="The NIK is registered already: `existing_id` names the recipient.")
def create_recipient(data):
    """Register a candidate. Without coordinates the address is geocoded, else the village centre is used."""
    recipient = service.register_recipient(**data)
    db.session.commit()
    return recipient


@blp.route("/recipients", methods=["GET"])
@blp.arguments(RecipientArgs(), location="query")
@blp.response(200, page_of(RecipientOut))
def list_recipients(args):
    """Recipients in registration order, filtered; `q` is a NIK, its first digits, or part of a name."""
    return service.list_recipients(**args)


@blp.route("/recipients/uncovered", methods=["GET"])
@blp.arguments(UncoveredArgs(), location="query")
@blp.response(200, page_of(RecipientOut))
def list_uncovered(args):
    """Who the program does not reach yet: verified or enrolled, not paused today, and fed by no
    stall that may cook today. `assignment_note` says why."""
    return service.list_uncovered(**args)


@blp.route("/recipients/<int:recipient_id>", methods=["GET"])
@blp.response(200, RecipientOut)
def get_recipient(recipient_id):
    return versioned(service.get_recipient(recipient_id))


@blp.route("/recipients/<int:recipient_id>", methods=["PATCH"])
@blp.arguments(RecipientPatch(partial=True))
@blp.response(200, RecipientOut)
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_recipient(changes, recipient_id):
    """Correct registration fields; send `If-Match: <version>` to avoid overwriting another edit."""
    recipient = service.update_recipient(recipient_id, changes, expected_version=if_match())
    db.session.commit()
    return versioned(recipient)


@blp.route("/recipients/<int:recipient_id>/verify", methods=["POST"])
@blp.arguments(VerifyIn())
@blp.response(200, RecipientOut)
@blp.alt_response(409, description="Only a candidate can be verified.")
def verify_recipient(data, recipient_id):
    """The verification visit's decision: `verified` if eligible, else `rejected`."""
    recipient = service.verify_recipient(recipient_id, **data, scope=g.caller)
    db.session.commit()
    return recipient


@blp.route("/recipients/<int:recipient_id>/enrol", methods=["POST"])
@blp.response(200, RecipientOut)
@blp.alt_response(409, description="Only a verified recipient can be enrolled.")
def enrol_recipient(recipient_id):
    """Enrol, and place at the nearest eligible stall with room within `max_vendor_distance_km`:
    `vendor_id` and `distance_km` say which, or are null (the recipient is then uncovered and
    `assignment_note` says why)."""
    recipient = service.enrol_recipient(recipient_id)
    db.session.commit()
    return recipient


@blp.route("/recipients/<int:recipient_id>/pauses", methods=["POST"])
@blp.arguments(PauseIn())
@blp.response(201, PauseOut)
@blp.alt_response(409, description="Overlaps another pause, or the status allows no pause.")
def pause_recipient(data, recipient_id):
    """No meals from `start_date` to `end_date` (inclusive): hospital, a stay with family."""
    pause = service.add_pause(recipient_id, **data)
    db.session.commit()
    return pause


@blp.route("/recipients/<int:recipient_id>/pauses/<int:pause_id>", methods=["PATCH"])
@blp.arguments(PausePatch())
@blp.response(200, PauseOut)
def change_pause(data, recipient_id, pause_id):
    """Move a pause's end: shorten it (meals resume the day after `end_date`) or extend it."""
    pause = service.change_pause(recipient_id, pause_id, **data)
    db.session.commit()
    return pause


@blp.route("/recipients/<int:recipient_id>/pauses/<int:pause_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="The pause has begun: change its end instead.")
def cancel_pause(recipient_id, pause_id):
    """Drop a pause that has not begun."""
    service.cancel_pause(recipient_id, pause_id)
    db.session.commit()


@blp.route("/recipients/<int:recipient_id>/exit", methods=["POST"])
@blp.arguments(ExitIn())
@blp.response(200, RecipientOut)
def exit_recipient(data, recipient_id):
    """The recipient leaves the program: the stall's place is freed and meals not yet delivered
    are cancelled."""
    recipient = service.exit_recipient(recipient_id, **data)
    db.session.commit()
    return recipient


@blp.route("/recipients/<int:recipient_id>/flag", methods=["DELETE"])
@blp.response(200, RecipientOut)
def clear_flag(recipient_id):
    """Clear the flag the cut-off set after three days without a meal, once the social agency has
    looked in on the recipient (the audit trail keeps the flag's history)."""
    recipient = service.clear_flag(recipient_id, scope=g.caller)
    db.session.commit()
    return recipient


IMPORT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "CSV with a header row (comma or semicolon, UTF-8)."}}}},
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": list(importing.REQUIRED), "additionalProperties": True,
            "description": "A row as a CSV's would be: the columns of `RecipientIn`, `village_code` instead of "
                           "`village_id` if wished, values as text or JSON; each row is checked on its own, and "
                           "columns the import does not know are listed in `ignored_columns`."}}},
    },
}


def _import_rows() -> tuple[list, int]:
    """The rows of the request (multipart CSV, a CSV body, or a JSON list) and the first row's number."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid({"file": [_l("send the CSV as the multipart field 'file'")]})
        return importing.read_csv(upload.read()), 2
    if request.mimetype == "text/csv":
        return importing.read_csv(request.get_data()), 2
    if request.is_json:
        return json_list(_l("recipients")), 1
    raise UnsupportedMedia(_l("send multipart/form-data with 'file', text/csv, or application/json (a "
                              "list); it came as %(value)s",
                              value=request.mimetype or _l('no type')))


@blp.route("/recipients/import", methods=["POST"])
@blp.arguments(ImportArgs(), location="query")
@blp.doc(requestBody=IMPORT_BODY)
@blp.response(200, ImportReportOut)
@blp.alt_response(207, schema=ImportReportOut, description="Some rows were refused: the report says which and why.")
def import_recipients(args):
    """Import many recipients: every valid row is created, every invalid row reported by row and field.

    Rows are numbered as a spreadsheet shows them (the first CSV data row is 2; a JSON list
    starts at 1). Duplicate NIKs, in the file or already registered, are listed and not created.
    With `dry_run=true` nothing is created. 200 when no row was refused, 207 when some were, 422
    (with the report) when all were.
    """
    rows, first_row = _import_rows()
    report = importing.import_recipients(rows, dry_run=args["dry_run"], first_row=first_row)
    db.session.commit()
    return bulk_answer(report, len(rows), ImportReportOut())
