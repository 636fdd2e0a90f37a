"""Targets: drafted by the program office, signed by every signatory agency, then in force, and
measured from the data at the moment they are read, never from what an agency reports.

Status: ``draft`` until every signatory has signed; then ``achieved`` when the indicator meets
the threshold; before the due date ``on_track`` or ``at_risk`` as the last week's trend, carried
on to the due date, reaches the threshold or not; after the due date, ``achieved`` or ``missed``
as the indicator stood on the due date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from service.accounts.models import Agency
from service.accounts.scope import Scope
from service.db import Page, Showing, check_version, equals, fetch, in_region, one_region, utcnow
from service.errors import Forbidden, Invalid
from service.extensions import db
from service.i18n import _l
from service.program.clock import today
from service.targets.indicators import WEEK, Measurer
from service.targets.models import INDICATORS, RATES, Signatory, Target
from service.tasks import performance
from service.tasks.performance import TaskCounts

# Changing any of these changes the promise: the signatures given to the old one are void.
PROMISE = frozenset({"indicator", "threshold", "due_date", "owner_agency_id", "signatory_agency_ids"})


@dataclass
class Reading:
    """A target as the data stands: its indicator's value, on which day, the trend and status."""

    current_value: float | None
    measured_on: dt.date
    value_week_before: float | None
    projected_value: float | None
    status: str


def evaluate(target: Target, measure: Measurer | None = None) -> Reading:
    """The target as its region's data stands (on its region's clock), whoever reads it."""
    if target.region_code is not None and one_region(db.session) != target.region_code:
        with in_region(db.session, target.region_code):
            return evaluate(target, measure)
    measure = measure or Measurer()
    day = min(measure.last_complete_day(target.indicator), target.due_date)
    value = measure(target.indicator, day)
    before = measure(target.indicator, day - dt.timedelta(days=WEEK))
    projected = value
    if value is not None and before is not None:
        projected = round(value + (value - before) / WEEK * max((target.due_date - day).days, 0), 4)
    if not target.in_force:
        status = "draft"
    elif value is not None and value >= target.threshold:
        status = "achieved"
    elif today() > target.due_date:
        status = "missed"
    else:
        status = "on_track" if projected is not None and projected >= target.threshold else "at_risk"
    return Reading(current_value=value, measured_on=day, value_week_before=before, projected_value=projected,
                   status=status)


@dataclass(frozen=True)
class TargetShown(Showing):
    """A target as shown: its row, and its indicator as the data stands now."""

    subject: Target
    current_value: float | None
    measured_on: dt.date
    value_week_before: float | None
    projected_value: float | None
    status: str


def _read(target: Target, measure: Measurer) -> TargetShown:
    reading = evaluate(target, measure)
    return TargetShown(target, reading.current_value, reading.measured_on, reading.value_week_before,
                       reading.projected_value, reading.status)


def _check(indicator: str | None, threshold: float | None, due_date: dt.date | None, owner_agency_id: int | None,
           signatory_agency_ids: list[int] | None) -> None:
    errors: dict[str, list[str]] = {}
    if indicator is not None and indicator not in INDICATORS:
        errors["indicator"] = [_l("must be one of %(value)s", value=', '.join(INDICATORS))]
    if threshold is not None and indicator in RATES and not 0 <= threshold <= 1:
        errors["threshold"] = [_l("%(indicator)s is a share from 0 to 1 (0.95 for 95%%)", indicator=indicator)]
    if threshold is not None and indicator == "enrolled_count" and threshold < 0:
        errors["threshold"] = [_l("a count is not negative")]
    if due_date is not None and due_date < today():
        errors["due_date"] = [_l("cannot be before today (%(value)s)", value=today())]
    if owner_agency_id is not None and db.session.get(Agency, owner_agency_id) is None:
        errors["owner_agency_id"] = [_l("agency %(owner_agency_id)s does not exist", owner_agency_id=owner_agency_id)]
    if signatory_agency_ids is not None:
        if not signatory_agency_ids:
            errors["signatory_agency_ids"] = [_l("at least one agency signs a target")]
        known = set(db.session.scalars(select(Agency.id).where(Agency.id.in_(signatory_agency_ids))))
        missing = [a for a in signatory_agency_ids if a not in known]
        if missing:
            errors["signatory_agency_ids"] = [_l("no agency %(value)s", value=', '.join(map(str, missing)))]
    if errors:
        raise Invalid(errors)


def create_target(title: str, indicator: str, threshold: float, due_date: dt.date, owner_agency_id: int,
                  signatory_agency_ids: list[int], *, scope: Scope) -> TargetShown:
    """A draft target; it is in force once every signatory agency has signed it."""
    signatory_agency_ids = list(dict.fromkeys(signatory_agency_ids))
    _check(indicator, threshold, due_date, owner_agency_id, signatory_agency_ids)
    target = Target(title=title.strip(), indicator=indicator, threshold=threshold, due_date=due_date,
                    owner_agency_id=owner_agency_id, created_by=scope.user_id,
                    signatories=[Signatory(agency_id=a) for a in signatory_agency_ids])
    db.session.add(target)
    db.session.flush()
    return _read(target, Measurer())


def get_target(target_id: int) -> TargetShown:
    return _read(fetch(db.session, Target, target_id), Measurer())


def list_targets(page: int, per_page: int, status: str | None = None, indicator: str | None = None,
                 owner_agency_id: int | None = None, signatory_agency_id: int | None = None) -> Page[TargetShown]:
    """Targets by due date, each read from the data now. Few by nature (a program has a handful),
    so the status filter reads them all."""
    query = select(Target).order_by(Target.due_date, Target.id)
    if indicator:
        query = query.where(equals(Target.indicator, indicator))
    if owner_agency_id is not None:
        query = query.where(Target.owner_agency_id == owner_agency_id)
    if signatory_agency_id is not None:
        query = query.where(Target.signatories.any(Signatory.agency_id == signatory_agency_id))
    measure = Measurer()
    targets = [_read(t, measure) for t in db.session.scalars(query)]
    if status:
        targets = [t for t in targets if t.status in ([status] if isinstance(status, str) else status)]
    start = (page - 1) * per_page
    return Page(items=targets[start:start + per_page], page=page, per_page=per_page, total=len(targets))


def sign_target(target_id: int, *, scope: Scope) -> TargetShown:
    """The caller's agency signs. Signing again changes nothing."""
    target = fetch(db.session, Target, target_id)
    signatory = next((s for s in target.signatories if s.agency_id == scope.agency), None)
    if signatory is None:
        raise Forbidden(_l("agency %(agency)s is not a signatory of target %(target_id)s",
                           agency=scope.agency, target_id=target_id))
    if signatory.signed_at is None:
        signatory.signed_at, signatory.signed_by = utcnow(), scope.user_id
        db.session.flush()
    return _read(target, Measurer())


def update_target(target_id: int, changes: dict[str, Any], expected_version: int | None = None) -> TargetShown:
    """Edit a target. A change to the promise (indicator, threshold, due date, owner or
    signatories) voids the signatures given: the agencies sign the new promise again."""
    target = fetch(db.session, Target, target_id)
    check_version(target, expected_version)
    if "signatory_agency_ids" in changes:
        changes["signatory_agency_ids"] = list(dict.fromkeys(changes["signatory_agency_ids"]))
    _check(changes.get("indicator", target.indicator), changes.get("threshold", target.threshold),
           changes.get("due_date"), changes.get("owner_agency_id"), changes.get("signatory_agency_ids"))
    promise_changed = any(
        (changes[k] != (target.signatory_agency_ids if k == "signatory_agency_ids" else getattr(target, k)))
        for k in PROMISE & changes.keys())
    for key, value in changes.items():
        if key == "signatory_agency_ids":
            kept = {s.agency_id: s for s in target.signatories}
            target.signatories = [kept.get(a) or Signatory(agency_id=a) for a in value]
        else:
            setattr(target, key, value.strip() if key == "title" else value)
    if promise_changed:
        for signatory in target.signatories:
            signatory.signed_at = signatory.signed_by = None
    db.session.flush()
    return _read(target, Measurer())


def owned_readings(agency_id: int) -> list[TargetShown]:
    """The targets an agency owns, each read from the data now."""
    measure = Measurer()
    return [_read(t, measure) for t in db.session.scalars(
        select(Target).where(Target.owner_agency_id == agency_id).order_by(Target.due_date, Target.id))]


@dataclass
class Performance:
    agency_id: int
    agency: str
    kind: str
    from_: dt.date
    to: dt.date
    tasks: TaskCounts
    by_type: list[TaskCounts]
    targets: list[TargetShown]


def agency_performance(agency_id: int, first: dt.date | None = None, last: dt.date | None = None, *,
                       scope: Scope) -> Performance:
    """An agency's work in a period (the last 30 days by default): its tasks opened, done on time,
    done late, cancelled and overdue, in total and by type, and the targets it owns as the data
    stands. An agency sees its own only."""
    agency = performance.agency_for(agency_id, scope)
    last = last or today()
    first = first or last - dt.timedelta(days=29)
    if first > last:
        raise Invalid({"from": [_l("must not be after `to`")]})
    total, by_type = performance.task_counts(agency.id, first, last)
    return Performance(agency_id=agency.id, agency=agency.name, kind=agency.kind, from_=first, to=last,
                       tasks=total, by_type=by_type, targets=owned_readings(agency.id))
