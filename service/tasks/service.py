"""Agency tasks: opening, listing, completing (with what completing a task does to the program),
referrals between agencies, and the open tasks that work recorded elsewhere completes. Task logs
pushed in bulk are ``logs``; each agency's counts, ``performance``.

Agency staff see and complete their own agency's tasks only (``Task.visible_to(scope)``): any
other id is "not found", never "forbidden". The program office and the job runner reach every
task.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select, true
from sqlalchemy.orm import selectinload

from service.accounts.models import REGISTRY_KINDS, Agency, User
from service.accounts.scope import Scope
from service.assignments.models import Assignment
from service.codes import Code, code
from service.db import Page, Showing, check_version, equals, fetch_visible, paginate, utcnow
from service.errors import Forbidden, Invalid, InvalidTransition
from service.extensions import db
from service.i18n import _l
from service.program.clock import today
from service.recipients import service as recipients
from service.recipients.events import FlagCleared, RecipientVerified
from service.recipients.models import Recipient
from service.tasks.models import (
    FLAG_FOLLOW_UP,
    KIND_TYPES,
    NEEDS_RECIPIENT,
    NEEDS_VENDOR,
    OUTCOMES,
    TYPES,
    Task,
    flag_follow_up_key,
)
from service.tasks.recurring import Spreader
from service.vendors import service as vendors
from service.vendors.events import InspectionRecorded
from service.vendors.models import Inspection, Vendor
from service.volunteers.events import ClaimsEnded, ConcernRaised
from service.volunteers.models import FOLLOWED_UP

REFERRAL_DUE_DAYS = 7  # a referral's follow-up is due a week after the visit that raised it
INSPECTION_KIND = {"hygiene_inspection": "hygiene", "nutrition_check": "nutrition"}
TASK_OF_KIND = {kind: type_ for type_, kind in INSPECTION_KIND.items()}


def _agency(agency_id: int, field_name: str = "agency_id") -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise Invalid({field_name: [_l("agency %(agency_id)s does not exist", agency_id=agency_id)]})
    return agency


def _may_do_the_work(assignee_id: int | None, agency_id: int) -> bool:
    """Nobody yet (None), or an active user of the agency."""
    if assignee_id is None:
        return True
    assignee = db.session.get(User, assignee_id)
    return assignee is not None and assignee.agency_id == agency_id and assignee.active


def reachable_by(agency: Agency):
    """SQL, on ``Recipient``: the agency has a reason to reach the recipient, so its tasks may be
    about them (and show their name, address and phone to its staff): its kind reads the registry
    anyway (social, data), or it has an open task of its own about them, or a referral about them
    came to it, or they eat at a stall it inspects: one where its staff recorded an inspection, or
    whose inspection the job runner or another agency or the program office asked of it. Work an
    agency opens itself about a stall gives it no reach (anyone may open a task about any stall),
    so nothing it can do alone, dry run or not, turns a stranger into someone it reaches. Any
    other recipient is, to that agency, one that does not exist."""
    if agency.kind in REGISTRY_KINDS:
        return true()
    own_work = exists().where(Task.agency_id == agency.id, Task.recipient_id == Recipient.id,
                              or_(Task.status == "open", Task.origin == "referral"))
    its_staff = select(User.id).where(User.agency_id == agency.id)
    inspected = select(Inspection.vendor_id).where(Inspection.inspector_id.in_(its_staff))
    asked = select(Task.vendor_id).where(
        Task.agency_id == agency.id, Task.status == "open", Task.type.in_(tuple(INSPECTION_KIND)),
        Task.vendor_id.is_not(None), or_(Task.created_by.is_(None), Task.created_by.not_in(its_staff)))
    at_its_stalls = exists().where(Assignment.recipient_id == Recipient.id,
                                   Assignment.vendor_id.in_(inspected.union(asked)))
    return or_(own_work, at_its_stalls)


def _recipient(recipient_id: int, agency: Agency, restricted: bool) -> Recipient | None:
    """The recipient, if the task's agency may be sent to them: an agency opening its own work
    only to those it has a reason to reach; the coordinator and referrals to anyone."""
    query = select(Recipient).where(Recipient.id == recipient_id)
    if restricted:
        query = query.where(reachable_by(agency))
    return db.session.scalar(query)


def default_title(type_: str, recipient: Recipient | None, vendor: Vendor | None) -> Code:
    """The title a task gets when nobody gave it one: its type, and whom or what it is about."""
    subject = recipient.name if recipient else vendor.name if vendor else None
    return code("task_title", type=type_, subject=subject)


def create_task(
    type: str, due_date: dt.date, title: str | None = None, agency_id: int | None = None,
    recipient_id: int | None = None, vendor_id: int | None = None, notes: str | None = None,
    assignee_id: int | None = None, *, scope: Scope, origin: str = "manual", external_ref: str | None = None,
    opened_on: dt.date | None = None,
) -> TaskShown:
    """Open a task, today or (``opened_on``: a log of work done before it was entered) on a past
    day. The coordinator opens one for any agency; an agency opens its own (work for another
    agency goes there as a referral, when completing a task). It is not due before it opens."""
    if scope.agency is not None:
        if agency_id is not None and agency_id != scope.agency:
            raise Forbidden(_l("an agency opens tasks for itself; to hand work to another agency, complete "
                               "your task with a referral"))
        agency_id = scope.agency
    return shown(_open(type, due_date, title, agency_id, recipient_id, vendor_id, notes, assignee_id,
                       by=scope.user_id, restricted=scope.agency is not None, origin=origin,
                       external_ref=external_ref, opened_on=opened_on))


def _open(
    type: str, due_date: dt.date, title: str | None, agency_id: int | None, recipient_id: int | None,
    vendor_id: int | None, notes: str | None, assignee_id: int | None, *, by: int | None, restricted: bool,
    origin: str, external_ref: str | None = None, opened_on: dt.date | None = None,
    source_task_id: int | None = None, title_code: Code | None = None, notes_code: Code | None = None,
) -> Task:
    """A new task for ``agency_id``: every check on its fields, and (``restricted``: an agency
    opening its own) on the recipients it may reach."""
    if agency_id is None:
        raise Invalid({"agency_id": [_l("say which agency does the work")]})
    agency = _agency(agency_id)
    opened_on = opened_on or today()
    errors = _type_errors(type, agency)
    recipient, vendor, subject_errors = _subjects(type, agency, recipient_id, vendor_id, restricted)
    errors.update(subject_errors)
    if due_date < opened_on:
        errors["due_date"] = [_l("cannot be before %(value)s (%(opened_on)s)",
                                 value=_l("today") if opened_on == today() else _l("it was opened"),
                                 opened_on=opened_on)]
    if not _may_do_the_work(assignee_id, agency_id):
        errors["assignee_id"] = [_l("user %(assignee_id)s is not an active user of agency %(agency_id)s",
                                    assignee_id=assignee_id, agency_id=agency_id)]
    if errors:
        raise Invalid(errors)
    title = (title or "").strip() or None
    task = Task(type=type, agency=agency, title=title,
                title_code=None if title else title_code or default_title(type, recipient, vendor),
                opened_on=opened_on, due_date=due_date, recipient_id=recipient_id, vendor_id=vendor_id,
                notes=notes, notes_code=None if notes else notes_code, origin=origin, source_task_id=source_task_id,
                external_ref=external_ref,
                assignee_id=assignee_id, created_by=by)
    db.session.add(task)
    db.session.flush()
    return task


def open_work(type_: str, agency_id: int, due_date: dt.date, title: Code, *, origin: str,
              recipient_id: int | None = None, vendor_id: int | None = None, assignee_id: int | None = None,
              source_task_id: int | None = None, by: int | None = None, notes: Code | None = None) -> Task:
    """Work the program opens for an agency on its own account (a complaint routed to it, handed on
    to it): the checks of any task, any recipient (the program reaches everyone)."""
    return _open(type_, max(due_date, today()), None, agency_id, recipient_id, vendor_id, None, assignee_id, by=by,
                 restricted=False, origin=origin, source_task_id=source_task_id, title_code=title, notes_code=notes)


def _type_errors(type_: str, agency: Agency) -> dict[str, list[str]]:
    if type_ not in TYPES:
        return {"type": [_l("must be one of %(value)s", value=", ".join(TYPES))]}
    if type_ not in KIND_TYPES[agency.kind]:
        allowed = ", ".join(sorted(KIND_TYPES[agency.kind]))
        return {"type": [_l("%(kind)s agencies do not do %(type)s (they do %(allowed)s)",
                            kind=agency.kind, type=type_, allowed=allowed)]}
    return {}


def _subjects(type_: str, agency: Agency, recipient_id: int | None, vendor_id: int | None, restricted: bool
              ) -> tuple[Recipient | None, Vendor | None, dict[str, list[str]]]:
    """Whom and what the task is about, and what is wrong with them: the recipient must be one the
    agency may reach (``restricted``), else it is one that does not exist."""
    errors: dict[str, list[str]] = {}
    recipient = _recipient(recipient_id, agency, restricted) if recipient_id is not None else None
    vendor = db.session.get(Vendor, vendor_id) if vendor_id is not None else None
    if recipient_id is not None and recipient is None:  # or out of the agency's reach: the same answer
        errors["recipient_id"] = [_l("recipient %(recipient_id)s does not exist", recipient_id=recipient_id)]
    elif recipient is None and type_ in NEEDS_RECIPIENT:
        errors["recipient_id"] = [_l("a %(type_)s is about a recipient: give recipient_id", type_=type_)]
    if vendor_id is not None and vendor is None:
        errors["vendor_id"] = [_l("vendor %(vendor_id)s does not exist", vendor_id=vendor_id)]
    elif vendor is None and type_ in NEEDS_VENDOR:
        errors["vendor_id"] = [_l("a %(type_)s is of a stall: give vendor_id", type_=type_)]
    return recipient, vendor, errors


# A task as it is shown: whom it is about (without their pauses) and the ids of its referrals
# (without anything of theirs). A page of tasks costs the same few queries as one task.
AS_SHOWN = (selectinload(Task.recipient).lazyload(Recipient.pauses), selectinload(Task.referrals).lazyload("*"))


@dataclass(frozen=True)
class TaskShown(Showing):
    """A task as shown: its row, and whether it is overdue today (the program's local day)."""

    subject: Task
    overdue: bool


def shown(task: Task, day: dt.date | None = None) -> TaskShown:
    return TaskShown(task, task.overdue_on(day or today()))


def _task(task_id: int, scope: Scope, for_update: bool = False) -> Task:
    """The task's row, if ``scope`` reaches it (agency staff: their agency's); else "not found"."""
    return fetch_visible(db.session, Task, task_id, scope, for_update=for_update, options=AS_SHOWN)


def get_task(task_id: int, scope: Scope) -> TaskShown:
    return shown(_task(task_id, scope))


def list_tasks(
    page: int, per_page: int, agency_id: int | None = None, type: str | None = None, status: str | None = None,
    overdue: bool | None = None, recipient_id: int | None = None, vendor_id: int | None = None,
    assignee_id: int | None = None, source_task_id: int | None = None, origin: str | None = None,
    due_before: dt.date | None = None, *, scope: Scope,
) -> Page[TaskShown]:
    """Tasks by due date (the most pressing first). An agency sees its own only."""
    query = select(Task).where(Task.visible_to(scope)).options(*AS_SHOWN).order_by(Task.due_date, Task.id)
    for column, value in ((Task.agency_id, agency_id), (Task.type, type), (Task.status, status),
                          (Task.recipient_id, recipient_id), (Task.vendor_id, vendor_id),
                          (Task.assignee_id, assignee_id), (Task.source_task_id, source_task_id),
                          (Task.origin, origin)):
        if value is not None:
            query = query.where(equals(column, value))
    if due_before is not None:
        query = query.where(Task.due_date < due_before)
    if overdue is not None:
        late = and_(Task.status == "open", Task.due_date < today())
        query = query.where(late if overdue else ~late)
    found = paginate(db.session, query, page, per_page)
    day = today()
    return Page(items=[shown(t, day) for t in found.items], page=page, per_page=per_page, total=found.total)


def update_task(task_id: int, changes: dict[str, Any], expected_version: int | None = None, *,
                scope: Scope) -> TaskShown:
    """Edit an open task: hand it to another user of the agency, move its due date, retitle it,
    add notes. Done and cancelled tasks are history (409)."""
    task = _task(task_id, scope, for_update=True)
    check_version(task, expected_version)
    if task.status != "open":
        raise InvalidTransition(_l("task %(task_id)s is %(status)s: it is history now",
                                   task_id=task_id, status=task.status), task_status=task.status)
    errors: dict[str, list[str]] = {}
    if "due_date" in changes and changes["due_date"] < today() and changes["due_date"] != task.due_date:
        errors["due_date"] = [_l("cannot be moved before today (%(value)s)", value=today())]
    if not _may_do_the_work(changes.get("assignee_id"), task.agency_id):
        errors["assignee_id"] = [_l("user %(assignee_id)s is not an active user of agency %(agency_id)s",
                                    assignee_id=changes['assignee_id'], agency_id=task.agency_id)]
    if errors:
        raise Invalid(errors)
    for key, value in changes.items():
        setattr(task, key, value.strip() if key == "title" else value)
    db.session.flush()
    return shown(task)


def complete_task(
    task_id: int, outcome: str, notes: str | None = None, completed_on: dt.date | None = None,
    referral: dict | None = None, score: int | None = None, *, scope: Scope,
) -> TaskShown:
    """Record that the work is done: the outcome, notes, the day and who. Completing does what the
    work means, in the same transaction, so nothing is entered twice:

    - ``verification_visit``: ``verified`` or ``rejected`` verifies or rejects the candidate;
    - ``hygiene_inspection`` / ``nutrition_check``: ``passed`` or ``failed`` (with ``score``)
      records the inspection on the stall, with the rules of ``POST /vendors/{id}/inspections``;
    - ``school_visit``: ``visited`` or ``concern`` counts for ``visit_rate``; a ``concern`` needs a
      referral to the agency that can act on it;
    - a follow-up of a flagged recipient, ``resolved``, clears the flag.

    A ``referral`` ``{agency_id, reason, due_date?}`` opens a ``follow_up`` for another agency,
    linked by ``source_task_id``. A task is completed once (409 after).
    """
    task = _task(task_id, scope, for_update=True)
    if task.status != "open":
        raise InvalidTransition(_l("task %(task_id)s is %(status)s already", task_id=task_id, status=task.status),
                                task_status=task.status)
    day = today()
    completed_on = completed_on or day
    to_agency = db.session.get(Agency, referral["agency_id"]) if referral else None
    errors = _completion_errors(task, outcome, completed_on, score, referral, to_agency, day)
    if errors:
        raise Invalid(errors)
    task.status, task.outcome, task.outcome_notes = "done", outcome, notes
    task.completed_on, task.completed_at, task.completed_by = completed_on, utcnow(), scope.user_id
    db.session.flush()
    _act(task, outcome, notes, completed_on, score, scope)
    if to_agency is not None:
        _open("follow_up", referral.get("due_date") or day + dt.timedelta(days=REFERRAL_DUE_DAYS), None,
              to_agency.id, task.recipient_id, task.vendor_id, referral["reason"], None, by=scope.user_id,
              restricted=False, origin="referral", source_task_id=task.id, opened_on=completed_on,
              title_code=code("referral", agency=task.agency.name, reason=referral["reason"]))
        db.session.expire(task, ["referrals"])
    return shown(task)


def _completion_errors(task: Task, outcome: str, completed_on: dt.date, score: int | None, referral: dict | None,
                       to_agency: Agency | None, day: dt.date) -> dict[str, list[str]]:
    """What is wrong with completing ``task`` so, field by field (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if outcome not in OUTCOMES[task.type]:
        errors["outcome"] = [_l("a %(type)s ends as one of %(value)s",
                                type=task.type, value=', '.join(OUTCOMES[task.type]))]
    if completed_on > day:
        errors["completed_on"] = [_l("cannot be after today (%(day)s)", day=day)]
    if task.type in INSPECTION_KIND and score is None:
        errors["score"] = [_l("an inspection records its score (0-100)")]
    if task.type not in INSPECTION_KIND and score is not None:
        errors["score"] = [_l("only inspections have a score, not a %(type)s", type=task.type)]
    if outcome == "concern" and not referral:
        errors["referral"] = [_l("a concern goes to the agency that can act on it: add a referral")]
    if referral:
        if to_agency is None:
            errors["referral.agency_id"] = [_l("agency %(agency_id)s does not exist", agency_id=referral['agency_id'])]
        elif to_agency.id == task.agency_id:
            errors["referral.agency_id"] = [_l("a referral goes to another agency")]
        if referral.get("due_date") is not None and referral["due_date"] < day:
            errors["referral.due_date"] = [_l("cannot be before today (%(day)s)", day=day)]
    return errors


def _act(task: Task, outcome: str, notes: str | None, completed_on: dt.date, score: int | None,
         scope: Scope) -> None:
    """What the completed work changes in the program."""
    if task.type == "verification_visit" and outcome in ("verified", "rejected"):
        recipients.verify_recipient(task.recipient_id, eligible=outcome == "verified", notes=notes, scope=scope)
    elif task.type in INSPECTION_KIND:
        inspection = vendors.record_inspection(task.vendor_id, INSPECTION_KIND[task.type], completed_on, score,
                                               passed=outcome == "passed", findings=notes, scope=scope)
        task.inspection_id = inspection.id
    elif (task.type == "follow_up" and outcome == "resolved" and task.dedupe_key
          and task.dedupe_key.startswith(FLAG_FOLLOW_UP)):
        person = recipients.get_recipient(task.recipient_id)
        if person.flagged_on is not None:
            recipients.clear_flag(person.id, scope=scope)
    db.session.flush()


def cancel_task(task_id: int, reason: str, *, scope: Scope) -> TaskShown:
    """Close a task that no longer needs doing (the recipient moved away, a duplicate)."""
    task = _task(task_id, scope, for_update=True)
    if task.status != "open":
        raise InvalidTransition(_l("task %(task_id)s is %(status)s already", task_id=task_id, status=task.status),
                                task_status=task.status)
    task.status, task.outcome_notes = "cancelled", reason
    task.completed_on, task.completed_at, task.completed_by = today(), utcnow(), scope.user_id
    db.session.flush()
    return shown(task)


@dataclass
class ChainLink:
    """A task of a referral chain as the caller may see it: another agency's task shows where it
    stands, not what its notes say."""

    id: int
    type: str
    agency_id: int
    agency: str
    status: str
    overdue: bool
    due_date: dt.date
    completed_on: dt.date | None
    outcome: str | None
    source_task_id: int | None
    title: str | None = None
    title_code: dict | None = None
    notes: str | None = None
    notes_code: dict | None = None
    outcome_notes: str | None = None
    outcome_code: dict | None = None


@dataclass
class Chain:
    task_id: int
    root_id: int
    items: list[ChainLink]


def task_chain(task_id: int, scope: Scope) -> Chain:
    """The referral chain a task belongs to, from the task that started it through every referral
    that followed, in order of opening: readable from any task of it the caller may see."""
    task = _task(task_id, scope)
    root, seen = task, {task.id}
    while root.source_task_id is not None and root.source_task_id not in seen:
        seen.add(root.source_task_id)
        root = db.session.get(Task, root.source_task_id)
    chain, level = [root], [root]
    while level:  # one query a generation of referrals, not one a task
        level = db.session.scalars(select(Task).where(Task.source_task_id.in_([t.id for t in level]))).all()
        chain.extend(level)
    day = today()
    links = []
    for t in sorted(chain, key=lambda t: t.id):
        mine = scope.agency is None or t.agency_id == scope.agency
        links.append(ChainLink(
            id=t.id, type=t.type, agency_id=t.agency_id, agency=t.agency.name, status=t.status,
            overdue=t.overdue_on(day), due_date=t.due_date, completed_on=t.completed_on, outcome=t.outcome,
            source_task_id=t.source_task_id,
            **({"title": t.title, "title_code": t.title_code, "notes": t.notes, "notes_code": t.notes_code,
                "outcome_notes": t.outcome_notes, "outcome_code": t.outcome_code} if mine else {})))
    return Chain(task_id=task.id, root_id=root.id, items=links)


def settle_open(type_: str, outcome: str, completed_on: dt.date, *, scope: Scope,
                recipient_id: int | None = None, vendor_id: int | None = None, notes: str | None = None,
                outcome_code: Code | None = None, inspection_id: int | None = None,
                dedupe_key: str | None = None) -> list[Task]:
    """Complete the open tasks of ``type_`` for this recipient or stall with ``outcome``, as done
    by the ``scope``'s user (none: the job runner, or a command)."""
    query = select(Task).where(Task.type == type_, Task.status == "open")
    if recipient_id is not None:
        query = query.where(Task.recipient_id == recipient_id)
    if vendor_id is not None:
        query = query.where(Task.vendor_id == vendor_id)
    if dedupe_key is not None:
        query = query.where(Task.dedupe_key == dedupe_key)
    tasks = db.session.scalars(query).all()
    for task in tasks:
        task.status, task.outcome, task.outcome_notes, task.outcome_code = "done", outcome, notes, outcome_code
        task.completed_on, task.completed_at, task.completed_by = completed_on, utcnow(), scope.user_id
        task.inspection_id = inspection_id
    db.session.flush()
    return tasks


# One action, one truth: work recorded directly (a verification through the recipient's endpoint,
# an inspection through the stall's) completes the open task that asked for it, so nobody enters
# it twice. The registry and the stalls say what happened; these act on it (service/wiring.py).

def on_verified(event: RecipientVerified) -> None:
    settle_open("verification_visit", event.status, event.on, scope=event.scope, recipient_id=event.recipient_id,
                notes=event.notes)


def on_flag_cleared(event: FlagCleared) -> None:
    settle_open("follow_up", "resolved", event.on, scope=event.scope, recipient_id=event.recipient_id,
                outcome_code=code("flag_cleared"), dedupe_key=flag_follow_up_key(event.recipient_id, event.flagged_on))


def on_inspection(event: InspectionRecorded) -> None:
    settle_open(TASK_OF_KIND[event.kind], "passed" if event.passed else "failed", event.on, scope=event.scope,
                vendor_id=event.vendor_id, notes=event.findings, inspection_id=event.inspection_id)


# What volunteers leave to the social agency: a person whose volunteer stopped helping without
# anyone deciding it (released, no-show, suspended, account closed) and a volunteer's concern.
CLAIM_FOLLOW_UP_DUE_DAYS = 2  # someone fed until yesterday may be unfed today: urgent


def _social_follow_up(recipient_id: int, due_date: dt.date, key: str, title: Code, **fields: Any) -> Task | None:
    """A follow-up for the least-loaded social agency (and user), once per ``key``; none when the
    program has no social agency."""
    if db.session.scalar(select(Task.id).where(Task.dedupe_key == key, Task.status == "open").limit(1)):
        return None
    spreader = Spreader("social", "follow_up")
    if not spreader:
        return None
    agency_id, user_id = spreader.take()
    task = _open("follow_up", due_date, None, agency_id, recipient_id, None, fields.pop("notes", None), user_id,
                 by=None, restricted=False, origin="volunteer", title_code=title)
    task.dedupe_key = key
    for name, value in fields.items():
        setattr(task, name, value)
    db.session.flush()
    return task


def on_claims_ended(event: ClaimsEnded) -> None:
    day = today()
    for ended in event.claims:
        if ended.reason not in FOLLOWED_UP:
            continue
        person = db.session.get(Recipient, ended.recipient_id)
        _social_follow_up(ended.recipient_id, day + dt.timedelta(days=CLAIM_FOLLOW_UP_DUE_DAYS),
                          f"follow_up:claim:{ended.claim_id}",
                          code("claim_follow_up", reason=ended.reason, subject=person.name),
                          notes_code=code("claim_ended_note", reason=ended.reason))


def on_concern_raised(event: ConcernRaised) -> None:
    person = db.session.get(Recipient, event.recipient_id)
    _social_follow_up(event.recipient_id, max(event.on, today()) + dt.timedelta(days=REFERRAL_DUE_DAYS),
                      f"follow_up:visit:{event.visit_id}", code("volunteer_concern", subject=person.name),
                      notes=event.concern, volunteer_visit_id=event.visit_id)
