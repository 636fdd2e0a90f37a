"""Races between real transactions, on a database of their own (the other tests share one
rolled-back connection, which cannot race)."""
import threading

from sqlalchemy import func, select

from service.accounts import service as accounts
from service.assignments.models import Assignment
from service.extensions import db
from service.recipients import service as recipients
from service.tasks import recurring
from service.tasks.models import Task
from tests.conftest import race_twice, seed_stall_and_people, writers_interleave


def test_two_enrolments_racing_for_a_stalls_last_place_never_overfill_it(own_app):
    app = own_app
    with app.app_context():
        stall_id, ids = seed_stall_and_people(capacity=1, people=2, enrol=False)

    # On PostgreSQL both transactions have read before either writes; on SQLite the second begins
    # (waiting for the write lock) when the first ends.
    start = threading.Barrier(2 if writers_interleave(app) else 1)
    outcomes = []

    def enrol(recipient_id):
        with app.app_context():
            try:
                recipients.get_recipient(recipient_id)
                start.wait(timeout=10)
                recipients.enrol_recipient(recipient_id)
                db.session.commit()
                outcomes.append("enrolled")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=enrol, args=(rid,)) for rid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    with app.app_context():
        at_stall = db.session.scalar(select(func.count()).where(Assignment.vendor_id == stall_id))
        unplaced = db.session.scalar(select(func.count()).where(Assignment.vendor_id.is_(None)))
    assert at_stall == 1  # never two in one place
    # the lock made the second enrolment wait, then find the stall full: enrolled, uncovered
    assert outcomes == ["enrolled", "enrolled"] and unplaced == 1


def test_two_runners_opening_recurring_work_at_once_open_it_once(own_app):
    app = own_app
    with app.app_context():
        seed_stall_and_people(capacity=10, people=3, enrol=True)
        accounts.create_agency(name="Dinas Pendidikan", code="DISPENDIK", kind="education")
        db.session.commit()
    opened, failures = race_twice(app, lambda: recurring.open_recurring().school_visits)
    with app.app_context():
        visits = db.session.scalars(select(Task.recipient_id).where(Task.type == "school_visit")).all()
    assert sorted(visits) == sorted(set(visits)) and len(visits) == 3
    assert sorted(opened) == [0, 3] and not failures  # the second waited, then found them open
