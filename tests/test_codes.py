"""Codes, not sentences: what the service says about a row is stored as a code with parameters, and
said in words at the edge; the sentences stored before are read into codes by migration 0008."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy import select

from blueprints import create_web_app
from schemas.words import words
from service.assignments.models import Assignment
from service.deliveries.models import Delivery
from service.extensions import db
from service.tasks.models import Task
from tests.conftest import at_jakarta

TODAY = dt.date.today()


def test_the_service_stores_codes_and_the_api_gives_them_in_words(client, coordinator, social, agencies, loop,
                                                                 make_recipient, monkeypatch):
    person = loop.people[0]
    stored = db.session.get(Assignment, person["id"]).reason
    assert stored["code"] == "enrolled_placed" and isinstance(stored["km"], float)
    assert person["assignment_note"] == f"enrolled: nearest eligible stall with room ({stored['km']:.1f} km)"
    assert person["assignment_reason"] == stored

    client.post("/api/v1/deliveries/schedule", json={"date": TODAY.isoformat()}, headers=coordinator)
    client.post(f"/api/v1/recipients/{person['id']}/exit", json={"reason": "moved"}, headers=social)
    meal = db.session.scalars(select(Delivery).where(Delivery.recipient_id == person["id"])).first()
    assert (meal.status, meal.reason, meal.cause) == ("cancelled", None, {"code": "recipient_exited"})
    shown = client.get(f"/api/v1/deliveries/{meal.id}", headers=coordinator).json
    assert (shown["reason"], shown["cause"]) == ("recipient exited", {"code": "recipient_exited"})

    at_jakarta(monkeypatch, TODAY, hour=22)
    client.post("/api/v1/deliveries/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    missed = db.session.scalars(select(Delivery).where(Delivery.status == "missed")).first()
    assert (missed.reason, missed.cause) == (None, {"code": "not_confirmed"})

    candidate = make_recipient()
    at_jakarta(monkeypatch, TODAY + dt.timedelta(days=1), hour=7)
    assert client.post("/api/v1/tasks/recurring", headers=coordinator).json["verification_visits"] == 1
    visit = db.session.scalars(select(Task).where(Task.type == "verification_visit")).one()
    assert (visit.title, visit.title_code) == (None, {"code": "task_title", "type": "verification_visit",
                                                      "subject": candidate["name"]})
    shown = client.get(f"/api/v1/tasks/{visit.id}", headers=coordinator).json
    assert shown["title"] == f"Verification visit: {candidate['name']}" and shown["codes"]["title"] == visit.title_code


def test_words_say_every_code_the_service_writes():
    said = {
        "moved": {"code": "moved", "from_vendor_id": 3, "km": 1.24,
                  "cause": {"code": "stall_changed", "changes": {"status": ["active", "suspended"]}}},
        "uncovered": {"code": "uncovered", "from_vendor_id": 3, "reach_km": 5.0,
                      "cause": {"code": "inspection_failed", "on": "2026-12-01"}},
        "rebalance_unplaced": {"code": "rebalance_unplaced", "reach_km": 5.0, "from_vendor_id": 4,
                               "why": "may_not_cook"},
        "unfed": {"code": "unfed", "from": "2026-11-29", "to": "2026-12-01"},
        "task_title": {"code": "task_title", "type": "hygiene_inspection", "subject": "Warung Sri"},
        "referral": {"code": "referral", "agency": "Dinas Pendidikan", "reason": "cough"},
    }
    assert [words(c) for c in said.values()] == [
        "moved: stall 3 changed: status active -> suspended (1.2 km)",
        "uncovered: stall 3 failed its hygiene inspection of 2026-12-01; no eligible stall with room within 5 km",
        "rebalance: no eligible stall with room within 5 km; stall 4 may not cook",
        "no meal delivered from 2026-11-29 to 2026-12-01 (failed or missed)",
        "Hygiene inspection: Warung Sri",
        "Referral from Dinas Pendidikan: cough",
    ]
    assert words({"code": "task_title", "type": "follow_up"}) == "Follow-up"
    assert words("written by a person") == "written by a person" and words(None) is None
    assert words({"code": "something_new"}) == "something_new"


def test_migration_0008_reads_the_stored_sentences_into_codes(tmp_path):
    """Rows written before codes existed, migrated: each sentence becomes its code, and the API says
    the same words as before."""
    app = create_web_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.db"})
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade", "0007"]).exit_code == 0
        now = dt.datetime(2026, 11, 30, 3, 0)
        with db.engine.begin() as conn:
            run = conn.exec_driver_sql
            run("INSERT INTO areas (id, name, kind, latitude, longitude) "
                "VALUES (1, 'Genteng', 'district', -8.3, 114.1)")
            run("INSERT INTO areas (id, name, kind, parent_id, latitude, longitude) "
                "VALUES (2, 'Kaliasin', 'village', 1, -8.35, 114.16)")
            for rid, flag in ((1, "no meal delivered from 2026-11-28 to 2026-11-30 (failed or missed)"), (2, None)):
                run("INSERT INTO recipients (id, nik, name, birth_date, sex, address, village_id, latitude, longitude, "
                    "location_source, dietary_needs, status, flag_reason, version, created_at, updated_at) VALUES "
                    f"({rid}, '35100941055200{rid:02d}', 'Siti', '1952-05-01', 'F', 'Jl. 1', 2, -8.35, 114.16, 'gps', "
                    "'[]', 'enrolled', ?, 1, ?, ?)", (flag, now, now))
            run("INSERT INTO vendors (id, name, owner_name, address, village_id, latitude, longitude, daily_capacity, "
                "status, version, created_at, updated_at) VALUES (7, 'Warung', 'Sri', 'Jl. 2', 2, -8.35, 114.16, 10, "
                "'active', 1, ?, ?)", (now, now))
            run("INSERT INTO assignments (recipient_id, vendor_id, distance_km, reason, since) VALUES "
                "(1, 7, 1.2, 'moved: stall 3 failed its hygiene inspection of 2026-11-29 (1.2 km)', ?)", (now,))
            run("INSERT INTO assignments (recipient_id, vendor_id, distance_km, reason, since) VALUES "
                "(2, NULL, NULL, 'bench', ?)", (now,))
            run("INSERT INTO deliveries (recipient_id, vendor_id, village_id, date, meal, status, reason, created_at) "
                "VALUES (1, 7, 2, '2026-11-30', 'lunch', 'missed', 'not confirmed by the cut-off', ?)", (now,))
            run("INSERT INTO deliveries (recipient_id, vendor_id, village_id, date, meal, status, reason, created_at) "
                "VALUES (1, 7, 2, '2026-11-30', 'dinner', 'failed', 'not at home', ?)", (now,))
            run("INSERT INTO agencies (id, name, code, kind) VALUES (1, 'Dinas Sosial', 'DINSOS', 'social')")
            for title, notes, outcome in (("Verification visit: Siti", None, None),
                                          ("Unfed three days: Siti",
                                           "no meal delivered from 2026-11-28 to 2026-11-30 (failed or missed)",
                                           "flag cleared"),
                                          ("Visit with the village head", "bring the forms", None)):
                run("INSERT INTO tasks (type, agency_id, title, status, opened_on, due_date, notes, outcome_notes, "
                    "origin, version, created_at, updated_at) VALUES ('follow_up', 1, ?, 'open', '2026-11-30', "
                    "'2026-12-02', ?, ?, 'manual', 1, ?, ?)", (title, notes, outcome, now, now))
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        with db.engine.connect() as conn:
            reasons = dict(conn.execute(sa.text("SELECT recipient_id, reason FROM assignments")).all())
            flags = dict(conn.execute(sa.text("SELECT id, flag_reason FROM recipients")).all())
            meals = conn.execute(sa.text("SELECT meal, reason, cause FROM deliveries ORDER BY meal")).all()
            tasks = conn.execute(sa.text("SELECT title, title_code, notes, notes_code, outcome_code FROM tasks "
                                         "ORDER BY id")).all()
        db.engine.dispose()
    moved = json.loads(reasons[1])
    assert moved == {"code": "moved", "from_vendor_id": 3, "km": 1.2,
                     "cause": {"code": "inspection_failed", "on": "2026-11-29"}}
    assert words(moved) == "moved: stall 3 failed its hygiene inspection of 2026-11-29 (1.2 km)"
    assert json.loads(reasons[2]) == {"code": "text", "text": "bench"}
    assert json.loads(flags[1]) == {"code": "unfed", "from": "2026-11-28", "to": "2026-11-30"} and flags[2] is None
    assert [(m, r, json.loads(c) if c else None) for m, r, c in meals] == [
        ("dinner", "not at home", None), ("lunch", None, {"code": "not_confirmed"})]
    coded = [(t, json.loads(tc) if tc else None, n, json.loads(nc) if nc else None, json.loads(oc) if oc else None)
             for t, tc, n, nc, oc in tasks]
    assert coded[0] == ("Verification visit: Siti", None, None, None, None)  # a follow-up titled as another type
    assert coded[1] == (None, {"code": "unfed_follow_up", "subject": "Siti"}, None,
                        {"code": "unfed", "from": "2026-11-28", "to": "2026-11-30"}, {"code": "flag_cleared"})
    assert coded[2] == ("Visit with the village head", None, "bring the forms", None, None)
