"""Races between real transactions, on a database of their own (the other tests share one
rolled-back connection, which cannot race)."""
import datetime as dt
import threading
import uuid

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from blueprints import BLUEPRINTS
from service.app import create_app
from service.assignments.models import Assignment
from service.demo.data import make_nik
from service.extensions import db
from service.program import service as program_service
from service.recipients import service as recipients
from service.vendors import service as vendors
from tests.conftest import TEST_CONFIG, database_url


@pytest.fixture
def own_database(tmp_path_factory):
    """The URL of a new, empty database on the test engine; dropped afterwards."""
    url = make_url(database_url(tmp_path_factory))
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
        return
    name = f"rantang_race_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_enrolments_racing_for_a_stalls_last_place_never_overfill_it(own_database, monkeypatch):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": own_database}, blueprints=BLUEPRINTS)
    # The real session, not the rolled-back one of the other tests.
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        district = program_service.create_area("Genteng", "district", -8.3662, 114.1526, code="35.10.09")
        village = program_service.create_area("Kaliasin", "village", -8.3538, 114.1668, district.id, "35.10.09.2001")
        stall = vendors.register_vendor(name="Warung", owner_name="Sri", address="Jl. Raya 1", village_id=village.id,
                                        latitude=-8.3538, longitude=114.1668, daily_capacity=1)
        vendors.record_inspection(stall.id, "hygiene", program_service.today(), 90, passed=True)
        ids = []
        for serial in (1, 2):
            birth = dt.date(1950, 3, serial)
            person = recipients.register_recipient(make_nik("35.10.09", birth, "M", serial), "Slamet", birth, "M",
                                                   "Dusun Krajan", village.id, latitude=-8.354, longitude=114.167)
            recipients.verify_recipient(person.id, eligible=True)
            ids.append(person.id)
        db.session.commit()
        stall_id = stall.id

    start = threading.Barrier(2)
    outcomes = []

    def enrol(recipient_id):
        with app.app_context():
            try:
                recipients.get_recipient(recipient_id)  # both transactions have read before either writes
                start.wait(timeout=10)
                recipients.enrol_recipient(recipient_id)
                db.session.commit()
                outcomes.append("enrolled")
            except OperationalError:  # SQLite: the second writer's snapshot is stale; nothing written
                db.session.rollback()
                outcomes.append("refused")
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
        db.session.remove()
        db.engine.dispose()
    assert at_stall == 1  # never two in one place
    if own_database.startswith("postgresql"):
        # the lock made the second enrolment wait, then find the stall full: enrolled, uncovered
        assert outcomes == ["enrolled", "enrolled"] and unplaced == 1
    else:
        # SQLite has one writer: the second either waited for the first or was refused whole
        assert "enrolled" in outcomes and at_stall + unplaced == outcomes.count("enrolled")
