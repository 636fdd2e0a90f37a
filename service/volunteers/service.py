"""Volunteers: the public signs up, the coordinator or the social agency vets, and a volunteer keeps
their own record.

A sign-up is ``pending``: the volunteer can sign in (with their phone or email) and read and edit
their own record, nothing else, until approved. Statuses: ``pending -> approved | rejected``,
``approved -> suspended -> approved``, and ``* -> closed`` when the volunteer closes their account
(the row stays, for the history; the personal data goes). Every change is in the audit trail.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import String, cast, func, or_, select

from service import geo
from service.accounts import service as accounts
from service.accounts.models import User
from service.accounts.scope import Scope
from service.audit import service as audit
from service.db import Page, Showing, check_version, equals, fetch_visible, paginate, utcnow
from service.errors import Conflict, Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _l
from service.program.service import get_village
from service.text import e164_of
from service.volunteers import claims
from service.volunteers.models import DECISIONS, MAX_CAPACITY, NEEDS_REASON, SKILLS, Volunteer

TAKEN = _l("this phone number or email is registered already: sign in, or use another")
# What a volunteer may change about themselves (not their status, nor their name once vetted).
OWN_EDITABLE = frozenset({"phone", "email", "skills", "capacity", "village_id", "latitude", "longitude"})
CONTACTS = ("phone", "email")  # changed only once confirmed (``confirm_contact``)
# What a volunteer's and their sign-in's rows hold of them, scrubbed from the trail when they leave.
PERSONAL = ("name", "phone", "email", "latitude", "longitude", "pending_phone", "pending_email")


def _check(values: dict[str, Any]) -> None:
    """The rules of a volunteer's fields, for a sign-up and an edit alike."""
    errors: dict[str, list[str]] = {}
    skills = values.get("skills")
    if skills is not None:
        if not skills:
            errors["skills"] = [_l("name at least one: %(skills)s", skills=", ".join(SKILLS))]
        elif len(set(skills)) != len(skills):
            errors["skills"] = [_l("each skill once")]
    if "capacity" in values and not 1 <= values["capacity"] <= MAX_CAPACITY:
        errors["capacity"] = [_l("from 1 to %(MAX_CAPACITY)s people", MAX_CAPACITY=MAX_CAPACITY)]
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        errors["latitude"] = [_l("latitude and longitude come together")]
    if errors:
        raise Invalid(errors)


def _check_point(volunteer: Volunteer) -> None:
    if volunteer.latitude is None:
        return
    limit = current_app.config["RECIPIENT_MAX_KM_FROM_VILLAGE"]
    if error := geo.too_far(volunteer.latitude, volunteer.longitude, volunteer.village, limit):
        raise Invalid({"latitude": [error]})


def _taken(phone: str | None, email: str | None, own: int | None = None) -> bool:
    """Whether another volunteer, or any user but ``own``'s sign-in, holds ``phone`` or ``email``."""
    checks = []
    for value, volunteer_column, user_column in ((phone, Volunteer.phone, User.phone),
                                                 (email, Volunteer.email, User.email)):
        if not value:
            continue
        volunteers = select(Volunteer.id).where(volunteer_column == value)
        users = select(User.id).where(user_column == value)
        if own is not None:
            volunteers = volunteers.where(Volunteer.id != own)
            users = users.where(User.volunteer_id.is_distinct_from(own))
        checks += [volunteers, users]
    return any(db.session.scalar(check.limit(1)) is not None for check in checks)


def sign_up(name: str, phone: str, password: str, village_id: int, skills: list[str], *,
            email: str | None = None, latitude: float | None = None, longitude: float | None = None,
            capacity: int = 1, accepts_code_of_conduct: bool = False) -> Volunteer:
    """A new volunteer, ``pending``, with a sign-in of their own. A phone or email already
    registered is a 409 that does not say whose."""
    values = {"skills": skills, "capacity": capacity, "latitude": latitude, "longitude": longitude}
    _check(values)
    if accepts_code_of_conduct is not True:
        raise Invalid({"accepts_code_of_conduct": [_l("read and accept the code of conduct to sign up")]})
    phone = e164_of(phone)
    email = email.strip().lower() if email else None
    village = get_village(village_id)
    if _taken(phone, email):
        raise Conflict(TAKEN)
    volunteer = Volunteer(name=name.strip(), phone=phone, email=email, village=village, skills=list(skills),
                          capacity=capacity, latitude=latitude, longitude=longitude, status="pending",
                          consented_at=utcnow())
    _check_point(volunteer)
    db.session.add(volunteer)
    db.session.flush()
    accounts.create_user(email, password, volunteer.name, "volunteer", volunteer_id=volunteer.id, phone=phone)
    return volunteer


def list_volunteers(page: int, per_page: int, status: list[str] | str | None = None, village_id: int | None = None,
                    skill: str | None = None, q: str | None = None, *, scope: Scope) -> Page[Volunteer]:
    """Volunteers for vetting, oldest sign-up first: by status, village, skill, or text (part of
    the name, the phone, the email)."""
    query = select(Volunteer).where(Volunteer.visible_to(scope)).order_by(Volunteer.created_at, Volunteer.id)
    if status:
        query = query.where(equals(Volunteer.status, status))
    if village_id is not None:
        query = query.where(Volunteer.village_id == village_id)
    if skill:
        # JSON lists hold quoted strings: '"visit"' is in '["deliver", "visit"]' as text on both engines.
        query = query.where(cast(Volunteer.skills, String).contains(f'"{skill}"'))
    if q and q.strip():
        text = q.strip().lower()
        query = query.where(or_(func.lower(Volunteer.name).contains(text), Volunteer.email.contains(text),
                                Volunteer.phone.contains(text.lstrip("0"))))
    return paginate(db.session, query, page, per_page)


def get_volunteer(volunteer_id: int, *, scope: Scope) -> Volunteer:
    return fetch_visible(db.session, Volunteer, volunteer_id, scope)


# A decision in words, and the reason it needs.
DECIDE = {"approve": _l("approve"), "reject": _l("reject"), "suspend": _l("suspend"), "reinstate": _l("reinstate")}
REASON_NEEDED = {"reject": _l("say why you reject the volunteer: they read it"),
                 "suspend": _l("say why you suspend the volunteer: they read it")}


def decide(volunteer_id: int, decision: str, reason: str | None = None, *, scope: Scope) -> Volunteer:
    """Approve, reject (with a reason), suspend (with a reason) or reinstate a volunteer. A
    decision the status does not allow is a 409 naming the status."""
    volunteer = get_volunteer(volunteer_id, scope=scope)
    sources, target = DECISIONS[decision]
    if decision in NEEDS_REASON and not (reason or "").strip():
        raise Invalid({"reason": [REASON_NEEDED[decision]]})
    if volunteer.status not in sources:
        raise InvalidTransition(_l("volunteer %(volunteer_id)s is %(status)s: cannot %(decision)s",
                                   volunteer_id=volunteer_id, status=volunteer.status, decision=DECIDE[decision]),
                                current_status=volunteer.status)
    volunteer.status = target
    volunteer.status_reason = reason.strip() if decision in NEEDS_REASON else None
    volunteer.decided_at, volunteer.decided_by = utcnow(), scope.user_id
    db.session.flush()
    if decision == "suspend":  # at once: the people they helped are uncovered again, and followed up
        claims.end_of_volunteer(volunteer.id, "suspended", by=scope.user_id)
    return volunteer


def own_record(scope: Scope) -> Volunteer:
    if scope.role != "volunteer" or scope.volunteer_id is None:
        raise NotFound("volunteer", "me")
    return get_volunteer(scope.volunteer_id, scope=scope)


class OwnRecord(Showing):
    """A volunteer's own record with what they have done: open claims, the people they help,
    meals delivered, visits, hours."""

    def __init__(self, volunteer: Volunteer) -> None:
        self.subject = volunteer
        self.activity = claims.activity_of(volunteer.id)


def own_record_with_activity(scope: Scope) -> OwnRecord:
    return OwnRecord(own_record(scope))


def update_own(changes: dict[str, Any], expected_version: int | None = None, *, scope: Scope) -> Volunteer:
    """A volunteer's own changes: contact details, skills, capacity, village and point."""
    volunteer = own_record(scope)
    check_version(volunteer, expected_version)
    if volunteer.status == "closed":
        raise InvalidTransition(_l("this account is closed"), current_status="closed")
    unknown = set(changes) - OWN_EDITABLE
    if unknown:
        raise Invalid({name: [_l("cannot be changed here")] for name in sorted(unknown)})
    changes = dict(changes)
    contact = {name: changes.pop(name) for name in CONTACTS if name in changes}
    if "phone" in contact:
        contact["phone"] = e164_of(contact["phone"])
    if "email" in contact:
        contact["email"] = contact["email"].strip().lower() if contact["email"] else None
        if contact["email"] is None:  # dropping one's email tells nobody anything: at once
            del contact["email"]
            volunteer.email = volunteer.pending_email = None
    point = {k: changes.get(k, getattr(volunteer, k)) for k in ("latitude", "longitude")}
    _check({**{k: v for k, v in changes.items() if k in ("skills", "capacity")}, **point})
    _check_claims_kept(volunteer, changes)
    if "village_id" in changes:
        volunteer.village = get_village(changes.pop("village_id"))
    for key, value in changes.items():
        setattr(volunteer, key, value)
    _check_point(volunteer)
    _ask_for_contact(volunteer, contact)
    db.session.flush()
    user = _user_of(volunteer)
    if user is not None and user.email != volunteer.email:
        user.email = volunteer.email
        db.session.flush()
    return volunteer


def _ask_for_contact(volunteer: Volunteer, contact: dict[str, str | None]) -> None:
    """A new phone or email waits for confirmation: the answer is the same whether or not it is
    someone else's (no probing who is registered); asking for the current one again withdraws
    the request."""
    for name in contact:
        setattr(volunteer, f"pending_{name}", None if contact[name] == getattr(volunteer, name) else contact[name])
    if contact:
        waiting = volunteer.pending_phone is not None or volunteer.pending_email is not None
        volunteer.contact_requested_at = utcnow() if waiting else None


def decide_contact(volunteer_id: int, confirm: bool, *, scope: Scope) -> Volunteer:
    """Staff who reached the volunteer at the new phone or email confirm it (the sign-in follows)
    or turn it down. A contact registered to someone else is a 409 (staff may know; it does not
    say whose). Nothing waiting: a 409."""
    volunteer = get_volunteer(volunteer_id, scope=scope)
    if volunteer.contact_requested_at is None:
        raise InvalidTransition(_l("volunteer %(volunteer_id)s asked for no new phone or email",
                                   volunteer_id=volunteer_id),
                                current_status=volunteer.status)
    if confirm:
        if _taken(volunteer.pending_phone, volunteer.pending_email, own=volunteer.id):
            raise Conflict(TAKEN)
        volunteer.phone = volunteer.pending_phone or volunteer.phone
        if volunteer.pending_email is not None:
            volunteer.email = volunteer.pending_email
    volunteer.pending_phone = volunteer.pending_email = volunteer.contact_requested_at = None
    db.session.flush()
    user = _user_of(volunteer)
    if confirm and user is not None:
        user.phone, user.email = volunteer.phone, volunteer.email or None
        db.session.flush()
    return volunteer


def _check_claims_kept(volunteer: Volunteer, changes: dict[str, Any]) -> None:
    """A skill or a capacity the volunteer's open claims need stays until they release them."""
    doing = claims.activity_of(volunteer.id)
    kinds = claims.open_kinds(volunteer.id)
    errors = {}
    if "capacity" in changes and changes["capacity"] < doing.helping:
        errors["capacity"] = [_l("you help %(helping)s people now: release some first", helping=doing.helping)]
    if "skills" in changes and (dropped := sorted(kinds - set(changes["skills"]))):
        errors["skills"] = [_l("you hold open claims to %(value)s: release them first", value=', '.join(dropped))]
    if errors:
        raise Invalid(errors)


def close_own(scope: Scope) -> Volunteer:
    """Close the volunteer's account: the record stays for the history, the personal data goes
    (name, phone, email, point), and the sign-in ends with every token."""
    volunteer = own_record(scope)
    claims.end_of_volunteer(volunteer.id, "closed", by=scope.user_id)
    volunteer.status, volunteer.status_reason = "closed", None
    volunteer.name, volunteer.phone, volunteer.email = f"Volunteer {volunteer.id} (closed)", None, None
    volunteer.latitude = volunteer.longitude = None
    volunteer.pending_phone = volunteer.pending_email = volunteer.contact_requested_at = None
    db.session.flush()
    user = _user_of(volunteer)
    subjects = [("volunteer", volunteer.id)]
    if user is not None:
        user.active, user.phone, user.email, user.name = False, None, None, volunteer.name
        db.session.flush()
        accounts.revoke_user_tokens(user.id)
        accounts.forget_places(user.id)
        subjects.append(("user", user.id))
    # Erasure means erasure (UU PDP): what the trail kept of them goes too, the events stay.
    audit.erase(db.session, subjects, PERSONAL, actor_id=user.id if user is not None else None)
    return volunteer


def _user_of(volunteer: Volunteer) -> User | None:
    return db.session.scalar(select(User).where(User.volunteer_id == volunteer.id))
