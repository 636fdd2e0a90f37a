"""What an approved volunteer does: finds the elderly near them that nobody reaches
(opportunities, without learning who they are), takes one on (a claim), and logs visits.

A claim is ``open`` until the volunteer releases it, staff end it, a stall can reach the
recipient (a stall is preferred: the placement's ``PlacesChanged`` ends it with ``stall``), the
volunteer's meals go undelivered two days running (``no_show``, the cut-off's), the recipient
pauses or leaves, or the volunteer is suspended or closes the account. While a ``deliver`` claim
is open the recipient counts as reached (``models.claimed_to_deliver``, wired into
``Recipient.reached_on``) and the daily loop schedules their meals for the volunteer; only that
volunteer sees the recipient's name, address, point and phone, and only while it is open.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from scipy.spatial import cKDTree
from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from service import events, geo
from service.accounts.scope import Scope
from service.assignments.events import PlacesChanged
from service.assignments.models import placed_to_cook_on
from service.db import Page, Showing, bound, equals, fetch_visible, one_of, paginate
from service.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from service.extensions import db
from service.i18n import _l
from service.program import clock
from service.program.clock import today
from service.program.models import Area
from service.program.service import settings
from service.recipients.events import PausesChanged, RecipientExited
from service.recipients.models import Recipient, visited_recipients
from service.volunteers.events import ClaimOpened, ClaimsEnded, ConcernRaised, EndedClaim
from service.volunteers.models import CLAIM_KINDS, VISIT_OUTCOMES, Claim, Visit, Volunteer

DEFAULT_RADIUS_KM = 5.0
MAX_RADIUS_KM = 15.0
DISTANCE_STEP_KM = 0.5  # distances are shown to this step, never closer: no pinpointing a home
MAX_IDS = 10_000  # ids in one statement
HELD = _l("someone else has taken this person on already")


def display_name(name: str) -> str:
    """How a volunteer first meets someone: the first name and the initial of the last,
    ``"Siti Aminah"`` -> ``"Siti A."`` (titles such as ``Hj.`` left out)."""
    words = [w for w in name.split() if not w.endswith(".")] or name.split()
    if not words:
        return "?"
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0].upper()}."


def shown_distance(km: float) -> float:
    """``km`` to the nearest half kilometre, and never under half a kilometre."""
    return max(DISTANCE_STEP_KM, round(km / DISTANCE_STEP_KM) * DISTANCE_STEP_KM)


def approved(scope: Scope, *, for_update: bool = False) -> Volunteer:
    """The calling volunteer, who must be approved to help: 403 while pending, suspended or
    rejected (they see their own record, nothing more)."""
    if scope.role != "volunteer" or scope.volunteer_id is None:
        raise NotFound("volunteer", "me")
    query = select(Volunteer).where(Volunteer.id == scope.volunteer_id)
    volunteer = db.session.scalar(query.with_for_update(of=Volunteer) if for_update else query)
    if volunteer is None:
        raise NotFound("volunteer", "me")
    if volunteer.status != "approved":
        raise Forbidden(_l("your account is %(status)s: only approved volunteers take people on",
                           status=volunteer.status))
    return volunteer


def point_of(volunteer: Volunteer) -> tuple[float, float]:
    """Where a volunteer helps from: their own point, else their village's centre."""
    if volunteer.latitude is not None:
        return volunteer.latitude, volunteer.longitude
    return volunteer.village.latitude, volunteer.village.longitude


def held_by(volunteer_id: int, recipient_id=Recipient.id) -> ColumnElement[bool]:
    """SQL: the volunteer holds the recipient now (an open claim of either kind): whom they may know
    by name, address, point and phone."""
    return exists().where(Claim.volunteer_id == volunteer_id, Claim.recipient_id == recipient_id,
                          Claim.status == "open")


def _check_skill(volunteer: Volunteer, kind: str) -> None:
    if kind not in CLAIM_KINDS:
        raise Invalid({"kind": [_l("one of %(value)s", value=', '.join(CLAIM_KINDS))]})
    if kind not in volunteer.skills:
        have = ", ".join(volunteer.skills)
        raise Invalid({"kind": [_l("add the skill %(kind)s to your record first (you have: %(have)s)",
                                   kind=repr(kind), have=have)]})


def _open_claim(kind: str, recipient_id=Recipient.id) -> ColumnElement[bool]:
    return exists().where(Claim.recipient_id == recipient_id, Claim.kind == kind, Claim.status == "open")


def needs_of(kind: str, day: dt.date) -> ColumnElement[bool]:
    """SQL, on ``Recipient``: whom a volunteer may take on for ``kind`` on ``day``: for ``deliver``,
    enrolled, not paused and reached by nobody (no stall that may cook, no volunteer); for
    ``visit``, verified or enrolled, not paused, not visited (at school or by a volunteer) within
    ``visit_interval_days`` and not taken on for visits by anyone."""
    if kind == "deliver":  # the daily loop feeds the enrolled only: a verified person's claim would bring no meal
        return and_(Recipient.status == "enrolled", Recipient.uncovered_on(day))
    return and_(Recipient.status.in_(("verified", "enrolled")), not_(Recipient.paused_on(day)),
                not_(_open_claim("visit")),
                Recipient.id.not_in(visited_recipients(day, settings().visit_interval_days)))


@dataclass
class Opportunity:
    recipient_id: int
    display_name: str
    village_id: int
    village: str
    kind: str
    distance_km: float
    needs: list[str] = field(default_factory=list)
    meals_from: dt.date | None = None  # deliver: the first day whose meals a claim made now brings


# The first day whose meals a deliver claim made now brings: the daily loop's to say (wired in
# service/wiring.py), read here to tell a volunteer what taking someone on means.
_first_meal_day: list[Callable[[], dt.date]] = []


def meals_start(first_day: Callable[[], dt.date]) -> None:
    _first_meal_day[:] = [first_day]


@dataclass
class _Unplaced:
    """The verified and enrolled recipients no stall that may cook feeds, as one process read them
    (the superset of the unreached: claims and pauses are checked on each request), in a k-d tree."""

    key: tuple
    built: float
    ids: np.ndarray
    tree: cKDTree | None


_unplaced: dict[tuple, _Unplaced] = {}  # by database and regions: one process, one tree each
_building = threading.Lock()


def _unplaced_near(lat: float, lon: float, radius_km: float) -> list[int] | None:
    """The ids of the recipients no stall that may cook feeds within ``radius_km`` of the point
    (a superset: the caller checks each exactly), from this process's k-d tree, rebuilt when
    older than ``OPPORTUNITIES_CACHE_SECONDS``, on a new day or new program settings; None when
    the tree is off. At 100,000 recipients of whom 5,000 are unreached, a box on the point index
    holds thousands fed by stalls for the few that are not (bench/opportunities.py)."""
    seconds = current_app.config["OPPORTUNITIES_CACHE_SECONDS"]
    if not seconds:
        return None
    program = settings()
    day = today(program)
    where = (db.engine.url.render_as_string(hide_password=True), bound(db.session))  # a tree per region
    key = (day, program.max_vendor_distance_km, program.timezone)
    known = _unplaced.get(where)
    if known is None or known.key != key or time.monotonic() - known.built > seconds:
        with _building:
            known = _unplaced.get(where)
            if known is None or known.key != key or time.monotonic() - known.built > seconds:
                rows = db.session.execute(select(Recipient.id, Recipient.latitude, Recipient.longitude).where(
                    Recipient.status.in_(("verified", "enrolled")), not_(placed_to_cook_on(day)))).all()
                ids = np.array([r.id for r in rows], dtype=np.int64)
                tree = cKDTree(geo.sphere_xyz(np.array([r.latitude for r in rows]),
                                              np.array([r.longitude for r in rows]))) if rows else None
                known = _unplaced[where] = _Unplaced(key=key, built=time.monotonic(), ids=ids, tree=tree)
    if known.tree is None:
        return []
    found = known.tree.query_ball_point(geo.sphere_xyz(np.array([lat]), np.array([lon]))[0],
                                        radius_km * 1000 * geo.SPHERE_MARGIN)
    return known.ids[found].tolist()


def forget_unplaced() -> None:
    """Forget this process's tree (tests; a change the caller wants seen at once)."""
    _unplaced.clear()


def _near(volunteer: Volunteer, where: ColumnElement[bool], radius_km: float, ids: Sequence[int] | None = None,
          kind: str | None = None):
    """The recipients matching ``where`` within ``radius_km`` of the volunteer, nearest first:
    ``[(km, id)]``, the distance between the cell of the volunteer's point and the cell of the
    recipient's (``geo.cells_of``), never between the points themselves: what a volunteer learns
    from the answer, the radius they ask for or the point they move to is the recipient's cell at
    most (about 1 km), however many times they ask. Ties are in the order of the ids, not of the
    exact distances.

    A pre-filter first (for ``deliver``, this process's k-d tree of those no stall feeds; else the
    box of ``geo.near`` on the index of the recipients' points), wide enough to hold every point of
    a cell that is within reach; then ``where`` and the distance on the few it leaves."""
    lat, lon = (float(x) for x in geo.cells_of(*point_of(volunteer)))
    reach_km = radius_km + geo.CELL_REACH_KM  # the pre-filters hold exact points
    query = select(Recipient.id, Recipient.latitude, Recipient.longitude).where(where)
    if kind == "deliver" and ids is None and (near := _unplaced_near(lat, lon, reach_km)) is not None:
        if not near:
            return []
        if len(near) <= MAX_IDS:  # more (a national program's city): the box alone
            ids = near
    # By id (a few rows on the primary key), else the box on the index of the points.
    near = one_of(db.session, Recipient.id, ids) if ids is not None else geo.near(Recipient, [(lat, lon)], reach_km)
    query = query.where(near)
    rows = db.session.execute(query).all()
    if not rows:
        return []
    cell_lats, cell_lons = geo.cells_of([r.latitude for r in rows], [r.longitude for r in rows])
    kms = geo.geodesic_km_many(np.full(len(rows), lat), np.full(len(rows), lon), cell_lats, cell_lons)
    return sorted(((km, row.id) for km, row in zip(kms, rows) if km <= radius_km))


def opportunities(kind: str | None = None, radius_km: float | None = None, page: int = 1, per_page: int = 50, *,
                  scope: Scope) -> Page[Opportunity]:
    """Whom the calling volunteer could take on for ``kind`` (their first skill of ``deliver``,
    ``visit`` by default) within ``radius_km`` (5 by default, at most 15) of their point, nearest
    first: never who they are (first name and an initial), nor where (the village, and the
    distance to half a kilometre)."""
    volunteer = approved(scope)
    kind = kind or next((k for k in CLAIM_KINDS if k in volunteer.skills), "deliver")
    _check_skill(volunteer, kind)
    radius_km = DEFAULT_RADIUS_KM if radius_km is None else radius_km
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise Invalid({"radius_km": [_l("more than 0 and at most %(MAX_RADIUS_KM)s km",
                                        MAX_RADIUS_KM=format(MAX_RADIUS_KM, 'g'))]})
    found = _near(volunteer, needs_of(kind, today()), radius_km, kind=kind)
    chosen = found[(page - 1) * per_page:page * per_page]
    shown = {row.id: row for row in db.session.execute(  # what the page shows, of its rows only
        select(Recipient.id, Recipient.name, Recipient.village_id, Area.name.label("village"), Recipient.dietary_needs)
        .join(Area, Area.id == Recipient.village_id).where(Recipient.id.in_([i for _, i in chosen])))} if chosen else {}
    base = ["meals"] if kind == "deliver" else ["visit"]
    meals_from = _first_meal_day[0]() if kind == "deliver" and _first_meal_day and chosen else None
    items = [Opportunity(recipient_id=i, display_name=display_name(row.name), village_id=row.village_id,
                         village=row.village, kind=kind, distance_km=shown_distance(km),
                         needs=base + [f"diet:{need}" for need in row.dietary_needs or []], meals_from=meals_from)
             for km, i in chosen if (row := shown.get(i)) is not None]
    return Page(items=items, page=page, per_page=per_page, total=len(found))


class ClaimShown(Showing):
    """A claim as its volunteer reads it: the recipient's name, address, point and phone while it
    is open (``person``), their display name and village always."""

    def __init__(self, claim: Claim, volunteer_id: int | None = None) -> None:
        self.subject = claim
        recipient = claim.recipient
        self.display_name = display_name(recipient.name)
        self.village = recipient.village.name
        self.village_id = recipient.village_id
        mine = volunteer_id is not None and claim.volunteer_id == volunteer_id
        self.person = recipient if claim.status == "open" and mine else None


def claim(recipient_id: int, kind: str, *, scope: Scope) -> ClaimShown:
    """Take on one of one's opportunities: a recipient who is not one is a 404; one someone else
    has taken on, a 409 (two at once: the unique index lets exactly one win); beyond one's
    capacity, a 409. For ``deliver``, the meals of the days already scheduled become the
    volunteer's at once."""
    volunteer = approved(scope, for_update=True)  # one claim of this volunteer at a time: capacity holds
    _check_skill(volunteer, kind)
    recipient = db.session.get(Recipient, recipient_id)
    if recipient is None:
        raise NotFound("recipient", recipient_id)
    held = db.session.scalar(select(Claim).where(Claim.recipient_id == recipient_id, Claim.kind == kind,
                                                 Claim.status == "open"))
    if held is not None:
        if held.volunteer_id == volunteer.id:
            raise Conflict(_l("you have taken this person on already (claim %(id)s)", id=held.id), existing_id=held.id)
        raise Conflict(HELD)
    if not _near(volunteer, needs_of(kind, today()), MAX_RADIUS_KM, ids=[recipient_id]):
        raise NotFound("recipient", recipient_id)  # not an opportunity of theirs: as if it did not exist
    helping = db.session.scalar(select(func.count(Claim.recipient_id.distinct()))
                                .where(Claim.volunteer_id == volunteer.id, Claim.status == "open")) or 0
    already = db.session.scalar(select(Claim.id).where(Claim.volunteer_id == volunteer.id, Claim.status == "open",
                                                       Claim.recipient_id == recipient_id).limit(1))
    if already is None and helping >= volunteer.capacity:
        raise Conflict(_l("you help %(helping)s people, your capacity: release one, or raise your capacity "
                          "(at most 5)",
                          helping=helping))
    new = Claim(volunteer_id=volunteer.id, recipient_id=recipient_id, kind=kind, status="open",
                opened_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(new)
            db.session.flush()
    except IntegrityError:
        raise Conflict(HELD) from None
    events.publish(ClaimOpened(new.id, recipient_id, volunteer.id, kind))
    return ClaimShown(new, volunteer.id)


def _own(claim_id: int, scope: Scope, *, for_update: bool = False) -> Claim:
    if scope.role != "volunteer" or scope.volunteer_id is None:
        raise NotFound("claim", claim_id)
    query = select(Claim).where(Claim.id == claim_id, Claim.volunteer_id == scope.volunteer_id)
    found = db.session.scalar(query.with_for_update(of=Claim) if for_update else query)
    if found is None:
        raise NotFound("claim", claim_id)
    return found


def own_claims(status: str | list[str] | None = None, kind: str | list[str] | None = None, page: int = 1,
               per_page: int = 50, *, scope: Scope) -> Page[ClaimShown]:
    """The calling volunteer's claims, open ones first, newest first (no address in a list); for
    approved volunteers only (403)."""
    approved(scope)
    query = select(Claim).where(Claim.volunteer_id == scope.volunteer_id)
    if status:
        query = query.where(equals(Claim.status, status))
    if kind:
        query = query.where(equals(Claim.kind, kind))
    return _shown_page(query, page, per_page)


def _shown_page(query, page: int, per_page: int) -> Page[ClaimShown]:
    """A page of claims, open first, newest first, each with its recipient (and village) read in
    one more query for the page, not one per claim."""
    found = paginate(db.session, query.options(selectinload(Claim.recipient))
                     .order_by(Claim.status.desc(), Claim.opened_at.desc(), Claim.id.desc()), page, per_page)
    return Page(items=[ClaimShown(c) for c in found.items], page=found.page, per_page=found.per_page,
                total=found.total)


def own_claim(claim_id: int, *, scope: Scope) -> ClaimShown:
    return ClaimShown(_own(claim_id, scope), scope.volunteer_id)


def release(claim_id: int, *, scope: Scope) -> ClaimShown:
    """The volunteer lets go of a claim: the recipient is uncovered again (and followed up)."""
    found = _own(claim_id, scope, for_update=True)
    if found.status != "open":
        raise InvalidTransition(_l("claim %(claim_id)s ended already (%(end_reason)s)",
                                   claim_id=claim_id, end_reason=found.end_reason), current_status=found.status)
    end_claims([found], "released", by=scope.user_id)
    return ClaimShown(found, scope.volunteer_id)


def list_claims(status: str | list[str] | None = None, kind: str | list[str] | None = None,
                volunteer_id: int | None = None, recipient_id: int | None = None, page: int = 1, per_page: int = 50,
                *, scope: Scope) -> Page[ClaimShown]:
    """Claims, for the coordinator and the social agency: open ones first, newest first; those of
    the volunteers ``scope`` may see."""
    query = select(Claim).where(Claim.visible_to(scope))
    for column, value in ((Claim.status, status), (Claim.kind, kind), (Claim.volunteer_id, volunteer_id),
                          (Claim.recipient_id, recipient_id)):
        if value:
            query = query.where(equals(column, value))
    return _shown_page(query, page, per_page)


def end_by_staff(claim_id: int, reason: str, *, scope: Scope) -> ClaimShown:
    """The coordinator or the social agency ends a claim, saying why (the volunteer reads it)."""
    found = fetch_visible(db.session, Claim, claim_id, scope, for_update=True)
    if found.status != "open":
        raise InvalidTransition(_l("claim %(claim_id)s ended already (%(end_reason)s)",
                                   claim_id=claim_id, end_reason=found.end_reason), current_status=found.status)
    if not (reason or "").strip():
        raise Invalid({"reason": [_l("say why the claim ends: the volunteer reads it")]})
    end_claims([found], "ended_by_staff", by=scope.user_id, note=reason.strip())
    return ClaimShown(found)


def end_claims(claims: Sequence[Claim], reason: str, *, by: int | None = None, note: str | None = None) -> int:
    """End these open claims with ``reason``, each in the audit trail; the areas above act on it
    (``ClaimsEnded``: meals handed over or cancelled, follow-ups). How many ended."""
    ending = [c for c in claims if c.status == "open"]
    if not ending:
        return 0
    moment = clock.now()
    for c in ending:
        c.status, c.ended_at, c.end_reason, c.ended_by, c.end_note = "ended", moment, reason, by, note
    db.session.flush()
    events.publish(ClaimsEnded([EndedClaim(c.id, c.recipient_id, c.volunteer_id, c.kind, reason) for c in ending]))
    return len(ending)


def end_where(reason: str, *conditions: ColumnElement[bool], by: int | None = None) -> int:
    """End every open claim matching ``conditions`` with ``reason``."""
    found = db.session.scalars(select(Claim).where(Claim.status == "open", *conditions)
                               .order_by(Claim.id).with_for_update(of=Claim)).all()
    return end_claims(found, reason, by=by)


def end_of_volunteer(volunteer_id: int, reason: str, *, by: int | None = None) -> int:
    """A volunteer suspended or gone: every open claim of theirs ends at once."""
    return end_where(reason, Claim.volunteer_id == volunteer_id, by=by)


def end_paused(day: dt.date) -> int:
    """Claims of recipients paused on ``day`` end (``paused``): the program holds their place, not a
    volunteer; after the pause they are offered again."""
    return end_where("paused", exists().where(Recipient.id == Claim.recipient_id, Recipient.paused_on(day)))


# What the areas below ask of claims (wired in service/wiring.py).

def on_places_changed(event: PlacesChanged) -> int:
    """Recipients now placed at a stall that may cook: a stall is preferred, their ``deliver``
    claims end (``stall``) and the meals follow to the stall."""
    if not event.recipient_ids:
        return 0
    # The claimed are few, the moved may be everyone (a rebalance): meet them from the claims' side.
    held = set(db.session.scalars(select(Claim.recipient_id).where(Claim.kind == "deliver", Claim.status == "open")))
    moved = sorted(held.intersection(event.recipient_ids))
    if not moved:
        return 0
    placed = select(Recipient.id).where(Recipient.id.in_(moved), placed_to_cook_on(today()))
    return end_where("stall", Claim.kind == "deliver", Claim.recipient_id.in_(placed))


def on_exited(event: RecipientExited) -> int:
    return end_where("exited", Claim.recipient_id == event.recipient.id)


def on_pauses_changed(event: PausesChanged) -> int:
    return end_where("paused", Claim.recipient_id == event.recipient_id,
                     exists().where(Recipient.id == Claim.recipient_id, Recipient.paused_on(today())))


# Visits.

MAX_VISIT_HOURS = 24.0


def log_visit(recipient_id: int, visited_on: dt.date, outcome: str, notes: str | None = None,
              concern: dict | None = None, hours: float | None = None, *, scope: Scope) -> Visit:
    """A visit under one's open ``visit`` claim (another recipient is a 404): ``visited`` and
    ``concern`` count for ``visit_rate``; a ``concern`` (its ``reason``) opens a follow-up for the
    social agency, whose status the volunteer reads back."""
    volunteer = approved(scope)
    held = db.session.scalar(select(Claim).where(Claim.volunteer_id == volunteer.id, Claim.recipient_id == recipient_id,
                                                 Claim.kind == "visit", Claim.status == "open"))
    if held is None:
        raise NotFound("recipient", recipient_id)
    errors: dict[str, list[str]] = {}
    day = today()
    opened = clock.day_of(held.opened_at)
    if visited_on > day:
        errors["visited_on"] = [_l("cannot be after today (%(day)s)", day=day)]
    elif visited_on < opened:
        errors["visited_on"] = [_l("cannot be before you took this person on")]
    if outcome not in VISIT_OUTCOMES:
        errors["outcome"] = [_l("one of %(value)s", value=', '.join(VISIT_OUTCOMES))]
    reason = ((concern or {}).get("reason") or "").strip()
    if outcome == "concern" and not reason:
        errors["concern.reason"] = [_l("say what worries you: the social agency follows it up")]
    if outcome != "concern" and concern:
        errors["concern"] = [_l("only a visit that ends with a concern raises one")]
    if hours is not None and not 0 < hours <= MAX_VISIT_HOURS:
        errors["hours"] = [_l("more than 0 and at most %(MAX_VISIT_HOURS)s",
                              MAX_VISIT_HOURS=format(MAX_VISIT_HOURS, 'g'))]
    if errors:
        raise Invalid(errors)
    visit = Visit(volunteer_id=volunteer.id, recipient_id=recipient_id, claim_id=held.id, visited_on=visited_on,
                  outcome=outcome, notes=notes, concern=reason or None, hours=hours)
    db.session.add(visit)
    db.session.flush()
    if outcome == "concern":
        events.publish(ConcernRaised(visit.id, recipient_id, volunteer.id, reason, visited_on))
    return visit


def own_visits(page: int = 1, per_page: int = 50, *, scope: Scope) -> Page[Visit]:
    approved(scope)
    query = select(Visit).where(Visit.volunteer_id == scope.volunteer_id).order_by(Visit.visited_on.desc(),
                                                                                  Visit.id.desc())
    return paginate(db.session, query, page, per_page)


# What a volunteer has done, counted where it is kept: areas above add their counts (``tally``:
# the daily loop, meals delivered), wired in service/wiring.py.
_TALLIES: dict[str, Callable[[int], int]] = {}


def tally(name: str, count: Callable[[int], int]) -> None:
    _TALLIES.setdefault(name, count)


@dataclass
class Activity:
    open_claims: int
    helping: int  # distinct people taken on now
    visits: int
    hours: float | None
    counts: dict[str, int]


def open_kinds(volunteer_id: int) -> set[str]:
    return set(db.session.scalars(select(Claim.kind).distinct().where(Claim.volunteer_id == volunteer_id,
                                                                     Claim.status == "open")))


def activity_of(volunteer_id: int) -> Activity:
    open_claims, helping = db.session.execute(
        select(func.count(), func.count(Claim.recipient_id.distinct()))
        .where(Claim.volunteer_id == volunteer_id, Claim.status == "open")).one()
    visits, hours = db.session.execute(
        select(func.count(), func.sum(Visit.hours)).where(Visit.volunteer_id == volunteer_id)).one()
    return Activity(open_claims=open_claims, helping=helping, visits=visits,
                    hours=round(float(hours), 2) if hours is not None else None,
                    counts={name: count(volunteer_id) for name, count in _TALLIES.items()})
