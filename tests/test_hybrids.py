"""Each rule has one home, read the same from Python and from SQL: for stalls in every hygiene
state and recipients in every status, paused or not, the row's own answer and the query's agree
on every day around the edges (a certificate's last day, a pause's first and last)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from service.extensions import db
from service.program import clock
from service.recipients import service as recipient_service
from service.recipients.models import Recipient
from service.vendors.models import HYGIENE_STATUSES, Vendor


def around(day: dt.date, before: int, after: int) -> list[dt.date]:
    return [day + dt.timedelta(days=n) for n in range(-before, after + 1)]


def test_a_stalls_hygiene_and_whether_it_may_cook_agree_in_python_and_sql(make_vendor):
    stalls = [db.session.get(Vendor, make_vendor(hygiene=h).id) for h in ("valid", "expired", "failed", None, "valid")]
    suspended = stalls[-1]
    suspended.status = "suspended"
    db.session.flush()
    ids = [s.id for s in stalls]
    today = clock.today()
    last_valid = stalls[0].hygiene_valid_until
    seen = set()
    for day in around(today, 2, 2) + around(last_valid, 1, 1):
        rows = db.session.execute(select(Vendor.id, Vendor.hygiene_status_on(day).label("hygiene"),
                                         Vendor.may_cook_on(day).label("may_cook")).where(Vendor.id.in_(ids))).all()
        by_sql = {row.id: (row.hygiene, bool(row.may_cook)) for row in rows}
        by_python = {s.id: (s.hygiene_status_on(day), s.may_cook_on(day)) for s in stalls}
        assert by_sql == by_python, day
        seen.update(by_python.values())
        for status in HYGIENE_STATUSES:
            chosen = set(db.session.scalars(select(Vendor.id).where(Vendor.id.in_(ids),
                                                                    Vendor.hygiene_is(status, day))))
            assert chosen == {i for i, (hygiene, _) in by_python.items() if hygiene == status}, (day, status)
    assert {h for h, _ in seen} == set(HYGIENE_STATUSES) and {m for _, m in seen} == {True, False}


def test_paused_enrolled_and_eligible_agree_in_python_and_sql(make_recipient):
    today = clock.today()
    people = {status: make_recipient(status)["id"] for status in ("candidate", "verified", "enrolled", "exited")}
    paused = make_recipient("enrolled")["id"]
    recipient_service.add_pause(paused, today + dt.timedelta(days=1), today + dt.timedelta(days=3), "hospital")
    db.session.flush()
    ids = [*people.values(), paused]
    seen = set()
    for day in around(today, 0, 5):
        rows = db.session.execute(select(Recipient.id, Recipient.paused_on(day).label("paused"),
                                         Recipient.enrolled_on(day).label("enrolled"),
                                         Recipient.eligible_on(day).label("eligible"))
                                  .where(Recipient.id.in_(ids))).all()
        by_sql = {row.id: (bool(row.paused), bool(row.enrolled), bool(row.eligible)) for row in rows}
        by_python = {r.id: (r.paused_on(day), r.enrolled_on(day), r.eligible_on(day))
                     for r in db.session.scalars(select(Recipient).where(Recipient.id.in_(ids)))}
        assert by_sql == by_python, day
        seen.update(by_python.values())
    assert (True, True, False) in seen and (False, True, True) in seen and (False, False, False) in seen
