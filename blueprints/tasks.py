from flask import g

from blueprints.extensions import Blueprint, api
from blueprints.idempotency import idempotent
from blueprints.requests import bulk_answer, if_match, json_list, versioned
from schemas.common import page_of
from schemas.targets import PerformanceOut, TargetArgs, TargetIn, TargetOut, TargetPatch
from schemas.tasks import (
    CancelIn,
    ChainOut,
    CompleteIn,
    LogReportOut,
    LogsArgs,
    PerformanceArgs,
    RecurringOut,
    TaskArgs,
    TaskIn,
    TaskLogIn,
    TaskOut,
    TaskPatch,
    load_logs,
)
from service.extensions import db
from service.i18n import _l
from service.targets import service as targets
from service.tasks import logs, recurring, service

blp = Blueprint("tasks", __name__, url_prefix="/api/v1",
                description="Agencies working together: tasks, recurring work, referrals, signed targets.")


@blp.route("/tasks", methods=["POST"])
@blp.arguments(TaskIn())
@blp.response(201, TaskOut)
@blp.alt_response(403, description="An agency opening a task for another agency (refer it instead).")
def create_task(data):
    """Open a task: the coordinator for any agency, an agency for itself. Each agency kind does its
    own kind of work (social: verification visits; health: hygiene inspections and nutrition
    checks; education: school visits); every agency has follow-ups, complaints and other work."""
    task = service.create_task(**data, scope=g.caller)
    db.session.commit()
    return task


@blp.route("/tasks", methods=["GET"])
@blp.arguments(TaskArgs(), location="query")
@blp.response(200, page_of(TaskOut))
def list_tasks(args):
    """Tasks, soonest due first. An agency user sees its own agency's only."""
    return service.list_tasks(**args, scope=g.caller)


@blp.route("/tasks/<int:task_id>", methods=["GET"])
@blp.response(200, TaskOut)
def get_task(task_id):
    return versioned(service.get_task(task_id, g.caller))


@blp.route("/tasks/<int:task_id>", methods=["PATCH"])
@blp.arguments(TaskPatch())
@blp.response(200, TaskOut)
@blp.alt_response(409, description="Done or cancelled: history.")
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_task(changes, task_id):
    """Edit an open task (send `If-Match: <version>`): hand it to another user of the agency, move
    its due date, retitle it, add notes."""
    task = service.update_task(task_id, changes, expected_version=if_match(), scope=g.caller)
    db.session.commit()
    return versioned(task)


@blp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@idempotent
@blp.arguments(CompleteIn())
@blp.response(200, TaskOut)
@blp.alt_response(409, description="Completed or cancelled already, or the work's subject does not allow it "
                                   "(a verification of a recipient who is not a candidate).")
def complete_task(data, task_id):
    """Record the work done: outcome, notes, the day (today by default) and who. Completing does
    what the work means, so nothing is entered twice: a verification visit verifies or rejects the
    candidate; a hygiene inspection or nutrition check (with `score`) records the inspection on
    the stall; a school visit counts for `visit_rate`; a follow-up of a flagged recipient,
    resolved, clears the flag. A `referral` opens a `follow_up` for another agency, linked by
    `source_task_id` (a school visit's `concern` needs one). A phone on a bad network sends an
    `Idempotency-Key`: its retry gets the first answer."""
    return service.complete_task(task_id, **data, scope=g.caller)


@blp.route("/tasks/<int:task_id>/cancel", methods=["POST"])
@blp.arguments(CancelIn())
@blp.response(200, TaskOut)
@blp.alt_response(409, description="Completed or cancelled already.")
def cancel_task(data, task_id):
    """Close a task that no longer needs doing, saying why."""
    task = service.cancel_task(task_id, data["reason"], scope=g.caller)
    db.session.commit()
    return task


@blp.route("/tasks/<int:task_id>/chain", methods=["GET"])
@blp.response(200, ChainOut)
def task_chain(task_id):
    """The referral chain the task belongs to, read from either end: the task that started it and
    every follow-up referred from it, in order. Another agency's tasks show their status and
    outcome, not their notes."""
    return service.task_chain(task_id, g.caller)


@blp.record_once
def _document(state) -> None:
    api.spec.components.schema("TaskLogIn", schema=TaskLogIn)  # the push's items, named in LOGS_BODY


LOGS_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "array", "maxItems": logs.MAX_LOGS, "items": {"$ref": "#/components/schemas/TaskLogIn"}}}}}


@blp.route("/tasks/logs", methods=["POST"])
@idempotent
@blp.arguments(LogsArgs(), location="query")
@blp.doc(requestBody=LOGS_BODY)
@blp.response(200, LogReportOut)
@blp.alt_response(207, schema=LogReportOut, description="Some logs were refused: the report says which and why.")
def push_logs(args):
    """Many task logs at once, from an agency's own system: each log either completes a task opened
    here (`task_id` and `complete`) or opens a task (and completes it at once with `complete`).
    Each is taken or refused on its own; the answer reports every log by row (counting from 1),
    and every refusal by row and field. A log whose `external_ref` was pushed before is a
    duplicate and changes nothing, so a push can be retried. With `dry_run=true` nothing is kept.

    200 when every log was taken, 207 when some were refused, 422 (with the report) when all were."""
    items = load_logs(json_list(_l("task logs")))
    report = logs.push_logs(items, dry_run=args["dry_run"], scope=g.caller)
    return bulk_answer(report, len(report.items), LogReportOut())


@blp.route("/tasks/recurring", methods=["POST"])
@blp.response(200, RecurringOut)
def open_recurring():
    """Open today's recurring work now (the job runner does it every morning and after the
    cut-off): school visits, hygiene inspections before expiry, verification visits of
    candidates, follow-ups of flagged recipients. Running it again opens nothing twice."""
    report = recurring.open_recurring()
    db.session.commit()
    return report


@blp.route("/targets", methods=["POST"])
@blp.arguments(TargetIn())
@blp.response(201, TargetOut)
def create_target(data):
    """Draft a target; it is in force once every signatory agency has signed it."""
    target = targets.create_target(**data, scope=g.caller)
    db.session.commit()
    return target


@blp.route("/targets", methods=["GET"])
@blp.arguments(TargetArgs(), location="query")
@blp.response(200, page_of(TargetOut))
def list_targets(args):
    """Targets, soonest due first, each with its indicator measured from the data now."""
    return targets.list_targets(**args)


@blp.route("/targets/<int:target_id>", methods=["GET"])
@blp.response(200, TargetOut)
def get_target(target_id):
    return versioned(targets.get_target(target_id))


@blp.route("/targets/<int:target_id>", methods=["PATCH"])
@blp.arguments(TargetPatch(partial=True))
@blp.response(200, TargetOut)
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_target(changes, target_id):
    """Edit a target (send `If-Match: <version>`). Changing the promise (indicator, threshold, due
    date, owner or signatories) voids the signatures: the agencies sign again."""
    target = targets.update_target(target_id, changes, expected_version=if_match())
    db.session.commit()
    return versioned(target)


@blp.route("/targets/<int:target_id>/sign", methods=["POST"])
@blp.response(200, TargetOut)
@blp.alt_response(403, description="The caller's agency is not a signatory.")
def sign_target(target_id):
    """The caller's agency signs the target. Signing again changes nothing."""
    target = targets.sign_target(target_id, scope=g.caller)
    db.session.commit()
    return target


@blp.route("/agencies/<int:agency_id>/performance", methods=["GET"])
@blp.arguments(PerformanceArgs(), location="query")
@blp.response(200, PerformanceOut)
def agency_performance(args, agency_id):
    """An agency's work over a period (the last 30 days by default): tasks opened, done on time,
    done late, cancelled and overdue, in total and by type, and the targets it owns. An agency
    sees its own."""
    return targets.agency_performance(agency_id, args.get("from_"), args.get("to"), scope=g.caller)
