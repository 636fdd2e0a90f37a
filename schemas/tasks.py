from collections.abc import Iterator
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import BodySchema, Day, Int, Integer, Note, OneOrMore, PageArgs, Text, flat_messages
from schemas.words import words
from service.i18n import _l
from service.tasks.models import ORIGINS, OUTCOMES, STATUSES, TYPES

OUTCOME_HELP = "; ".join(f"{t}: {' | '.join(o)}" for t, o in OUTCOMES.items())
Notes = lambda **kw: Note(5000, **kw)  # noqa: E731


class TaskIn(BodySchema):
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    agency_id = Int(metadata={"description": "The agency that does the work; an agency user's own by default "
                                             "(an agency opens tasks for itself only)."})
    title = Text(200, metadata={"description": "Default: the type and whom or what it is about."})
    due_date = Day(required=True)
    recipient_id = Int(allow_none=True, metadata={"description": "Needed for verification and school visits."})
    vendor_id = Int(allow_none=True, metadata={"description": "Needed for hygiene inspections and nutrition checks."})
    notes = Notes()
    assignee_id = Int(allow_none=True, metadata={"description": "A user of that agency who is to do it."})


class TaskPatch(BodySchema):
    """Any of these (an open task only)."""

    title = Text(200)
    due_date = Day()
    notes = Notes()
    assignee_id = Int(allow_none=True, metadata={"description": "A user of the task's agency; null: nobody yet."})


class ReferralIn(BodySchema):
    agency_id = Int(required=True, metadata={"description": "The agency that can act on it (not the task's own)."})
    reason = Text(1000, required=True, metadata={"example": "lives alone, leg wound not healing: needs a nurse"})
    due_date = Day(metadata={"description": "Default: a week after today."})


class CompleteIn(BodySchema):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": f"By type: {OUTCOME_HELP}."})
    notes = Notes(metadata={"description": "What was seen and done (an inspection's findings)."})
    completed_on = Day(metadata={"description": "Default: today; not in the future."})
    score = Int(validate=validate.Range(min=0, max=100), metadata={
        "description": "Hygiene inspections and nutrition checks: the inspection's score."})
    referral = fields.Nested(ReferralIn, metadata={
        "description": "Opens a follow_up for another agency, linked by source_task_id."})


class CancelIn(BodySchema):
    reason = Text(500, required=True)


class TaskLogIn(TaskIn):
    """One log pushed by an agency's own system: `task_id` and `complete` close a task opened
    here; without `task_id` a task is opened (and closed at once with `complete`)."""

    task_id = Int(metadata={"description": "A task opened here (recurring work, a referral) to complete."})
    type = fields.String(validate=validate.OneOf(TYPES))
    due_date = Day(metadata={"description": "Default: the day it was completed, or today."})
    external_ref = Text(100, metadata={"description": "Your system's id of the log: pushed again, it is a "
                                                      "duplicate, not a second task."})
    complete = fields.Nested(CompleteIn)

    @validates_schema
    def _opens_or_closes(self, data: dict[str, Any], **kwargs) -> None:
        if data.get("task_id") is None and not data.get("type"):
            raise ValidationError({"type": [_l("say what work it was (or give the task_id it completes)")]})
        if data.get("task_id") is not None and (data.keys() - {"task_id", "complete"}):
            extra = ", ".join(sorted(data.keys() - {"task_id", "complete"}))
            raise ValidationError({"task_id": [
                _l("a log of an existing task has only task_id and complete, not %(extra)s", extra=extra)]})


def load_logs(items: list) -> Iterator[tuple[int, dict | None, dict[str, list[str]]]]:
    """Each log read on its own, as it is taken: ``(row, fields or None, errors)``; rows count
    from 1. Lazy, so that a push over the limit is refused before its logs are all read."""
    schema = TaskLogIn()
    for row, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield row, None, {"_body": [_l("each log is a JSON object")]}
            continue
        try:
            yield row, schema.load(item), {}
        except ValidationError as error:
            yield row, None, flat_messages(error.messages)


class TaskArgs(PageArgs):
    agency_id = Integer()
    type = OneOrMore(TYPES)
    status = OneOrMore(STATUSES)
    overdue = fields.Boolean(metadata={"description": "Open and due before today (true), or not (false)."})
    recipient_id = Integer()
    vendor_id = Integer()
    assignee_id = Integer()
    source_task_id = Integer(metadata={"description": "Referrals made from this task."})
    origin = OneOrMore(ORIGINS)
    due_before = Day()


class LogsArgs(Schema):
    dry_run = fields.Boolean(load_default=False)


class SubjectOut(Schema):
    """Whom the work is about: what the visitor needs to find them (no NIK, no health notes)."""

    id = Integer()
    name = fields.String()
    address = fields.String()
    village = fields.Function(lambda r: r.village.name, metadata={"type": "string"})
    phone = fields.String(allow_none=True)


def task_title(task) -> str | None:
    """A task's title as the API says it: the one typed, else the service's words for the code it
    wrote (a school visit, a referral...), in the reader's language."""
    return task.title or words(task.title_code)


class TaskOut(Schema):
    id = Integer()
    type = fields.String(metadata={"description": " | ".join(TYPES)})
    agency_id = Integer()
    agency = fields.Function(lambda t: t.agency.name, metadata={"type": "string"})
    title = fields.Function(task_title, metadata={"type": "string"})
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    overdue = fields.Boolean(metadata={"description": "Open and due before today (the program's local day)."})
    opened_on = fields.Date()
    due_date = fields.Date()
    recipient_id = Integer(allow_none=True)
    recipient = fields.Nested(SubjectOut, allow_none=True)
    vendor_id = Integer(allow_none=True)
    notes = fields.Function(lambda t: t.notes or words(t.notes_code), allow_none=True, metadata={"type": "string"})
    codes = fields.Function(lambda t: {k: v for k, v in (("title", t.title_code), ("notes", t.notes_code),
                                                         ("outcome_notes", t.outcome_code)) if v}, metadata={
        "type": "object", "description": "What the service wrote of the title, notes and outcome, as codes "
                                         "(the fields above give them in words where people wrote nothing)."})
    origin = fields.String(metadata={"description": "manual | recurring (the job runner) | referral | log"})
    source_task_id = Integer(allow_none=True, metadata={"description": "The task whose referral opened it."})
    referral_ids = fields.List(Integer(), metadata={"description": "Follow-ups this task referred."})
    assignee_id = Integer(allow_none=True)
    external_ref = fields.String(allow_none=True)
    created_by = Integer(allow_none=True)
    outcome = fields.String(allow_none=True)
    outcome_notes = fields.Function(lambda t: t.outcome_notes or words(t.outcome_code), allow_none=True,
                                    metadata={"type": "string"})
    completed_on = fields.Date(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    completed_by = Integer(allow_none=True)
    inspection_id = Integer(allow_none=True, metadata={"description": "The inspection it recorded."})
    version = Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ChainLinkOut(Schema):
    """A task of a referral chain. Another agency's task shows where it stands, not its notes."""

    id = Integer()
    type = fields.String()
    agency_id = Integer()
    agency = fields.String()
    status = fields.String()
    overdue = fields.Boolean()
    due_date = fields.Date()
    completed_on = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True)
    source_task_id = Integer(allow_none=True)
    title = fields.Function(task_title, allow_none=True, metadata={
        "type": "string", "description": "Only for the caller's own agency's tasks."})
    notes = fields.Function(lambda t: t.notes or words(t.notes_code), allow_none=True, metadata={
        "type": "string", "description": "Only for the caller's own agency's tasks."})
    outcome_notes = fields.Function(lambda t: t.outcome_notes or words(t.outcome_code), allow_none=True, metadata={
        "type": "string", "description": "Only for the caller's own agency's tasks."})


class ChainOut(Schema):
    task_id = Integer()
    root_id = Integer()
    items = fields.List(fields.Nested(ChainLinkOut))


class LogErrorOut(Schema):
    row = Integer()
    field = fields.String()
    message = fields.String()


class LogResultOut(Schema):
    row = Integer()
    status = fields.String(metadata={"description": "created | completed | duplicate | rejected"})
    task_id = Integer(allow_none=True)


class LogReportOut(Schema):
    dry_run = fields.Boolean()
    created = Integer(metadata={"description": "Tasks opened (with dry_run: would be)."})
    completed = Integer(metadata={"description": "Tasks completed, opened by this push or before."})
    duplicates = Integer(metadata={"description": "Logs whose external_ref was pushed before."})
    rejected = Integer()
    errors = fields.List(fields.Nested(LogErrorOut))
    items = fields.List(fields.Nested(LogResultOut))


class RecurringOut(Schema):
    date = fields.Date()
    school_visits = Integer()
    hygiene_inspections = Integer()
    verification_visits = Integer()
    flag_follow_ups = Integer()
    cancelled = Integer(metadata={"description": "Recurring work no longer needed, cancelled."})
    skipped = fields.List(fields.String(), metadata={"description": "Work not opened, and why."})


class PerformanceArgs(Schema):
    from_ = Day(data_key="from", metadata={"description": "Default: 30 days before `to`."})
    to = Day(metadata={"description": "Default: today."})


class TaskCountsOut(Schema):
    type = fields.String(allow_none=True)
    opened = Integer(metadata={"description": "Opened in the period."})
    done_on_time = Integer(metadata={"description": "Done in the period, on or before the due date."})
    done_late = Integer(metadata={"description": "Done in the period, after the due date."})
    cancelled = Integer()
    overdue = Integer(metadata={"description": "Due in the period, still open, and due before today."})
    open = Integer(metadata={"description": "Due in the period and still open."})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "done_on_time / all done."})
