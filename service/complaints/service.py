"""Complaints from the public: intake with a tracking code and working-day deadlines, routing to
the agency that answers for the category (a ``complaint`` task, or for an elderly person nobody
reaches a ``verification_visit`` of a new candidate), the lifecycle, the complainant's reading and
reopening by code, staff's lists, and the job runner's watch over deadlines.

Statuses: ``received -> forwarded`` (a task opened for the agency; at once when the category has a
route, else by the coordinator's triage) ``-> in_progress -> answered -> closed``; or ``rejected``
with a reason code from any open status. The complainant may reopen an answer once within
``REOPEN_DAYS``: it is forwarded again, to be answered within 5 working days; unreopened, the
job runner closes it after that.

Who sees what: the complainant, by code, the category, status, dates, deadlines and the public
answer (``PublicComplaint``). The coordinator every complaint, its contact too. An agency the
complaints it answers for now, and the contact unless the complaint is ``confidential``. Anyone
else: "not found".
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import selectinload

from service.accounts.models import REGISTRY_KINDS, Agency
from service.accounts.scope import Scope
from service.codes import code
from service.complaints import places
from service.complaints.models import (
    CATEGORIES,
    DEFAULT_ROUTES,
    FORWARD_WORKING_DAYS,
    OPEN,
    REJECT_REASONS,
    REOPEN_DAYS,
    RESPOND_WORKING_DAYS,
    ROUTABLE,
    Complaint,
    ComplaintCode,
    ComplaintEvent,
    ComplaintRoute,
)
from service.db import Page, Showing, bind, equals, fetch_visible, paginate, working_region
from service.errors import Conflict, Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _l
from service.program import calendar, clock, regions
from service.program.clock import today
from service.program.service import get_village, settings
from service.recipients import service as recipients
from service.recipients.models import Recipient
from service.recipients.rules import MAX_AGE, coordinates_error, identity_errors, nik_birth_date, nik_sex
from service.tasks import service as tasks
from service.tasks.models import Task
from service.tasks.recurring import Spreader
from service.text import e164_of
from service.vendors.models import Vendor

# A tracking code: "RK-" and 8 characters of an alphabet without 0/O and 1/I (32 of them: 5 bits
# each, 40 bits in all), read out on the phone without doubt and never guessed.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_RE = re.compile(rf"^RK([{ALPHABET}]{{4}})([{ALPHABET}]{{4}})$")
NOT_FOUND = NotFound("complaint", _l("with this code"))  # an unknown code and a malformed one alike


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"RK-{chars[:4]}-{chars[4:]}"


def normal_code(text: str) -> str | None:
    """A tracking code as people type it (lower case, spaces or no hyphens: ``rk 7kq4 9mzp``) in
    its one form, or None when it cannot be one."""
    if len(text) > 40:
        return None
    found = CODE_RE.match(re.sub(r"[\s-]", "", text.upper()))
    return f"RK-{found[1]}-{found[2]}" if found else None


def _record(complaint: Complaint, action: str, scope: Scope | None = None) -> None:
    complaint.history.append(ComplaintEvent(
        status=complaint.status, action=action, at=clock.now(),
        user_id=scope.user_id if scope else None, agency_id=scope.agency if scope else None))


# --- intake ---------------------------------------------------------------------------------------

def _check_elderly(elderly: dict[str, Any]) -> dict[str, Any]:
    """What the reporter said of an elderly person, checked as the registry checks a record: the
    NIK (when given) against the birth date and sex it encodes, and the program's minimum age."""
    try:
        village = get_village(elderly["village_id"])
    except Invalid as exc:
        raise Invalid({f"elderly.{k}": v for k, v in exc.errors.items()}) from None
    out = {**elderly, "name": elderly["name"].strip(), "village_id": village.id}
    nik = elderly.get("nik")
    if nik:
        program = settings()
        day = today(program)
        errors = identity_errors(nik, None, None, program.min_age, day)  # the NIK's own form first
        birth_date = None
        if not errors:
            birth_date = elderly.get("birth_date") or nik_birth_date(nik, program.min_age, day)
            errors = {"birth_date": [_l("the NIK's birth date (%(digits)s) is of nobody the program serves (at least "
                                        "%(min_age)s, at most %(max_age)s): give the birth date",
                                        digits=nik[6:12], min_age=program.min_age, max_age=MAX_AGE)]} \
                if birth_date is None else identity_errors(nik, birth_date, elderly.get("sex"), program.min_age, day)
        if errors:
            raise Invalid({f"elderly.{key}": value for key, value in errors.items()})
        out["birth_date"], out["sex"] = birth_date, nik_sex(nik)
    return out


def file_complaint(category: str, description: str, *, contact_name: str | None = None,
                   contact_phone: str | None = None, contact_email: str | None = None, village_id: int | None = None,
                   recipient_id: int | None = None, vendor_id: int | None = None, latitude: float | None = None,
                   longitude: float | None = None, address: str | None = None, media_url: str | None = None,
                   anonymous: bool = False, confidential: bool = False, elderly: dict | None = None,
                   channel: str = "api") -> Complaint:
    """A new complaint, with its tracking code and deadlines, routed at once where a route exists.
    Anonymous: no contact is kept at all (what was sent is dropped). Where it is: ``places.locate``."""
    if category not in CATEGORIES:
        raise Invalid({"category": [_l("one of %(value)s", value=', '.join(CATEGORIES))]})
    description = description.strip()
    if len(description) < 10:
        raise Invalid({"description": [_l("say what happened in at least 10 characters")]})
    if elderly is not None and category != "unreached_elderly":
        raise Invalid({"elderly": [_l("only a report of an unreached elderly person (category "
                                      "unreached_elderly) tells of one")]})
    if error := coordinates_error(latitude, longitude):
        raise Invalid({error[0]: [error[1]]})
    if anonymous and confidential:
        raise Invalid({"confidential": [_l("a report is anonymous (no contact kept) or confidential (a "
                                           "contact for the coordinator alone), not both")]})
    if anonymous:
        contact_name = contact_phone = contact_email = None
    phone = e164_of(contact_phone, "contact_phone") if contact_phone else None
    named = recipient_id is not None
    if named and db.session.get(Recipient, recipient_id) is None:
        recipient_id = None  # kept only when it is someone: the public may not learn which ids are
    vendor = db.session.get(Vendor, vendor_id) if vendor_id is not None else None
    if vendor_id is not None and vendor is None:
        raise Invalid({"vendor_id": [_l("stall %(vendor_id)s is not known", vendor_id=vendor_id)]})
    elderly = _check_elderly(elderly) if elderly is not None else None
    address = (address or "").strip() or None
    place = places.locate(category, latitude=latitude, longitude=longitude, address=address, village_id=village_id,
                          vendor=vendor, recipient_id=recipient_id, recipient_named=named,
                          elderly_village_id=elderly["village_id"] if elderly else None)
    received = clock.now()
    start, (forward_by, respond_by) = calendar.deadlines(received, FORWARD_WORKING_DAYS, RESPOND_WORKING_DAYS)
    complaint = Complaint(
        code=_unused_code(), category=category, description=description, status="received", channel=channel,
        anonymous=anonymous, confidential=confidential, contact_name=(contact_name or "").strip() or None,
        contact_phone=phone, contact_email=(contact_email or "").strip() or None, recipient_id=recipient_id,
        vendor_id=vendor_id, latitude=latitude, longitude=longitude, address=address,
        media_url=(media_url or "").strip() or None, **asdict(place), received_at=received, received_on=today(),
        counts_from=start, forward_by=forward_by, respond_by=respond_by, history=[],
        elderly=None if elderly is None else {k: (v.isoformat() if isinstance(v, dt.date) else v)
                                              for k, v in elderly.items() if v is not None})
    _record(complaint, "received")
    db.session.add(complaint)
    db.session.flush()
    _route(complaint, elderly)
    return complaint


def _unused_code() -> str:
    for _ in range(5):  # 2^40 codes: a clash is all but impossible; the code's key has the last word
        candidate = new_code()
        if db.session.get(ComplaintCode, candidate) is None:
            db.session.add(ComplaintCode(code=candidate, region_code=working_region(db.session)))
            return candidate
    raise Conflict(_l("no free tracking code: try again"))


# --- routing --------------------------------------------------------------------------------------

@dataclass
class Route:
    category: str
    agency_id: int | None  # the coordinator's choice, or None
    agency: str | None
    default_kind: str | None  # else the least-loaded agency of this kind; None: the coordinator's triage
    editable: bool


def routes() -> list[Route]:
    chosen = {r.category: r for r in db.session.scalars(select(ComplaintRoute))}
    return [Route(category=c, agency_id=chosen[c].agency_id if c in chosen else None,
                  agency=chosen[c].agency.name if c in chosen else None, default_kind=DEFAULT_ROUTES[c],
                  editable=c in ROUTABLE) for c in CATEGORIES]


def set_route(category: str, agency_id: int | None) -> list[Route]:
    """Send a category's complaints to ``agency_id`` (None: back to the default)."""
    if category not in CATEGORIES:
        raise NotFound("complaint category", category[:40])
    if category not in ROUTABLE:
        raise Invalid({"category": [_l("only %(value)s may be routed elsewhere: hygiene and food quality "
                                       "are the health agency's, unreached elderly the social agency's",
                                       value=', '.join(ROUTABLE))]})
    row = _route_of(category)
    if agency_id is None:
        if row is not None:
            db.session.delete(row)
    else:
        if db.session.get(Agency, agency_id) is None:
            raise Invalid({"agency_id": [_l("agency %(agency_id)s does not exist", agency_id=agency_id)]})
        if row is None:
            db.session.add(ComplaintRoute(category=category, agency_id=agency_id))
        else:
            row.agency_id = agency_id
    db.session.flush()
    return routes()


def _route_of(category: str) -> ComplaintRoute | None:
    return db.session.scalar(select(ComplaintRoute).where(ComplaintRoute.category == category))


def _responsible(category: str, type_: str) -> tuple[int, int | None] | None:
    """The agency (and its least-loaded user) that answers for ``category``; None: triage."""
    row = _route_of(category)
    if row is not None:
        return row.agency_id, None
    kind = DEFAULT_ROUTES[category]
    if kind is None:
        return None
    spreader = Spreader(kind, type_)
    return spreader.take() if spreader else None


def _route(complaint: Complaint, elderly: dict | None) -> None:
    """Forward a new complaint where its category goes. A report of an elderly person with a NIK
    becomes a candidate (``source: public_report``; or finds the one registered already) and a
    ``verification_visit`` for the social agency; without one, the social agency's complaint task
    carries what the reporter said."""
    type_ = "complaint"
    if elderly is not None and elderly.get("nik"):
        person = db.session.scalar(select(Recipient).where(Recipient.nik == elderly["nik"]))
        # The point is taken for their home only when the reporter put it in their village.
        given_village = complaint.village_id if complaint.village_source == "given" else None
        if person is None:
            person = recipients.register_recipient(
                nik=elderly["nik"], name=elderly["name"], birth_date=elderly["birth_date"], sex=elderly["sex"],
                address=elderly.get("address") or "", village_id=elderly["village_id"],
                latitude=complaint.latitude if given_village == elderly["village_id"] else None,
                longitude=complaint.longitude if given_village == elderly["village_id"] else None,
                source="public_report")
        complaint.reported_recipient_id = person.id
        if person.status == "candidate":
            type_ = "verification_visit"
    to = _responsible(complaint.category, type_)
    if to is not None:
        _forward(complaint, to[0], to[1], type_=type_, scope=None)


def _forward(complaint: Complaint, agency_id: int, assignee_id: int | None, *, type_: str = "complaint",
             scope: Scope | None, source_task_id: int | None = None,
             origin: str = "complaint", action: str = "forwarded") -> None:
    """Hand the complaint to ``agency_id``: a task for it, due when the answer is."""
    agency = db.session.get(Agency, agency_id)
    subject = complaint.reported_recipient_id if type_ == "verification_visit" else (
        complaint.recipient_id or complaint.reported_recipient_id)
    if agency.kind not in REGISTRY_KINDS and type_ != "verification_visit":
        # Whom the public named is not enough for an agency outside the registry to reach the
        # person (their name and address on its task): the complaint's ids say it, the task does not.
        subject = None
    task = tasks.open_work(
        type_, agency_id, complaint.reanswer_by or complaint.respond_by,
        code("complaint_task", category=complaint.category, tracking=complaint.code),
        origin=origin, recipient_id=subject,
        vendor_id=complaint.vendor_id, assignee_id=assignee_id, source_task_id=source_task_id,
        by=scope.user_id if scope else None, notes=places.task_note(complaint))
    complaint.agency_id, complaint.task_id = agency_id, task.id
    complaint.status = "forwarded"
    complaint.forwarded_at = complaint.forwarded_at or clock.now()
    _record(complaint, action, scope)
    db.session.flush()


# --- the complainant ------------------------------------------------------------------------------

@dataclass
class PublicComplaint:
    """What the complainant reads by code: nothing they did not write, no agency user's name, no
    other person's data."""

    code: str
    category: str
    status: str
    received_at: dt.datetime
    forward_by: dt.date
    respond_by: dt.date
    answered_at: dt.datetime | None
    public_answer: str | None
    reject_reason: str | None
    reopen_until: dt.date | None
    history: list[dict]


def by_code(text: str, *, for_update: bool = False) -> Complaint:
    """The complaint of a tracking code (the public's key; Open311's request id), however typed, in
    whichever region it was filed: the code is unique across regions, and what follows (a reopening)
    happens in the complaint's region, on its clock."""
    normal = normal_code(text)
    if normal is None:
        raise NOT_FOUND
    held = db.session.get(ComplaintCode, normal)
    if held is None:
        raise NOT_FOUND
    bind(db.session, (held.region_code,))
    query = select(Complaint).where(Complaint.code == normal)
    found = db.session.scalar(query.with_for_update() if for_update else query)
    if found is None:
        raise NOT_FOUND
    return found


def _reopen_until(complaint: Complaint) -> dt.date | None:
    if complaint.reopened_at is not None or complaint.answered_at is None or complaint.status not in ("answered",
                                                                                                      "closed"):
        return None
    return complaint.answered_on + dt.timedelta(days=REOPEN_DAYS)


def answer_due_at(complaint: Complaint) -> dt.datetime:
    """The moment the answer is due: the end of its last day on the complaint's region's clock
    (whichever region the session reads from: Open311 lists codes of several regions at once)."""
    return clock.end_of(complaint.reanswer_by or complaint.respond_by, regions.region(complaint.region_code))


def public_view(complaint: Complaint) -> PublicComplaint:
    return PublicComplaint(
        code=complaint.code, category=complaint.category, status=complaint.status,
        received_at=complaint.received_at, forward_by=complaint.forward_by,
        respond_by=complaint.reanswer_by or complaint.respond_by, answered_at=complaint.answered_at,
        public_answer=complaint.public_answer, reject_reason=complaint.reject_reason,
        reopen_until=_reopen_until(complaint),
        history=[{"status": e.status, "action": e.action, "at": e.at} for e in complaint.history])


def read_by_code(text: str) -> PublicComplaint:
    return public_view(by_code(text))


def by_codes(texts: list[str]) -> list[Complaint]:
    """The complaints of these codes, in their order; unknown and malformed ones left out."""
    codes = [c for c in (normal_code(t) for t in texts) if c is not None]
    if not codes:
        return []
    held_by = db.session.execute(select(ComplaintCode.region_code, ComplaintCode.code)
                                 .where(ComplaintCode.code.in_(codes))).all()
    # Each region's codes in one statement that names the region (on Citus, its shard only).
    by_region: dict[str, list[str]] = {}
    for region, held in held_by:
        by_region.setdefault(region, []).append(held)
    found = {c.code: c for region, held in by_region.items() for c in db.session.scalars(
        select(Complaint).where(Complaint.region_code == region, Complaint.code.in_(held))
        .execution_options(every_region=True))}
    return [found[c] for c in dict.fromkeys(codes) if c in found]


def unknown_codes(texts: list[str], found: list[Complaint]) -> set[str]:
    """Of the codes asked for, those that are no complaint's (each spelling of one code once)."""
    known = {c.code for c in found}
    return {normal_code(t) or t for t in texts} - known


def reopen(text: str, reason: str) -> PublicComplaint:
    """The complainant is not satisfied with the answer: once, within ``REOPEN_DAYS`` of it, the
    complaint goes back to the agency, to be answered within 5 working days."""
    complaint = by_code(text, for_update=True)
    until = _reopen_until(complaint)
    if complaint.reopened_at is not None:
        raise InvalidTransition(_l("this complaint was reopened once already"), current_status=complaint.status)
    if until is None:
        raise InvalidTransition(_l("a complaint is reopened after its answer, and this one is %(status)s",
                                   status=complaint.status),
                                current_status=complaint.status)
    if today() > until:
        raise InvalidTransition(_l("the answer may be questioned until %(until)s: file a new complaint", until=until),
                                current_status=complaint.status)
    moment = clock.now()
    complaint.reopened_at, complaint.reopen_reason, complaint.closed_at = moment, reason.strip(), None
    _, (complaint.reanswer_by,) = calendar.deadlines(moment, RESPOND_WORKING_DAYS)
    # an answered complaint was forwarded: it goes back to the agency that answered
    _forward(complaint, complaint.agency_id, None, scope=None, source_task_id=complaint.task_id, action="reopened")
    return public_view(complaint)


# --- staff ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlaceShown:
    """Where a complaint is, as staff read it: what the reporter sent (the point, the address, the
    link to a picture) and what was found of it, saying how (``village_source``, ``stall_source``)."""

    latitude: float | None
    longitude: float | None
    address: str | None
    media_url: str | None
    village_id: int | None
    village: str | None
    village_source: str | None  # given | point | elderly | stall
    stall_id: int | None
    stall: str | None
    stall_source: str | None  # named | recipient | point
    stall_distance_m: int | None  # from the point, for a stall found by it


@dataclass(frozen=True)
class ComplaintShown(Showing):
    """A complaint as staff read it: where it is, and the contact and the reported elderly person
    where allowed."""

    subject: Complaint
    overdue: bool
    contact: dict | None
    elderly: dict | None
    place: PlaceShown | None


def place_of(complaint: Complaint) -> PlaceShown:
    stall = complaint.vendor or complaint.found_vendor
    return PlaceShown(
        latitude=complaint.latitude, longitude=complaint.longitude, address=complaint.address,
        media_url=complaint.media_url, village_id=complaint.village_id,
        village=complaint.village.name if complaint.village else None, village_source=complaint.village_source,
        stall_id=stall.id if stall else None, stall=stall.name if stall else None,
        stall_source=("named" if complaint.vendor else complaint.found_vendor_by) if stall else None,
        stall_distance_m=None if complaint.vendor else complaint.found_vendor_m)


def shown(complaint: Complaint, scope: Scope, day: dt.date | None = None) -> ComplaintShown:
    """Staff see a complaint only when they handle it (``Complaint.visible_to``: the coordinator,
    the agency answering for it), and so where it is, which they must find: the point, the address
    and the picture's link, confidential or not (it hides the complainant, not the problem). The
    contact: to the coordinator, and to the agency unless confidential. The reported person's NIK
    to the registry's staff only."""
    coordinator = scope.everything
    responsible = scope.agency is not None and scope.agency == complaint.agency_id
    contact = None
    if (complaint.contact_name or complaint.contact_phone or complaint.contact_email) and (
            coordinator or (responsible and not complaint.confidential)):
        contact = {"name": complaint.contact_name, "phone": complaint.contact_phone, "email": complaint.contact_email}
    elderly = complaint.elderly if coordinator or responsible else None
    if elderly and not scope.reads_registry:  # the NIK is the registry's: not for the health agency
        elderly = {k: v for k, v in elderly.items() if k != "nik"}
    place = place_of(complaint) if coordinator or responsible else None
    return ComplaintShown(complaint, complaint.overdue_on(day or today()), contact, elderly, place)


# Where a complaint is, read with it: a page of complaints costs the same few queries as one.
WITH_PLACE = (selectinload(Complaint.village), selectinload(Complaint.vendor), selectinload(Complaint.found_vendor))


def _complaint(complaint_id: int, scope: Scope, *, for_update: bool = False) -> Complaint:
    return fetch_visible(db.session, Complaint, complaint_id, scope, for_update=for_update,
                         options=() if for_update else WITH_PLACE)


def get_complaint(complaint_id: int, *, scope: Scope) -> ComplaintShown:
    return shown(_complaint(complaint_id, scope), scope)


def list_complaints(page: int, per_page: int, status: str | list[str] | None = None,
                    category: str | list[str] | None = None, agency_id: int | None = None,
                    village_id: int | None = None, overdue: bool | None = None, escalated: bool | None = None,
                    *, scope: Scope) -> Page[ComplaintShown]:
    """Complaints by their deadline, the most pressing first. An agency sees those it answers for."""
    day = today()
    query = select(Complaint).where(Complaint.visible_to(scope)).order_by(Complaint.respond_by, Complaint.id) \
        .options(*WITH_PLACE)
    for column, value in ((Complaint.status, status), (Complaint.category, category),
                          (Complaint.agency_id, agency_id), (Complaint.village_id, village_id)):
        if value is not None:
            query = query.where(equals(column, value))
    if overdue is not None:
        query = query.where(Complaint.overdue_on(day) if overdue else ~Complaint.overdue_on(day))
    if escalated is not None:
        query = query.where(Complaint.escalated_at.is_not(None) if escalated else Complaint.escalated_at.is_(None))
    found = paginate(db.session, query, page, per_page)
    return Page(items=[shown(c, scope, day) for c in found.items], page=page, per_page=per_page, total=found.total)


# What a complaint cannot be, in words (the refusal of ``_must_be``).
DOING = {"forwarded": _l("forwarded"), "started": _l("started"), "answered": _l("answered"),
         "closed": _l("closed"), "rejected": _l("rejected")}


def _must_be(complaint: Complaint, statuses: tuple[str, ...], doing: str) -> None:
    if complaint.status not in statuses:
        raise InvalidTransition(_l("complaint %(id)s is %(status)s: it cannot be %(doing)s",
                                   id=complaint.id, status=complaint.status, doing=DOING[doing]),
                                current_status=complaint.status)


def _close_task(complaint: Complaint, outcome: str | None, notes: str | None, scope: Scope) -> None:
    """Settle the open ``complaint`` task of the complaint as the caller: done with ``outcome``, or
    cancelled (None: handed on, rejected). A verification visit stays: it records what the social
    agency finds of the person."""
    task = db.session.get(Task, complaint.task_id) if complaint.task_id else None
    if task is None or task.status != "open" or task.type != "complaint":
        return
    if outcome is None:
        tasks.cancel_task(task.id, notes or "handed on", scope=scope)
    else:
        tasks.complete_task(task.id, outcome, notes, scope=scope)


def forward(complaint_id: int, agency_id: int, reason: str | None = None, *, scope: Scope) -> ComplaintShown:
    """Hand a complaint to ``agency_id``: the coordinator's triage of one nobody answers for yet, or
    the responsible agency (or the coordinator) handing it on to another, as a referral: the old
    task is cancelled, the new one links to it. The deadlines stand."""
    complaint = _complaint(complaint_id, scope, for_update=True)
    _must_be(complaint, OPEN, "forwarded")
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise Invalid({"agency_id": [_l("agency %(agency_id)s does not exist", agency_id=agency_id)]})
    if agency_id == complaint.agency_id:
        raise Invalid({"agency_id": [_l("the complaint is with this agency already")]})
    if complaint.category == "unreached_elderly" and agency.kind != "social":
        raise Invalid({"agency_id": [_l("an elderly person nobody reaches is the social agency's to find and verify")]})
    previous = complaint.task_id
    _close_task(complaint, None, reason, scope)
    _forward(complaint, agency_id, None, scope=scope, source_task_id=previous,
             origin="referral" if previous else "complaint")
    return shown(complaint, scope)


def start(complaint_id: int, *, scope: Scope) -> ComplaintShown:
    """The responsible agency has begun: ``in_progress``."""
    complaint = _complaint(complaint_id, scope, for_update=True)
    _must_be(complaint, ("forwarded",), "started")
    complaint.status = "in_progress"
    _record(complaint, "started", scope)
    db.session.flush()
    return shown(complaint, scope)


def answer(complaint_id: int, public_answer: str, internal_notes: str | None = None, *,
           scope: Scope) -> ComplaintShown:
    """The responsible agency's answer: ``public_answer`` is what the complainant reads,
    ``internal_notes`` what they do not. The first answer decides whether it was on time."""
    complaint = _complaint(complaint_id, scope, for_update=True)
    _must_be(complaint, ("forwarded", "in_progress"), "answered")
    moment = clock.now()
    complaint.status, complaint.public_answer = "answered", public_answer.strip()
    if internal_notes:
        complaint.internal_notes = internal_notes.strip()
    if complaint.answered_at is None:
        complaint.answered_at, complaint.answered_on = moment, today()
    _record(complaint, "answered", scope)
    _close_task(complaint, "resolved", internal_notes, scope)
    db.session.flush()
    return shown(complaint, scope)


def close(complaint_id: int, *, scope: Scope) -> ComplaintShown:
    """Close an answered complaint (it can still be reopened within ``REOPEN_DAYS`` of the answer)."""
    complaint = _complaint(complaint_id, scope, for_update=True)
    _must_be(complaint, ("answered",), "closed")
    complaint.status, complaint.closed_at = "closed", clock.now()
    _record(complaint, "closed", scope)
    db.session.flush()
    return shown(complaint, scope)


def reject(complaint_id: int, reason: str, internal_notes: str | None = None, *, scope: Scope) -> ComplaintShown:
    """Refuse a complaint: spam, out of the program's scope, a duplicate, or too little to act on
    (the reason code is what the complainant reads)."""
    complaint = _complaint(complaint_id, scope, for_update=True)
    if reason not in REJECT_REASONS:
        raise Invalid({"reason": [_l("one of %(value)s", value=', '.join(REJECT_REASONS))]})
    _must_be(complaint, OPEN, "rejected")
    complaint.status, complaint.reject_reason, complaint.closed_at = "rejected", reason, clock.now()
    if internal_notes:
        complaint.internal_notes = internal_notes.strip()
    _record(complaint, "rejected", scope)
    _close_task(complaint, None, reason, scope)
    db.session.flush()
    return shown(complaint, scope)


# --- the job runner -------------------------------------------------------------------------------

@dataclass
class Watch:
    forward_missed: int
    answer_missed: int
    closed: int


def watch_deadlines(day: dt.date | None = None) -> Watch:
    """Every morning: mark the complaints not forwarded by ``forward_by`` or not answered by their
    answer's deadline, and escalate them to the coordinator (``escalated``: their list's filter);
    close the answers not reopened within ``REOPEN_DAYS``. Idempotent: each is marked once."""
    day = day or today()
    moment = clock.now()
    # Row by row (a day's late complaints are few), so that the audit trail has each mark.
    late_forward = db.session.scalars(select(Complaint).where(
        Complaint.status == "received", Complaint.forward_by < day, Complaint.forward_missed_on.is_(None))).all()
    for complaint in late_forward:
        complaint.forward_missed_on, complaint.escalated_at = day, complaint.escalated_at or moment
    due = func.coalesce(Complaint.reanswer_by, Complaint.respond_by)
    late_answer = db.session.scalars(select(Complaint).where(
        Complaint.status.in_(OPEN), due < day, Complaint.answer_missed_on.is_(None))).all()
    for complaint in late_answer:
        complaint.answer_missed_on, complaint.escalated_at = day, complaint.escalated_at or moment
    window = day - dt.timedelta(days=REOPEN_DAYS)
    closing = db.session.scalars(select(Complaint).where(Complaint.status == "answered",
                                                         Complaint.answered_on < window)).all()
    for complaint in closing:
        complaint.status, complaint.closed_at = "closed", moment
        _record(complaint, "closed")
    db.session.flush()
    return Watch(forward_missed=len(late_forward), answer_missed=len(late_answer), closed=len(closing))


# --- counts ---------------------------------------------------------------------------------------

def due_between(first: dt.date, last: dt.date) -> ColumnElement[bool]:
    """SQL: the complaints whose answer was due from ``first`` to ``last`` (rejected ones aside)."""
    return and_(Complaint.respond_by.between(first, last), Complaint.status != "rejected")


def on_time_counts(first: dt.date, last: dt.date) -> tuple[int, int]:
    """(answered on time, due) for the answers due from ``first`` to ``last``."""
    due, on_time = db.session.execute(select(func.count(), func.sum(case((Complaint.on_time(), 1), else_=0)))
                                      .where(due_between(first, last))).one()
    return int(on_time or 0), int(due or 0)


def received_between(first: dt.date, last: dt.date) -> int:
    """Complaints received from ``first`` to ``last`` (the program's local days)."""
    return db.session.scalar(select(func.count()).select_from(Complaint)
                             .where(Complaint.received_on.between(first, last))) or 0
