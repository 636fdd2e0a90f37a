"""Regions: staff of one region never see or change another's rows (another region's id answers
exactly as a missing one, on every operation), a NIK is enrolled in one region only, each region
keeps its own clock, and provincial staff read several regions and narrow to one."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from blueprints.extensions import api
from service.accounts import service as accounts
from service.audit.models import AuditEvent
from service.db import bind, default_region
from service.deliveries.models import Delivery, DeliveryDay
from service.extensions import db
from service.program import clock, regions
from service.program import service as program_service
from service.recipients.models import Recipient
from service.scheduler import jobs, runner
from service.tasks.models import Task
from service.vendors import service as vendor_service
from tests.conftest import at_jakarta, birth_of_age
from tests.test_claims import helper, take  # noqa: F401 (fixtures)
from tests.test_claims import today as claims_today  # noqa: F401
from tests.test_complaints import file  # noqa: F401 (a fixture)
from tests.test_targets import draft

API = "/api/v1"
A, B, C = default_region(), "35.09", "51.71"
TODAY = dt.date.today()
MISSING = 987654321


@pytest.fixture
def today(monkeypatch):  # the fixture test_claims' helper asks for
    at_jakarta(monkeypatch, TODAY, hour=10)


def staff_of(code: str, role: str, kind: str | None = None, **fields) -> dict:
    """A user of region ``code`` (an agency of that region for agency staff): auth headers."""
    bind(db.session, (code,))
    n = next(_serial)
    agency_id = accounts.create_agency(f"Dinas {code} {n}", f"D{n}", kind).id if role == "agency" else None
    user = accounts.create_user(email=f"r{n}@{code.replace('.', '-')}.example", password="password-1",
                                name=f"Staff {n}", role=role, agency_id=agency_id, **fields)
    token, _ = accounts.issue_token(user.email, "password-1")
    db.session.commit()
    bind(db.session, (A,))
    return {"Authorization": f"Bearer {token}"}


_serial = iter(range(5000, 9999))


@pytest.fixture
def region_b():
    bind(db.session, None)
    regions.create(B, "Jember", "Asia/Jakarta")
    db.session.commit()
    bind(db.session, (A,))
    return B


def village_of(code: str, name: str, lat: float, lon: float):
    bind(db.session, (code,))
    district = program_service.create_area(f"{name} district", "district", lat, lon)
    village = program_service.create_area(name, "village", lat, lon, district.id)
    db.session.commit()
    bind(db.session, (A,))
    return village


def test_get_regions_lists_what_the_caller_reaches(client, coordinator, region_b):
    public = client.get(f"{API}/regions")
    assert public.status_code == 200 and [r["code"] for r in public.json] == [B, A]
    mine = client.get(f"{API}/regions", headers=coordinator)
    assert [r["code"] for r in mine.json] == [A]
    assert mine.json[0]["timezone"] == "Asia/Jakarta" and mine.json[0]["meal_price"] is None
    provincial = staff_of(A, "coordinator", regions=["*"])
    assert [r["code"] for r in client.get(f"{API}/regions", headers=provincial).json] == [B, A]
    assert client.get(f"{API}/regions", headers=coordinator, query_string={"region": B}).status_code == 404


def test_a_nik_is_enrolled_in_one_region_only(client, social, recipient_data, region_b):
    first = client.post(f"{API}/recipients", json=recipient_data(), headers=social)
    assert first.status_code == 201, first.json
    nik = first.json["nik"]
    jember = village_of(B, "Sumbersari", -8.17, 113.72)
    social_b = staff_of(B, "agency", "social")
    body = {**recipient_data(), "nik": nik, "village_id": jember.id, "latitude": None, "longitude": None}
    body = {k: v for k, v in body.items() if v is not None}
    again = client.post(f"{API}/recipients", json=body, headers=social_b)
    assert again.status_code == 409, again.json
    assert again.json["region"] == A and A in again.json["detail"]
    # nothing of the other region's person: not their id, name, address or village
    said = str(again.json)
    assert "existing_id" not in again.json and first.json["name"] not in said and "Kaliasin" not in said
    # the same person in their own region is the usual duplicate, with its id
    twice = client.post(f"{API}/recipients", json=recipient_data(nik=nik), headers=social)
    assert twice.status_code == 409 and twice.json["existing_id"] == first.json["id"]


def test_each_region_has_its_own_today(monkeypatch, region_b):
    bind(db.session, None)
    regions.create(C, "Denpasar", "Asia/Makassar")
    db.session.commit()
    at_jakarta(monkeypatch, TODAY, 23, 30)  # 23:30 WIB in Banyuwangi is 00:30 in Denpasar
    for code, day in ((A, TODAY), (B, TODAY), (C, TODAY + dt.timedelta(days=1))):
        bind(db.session, (code,))
        assert clock.today() == day, code
        assert program_service.settings().timezone == ("Asia/Makassar" if code == C else "Asia/Jakarta")
    bind(db.session, (A,))


def _body(spec: dict, schema: dict) -> object:
    """A value the schema accepts, built from the OpenAPI document: each required field filled."""
    if "$ref" in schema:
        return _body(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if "allOf" in schema:
        return _body(spec, schema["allOf"][0])
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: _body(spec, props[name]) for name in schema.get("required", []) if name in props}
    if kind == "array":
        return [_body(spec, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.0, schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return TODAY.isoformat()
    if schema.get("format") == "date-time":
        return clock.now().isoformat()
    return "x" * max(schema.get("minLength", 0), 12)


def _answer(response) -> tuple[int, str]:
    """A response as the caller can tell it apart: its status and its body without numbers."""
    return response.status_code, re.sub(r"\d+", "#", response.get_data(as_text=True))


def test_staff_of_one_region_reach_nothing_of_another_on_any_operation(
        app, client, coordinator, agencies, loop, make_recipient, helper, file, region_b):  # noqa: F811
    """Every operation with an id in its path, as each kind of staff of region B, with region A's
    ids and with ids that do not exist: the same answer, never a success; region A's audit trail
    unchanged by all of it."""
    # region A's rows, one of each
    person = make_recipient("enrolled")
    pause = client.post(f"{API}/recipients/{person['id']}/pauses", headers=agencies.social.headers, json={
        "start_date": (TODAY + dt.timedelta(days=3)).isoformat(),
        "end_date": (TODAY + dt.timedelta(days=4)).isoformat(), "reason": "hospital"}).json
    assert client.post(f"{API}/deliveries/schedule", json={"date": TODAY.isoformat()},
                       headers=coordinator).status_code == 200
    delivery_id = db.session.scalar(select(func.min(Delivery.id)))
    volunteer_id, volunteer = helper()
    claimed = take(client, volunteer, make_recipient("enrolled", latitude=-8.26, longitude=114.1668)["id"])
    assert claimed.status_code == 201, claimed.json
    assert file().status_code == 201
    target = draft(client, coordinator, owner_agency_id=agencies.social.agency_id,
                   signatory_agency_ids=[agencies.social.agency_id])
    task = client.post(f"{API}/tasks", headers=coordinator, json={
        "type": "other", "agency_id": agencies.social.agency_id, "title": "Cek", "due_date": TODAY.isoformat()})
    task_id = task.json["id"] if task.status_code == 201 else db.session.scalar(select(func.min(Task.id)))
    assert task_id is not None, task.json
    leave = client.post(f"{API}/program/leave-days", headers=coordinator,
                        json={"date": (TODAY + dt.timedelta(days=40)).isoformat(), "name": "Cuti"})
    assert leave.status_code == 201, leave.json
    complaint_id = db.session.scalar(select(func.max(AuditEvent.entity_id)).where(AuditEvent.entity == "complaint"))
    ids = {"recipient_id": person["id"], "pause_id": pause["id"], "vendor_id": loop.a.id, "delivery_id": delivery_id,
           "task_id": task_id, "target_id": target["id"], "agency_id": agencies.social.agency_id,
           "volunteer_id": volunteer_id, "claim_id": claimed.json["id"], "complaint_id": complaint_id,
           "user_id": agencies.social.user.id, "area_id": loop.a.village_id, "day": leave.json["date"],
           "region_code": A}
    missing = {name: MISSING for name in ids} | {"day": (TODAY + dt.timedelta(days=41)).isoformat(),
                                                 "region_code": "99.99"}
    # The public's keys (a tracking code, an Open311 id) find a complaint in any region by design:
    # they are the complainant's, not staff's. A route's category is the caller's own region's.
    public_keys = {"code", "request_id", "category"}

    with app.app_context():
        spec = api.spec.to_dict()
    callers = {"coordinator": staff_of(B, "coordinator"), "social": staff_of(B, "agency", "social"),
               "health": staff_of(B, "agency", "health"), "education": staff_of(B, "agency", "education"),
               "data": staff_of(B, "agency", "data")}
    trail_before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.region_code == A))
    people_before = db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.region_code == A))
    walked, not_found = 0, 0
    for path, operations in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        if not names or names & public_keys:
            continue
        assert names <= set(ids), f"{path}: give the walk an id of region A for {names - set(ids)}"
        for method, operation in operations.items():
            if method == "parameters":
                continue
            body = None
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _body(spec, content["application/json"]["schema"])
            for who, headers in callers.items():
                answers = []
                for values in (ids, missing):
                    url = path.format(**{name: values[name] for name in names})
                    response = client.open(url, method=method.upper(), json=body, headers=headers)
                    answers.append(_answer(response))
                theirs, nothing = answers
                assert theirs[0] < 500 and not 200 <= theirs[0] < 300, (who, method, path, theirs)
                assert theirs == nothing, (who, method, path, theirs, nothing)
                walked += 1
                not_found += theirs[0] == 404
    assert walked > 200 and not_found > 100, (walked, not_found)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.region_code == A)) == trail_before
    assert db.session.scalar(select(func.count()).select_from(Recipient)
                             .where(Recipient.region_code == A)) == people_before


def test_lists_and_figures_hold_the_callers_region_and_provincial_staff_narrow(
        client, coordinator, loop, region_b):
    coordinator_b = staff_of(B, "coordinator")
    for path in ("/recipients", "/vendors", "/deliveries", "/tasks", "/volunteers", "/users", "/agencies",
                 "/areas", "/complaints", "/targets", "/audit"):
        theirs = client.get(f"{API}{path}", headers=coordinator_b)
        assert theirs.status_code == 200, (path, theirs.json)
        items = theirs.json["items"] if isinstance(theirs.json, dict) else theirs.json
        if path == "/users":
            assert all("@35-09." in (u.get("email") or "") for u in items), items
        elif path == "/audit":  # the trail of region B: its own staff made, nothing of A's
            assert items and {e["entity"] for e in items} <= {"user", "agency", "api_token"}, items
        elif path not in ("/agencies",):
            assert items == [], (path, items)
    mine = client.get(f"{API}/recipients", headers=coordinator).json
    assert mine["total"] == 3
    provincial = staff_of(A, "coordinator", regions=[A, B])
    assert client.get(f"{API}/recipients", headers=provincial).json["total"] == 3
    assert client.get(f"{API}/recipients", headers=provincial, query_string={"region": B}).json["total"] == 0
    assert client.get(f"{API}/recipients", headers=provincial, query_string={"region": C}).status_code == 404
    # a provincial user adding a row names the region it is for
    unnamed = client.post(f"{API}/agencies", headers=provincial,
                          json={"name": "Dinsos", "code": "DS", "kind": "social"})
    assert unnamed.status_code == 422 and "region" in unnamed.json["errors"], unnamed.json
    named = client.post(f"{API}/agencies", headers=provincial, query_string={"region": B},
                        json={"name": "Dinsos", "code": "DS", "kind": "social"})
    assert named.status_code == 201, named.json
    # the same code in another region is that region's own agency
    assert client.post(f"{API}/agencies", headers=coordinator, json={"name": "Dinsos", "code": "DS",
                                                                      "kind": "social"}).status_code == 201
    # one region's staff may not change the program's shared settings once there are several
    assert client.patch(f"{API}/program", headers=coordinator, json={"min_age": 61}).status_code == 403


def test_the_public_files_at_a_regions_door_and_the_code_finds_it(client, areas, region_b, monkeypatch):
    at_jakarta(monkeypatch, TODAY, 10)
    jember = village_of(B, "Sumbersari", -8.17, 113.72)
    filed = client.post(f"{API}/complaints", query_string={"region": B}, json={
        "category": "missed_meal", "description": "Mbah di RT 03 tidak dapat makanan kemarin.",
        "village_id": jember.id})
    assert filed.status_code == 201, filed.json
    code = filed.json["code"]
    bind(db.session, None)
    from service.complaints.models import Complaint
    assert db.session.scalar(select(Complaint.region_code).where(Complaint.code == code)) == B
    bind(db.session, (A,))
    assert client.get(f"{API}/complaints/{code}").status_code == 200  # no region needed to follow it
    # Banyuwangi's village is not Jember's
    wrong = client.post(f"{API}/complaints", query_string={"region": B}, json={
        "category": "missed_meal", "description": "Mbah di RT 03 tidak dapat makanan kemarin.",
        "village_id": areas["Kaliasin"].id})
    assert wrong.status_code == 422, wrong.json
    assert birth_of_age  # (imported for recipient bodies elsewhere)


def test_a_provincial_coordinators_figures_are_each_regions_and_their_sum(client, coordinator, loop,
                                                                           recipient_data, region_b):
    jember = village_of(B, "Sumbersari", -8.17, 113.72)
    coordinator_b = staff_of(B, "coordinator")
    for n in range(2):  # two enrolled in Jember, whom no stall reaches: eligible, not covered
        body = {**recipient_data(), "village_id": jember.id, "latitude": -8.17 + n / 1000, "longitude": 113.72}
        rid = client.post(f"{API}/recipients", json=body, headers=coordinator_b)
        assert rid.status_code == 201, rid.json
        rid = rid.json["id"]
        assert client.post(f"{API}/recipients/{rid}/verify", json={"eligible": True},
                           headers=coordinator_b).status_code == 200
        assert client.post(f"{API}/recipients/{rid}/enrol", headers=coordinator_b).status_code == 200
    provincial = staff_of(A, "coordinator", regions=[A, B])
    query = {"live": "true"}
    a = client.get(f"{API}/coverage", headers=coordinator, query_string=query).json
    b = client.get(f"{API}/coverage", headers=coordinator_b, query_string=query).json
    both = client.get(f"{API}/coverage", headers=provincial, query_string=query).json
    assert (a["eligible"], b["eligible"]) == (3, 2)
    assert [r["region_code"] for r in a["by_region"]] == [A] and [r["region_code"] for r in both["by_region"]] == [B, A]
    for name in ("eligible", "covered", "uncovered", "scheduled", "delivered"):
        assert both[name] == a[name] + b[name], name  # the province's total, summed by hand
        assert {r["region_code"]: r[name] for r in both["by_region"]} == {A: a[name], B: b[name]}, name
    narrowed = client.get(f"{API}/coverage", headers=provincial, query_string={**query, "region": B}).json
    assert narrowed["eligible"] == 2 and [v["village"] for v in narrowed["by_village"]] == ["Sumbersari"]
    # Jember's target measures Jember, whoever reads it: not the province's sum
    agency = client.post(f"{API}/agencies", headers=coordinator_b, json={"name": "Dinsos", "code": "DS",
                                                                          "kind": "social"}).json["id"]
    target = draft(client, coordinator_b, indicator="enrolled_count", threshold=10, owner_agency_id=agency,
                   signatory_agency_ids=[agency])
    assert target["current_value"] == 2
    listed = client.get(f"{API}/targets", headers=provincial).json["items"]
    assert [(t["id"], t["current_value"]) for t in listed] == [(target["id"], 2)]
    assert client.get(f"{API}/targets/{target['id']}", headers=provincial).json["current_value"] == 2


def test_two_regions_are_scheduled_each_at_its_own_evening(app, monkeypatch, region_b):
    bind(db.session, None)
    regions.create(C, "Denpasar", "Asia/Makassar", delivery_cutoff=dt.time(20, 0))
    db.session.commit()
    bind(db.session, (A,))
    scheduler = runner.build(app, BackgroundScheduler)
    triggers = {job.id: job.trigger for job in scheduler.get_jobs()}
    assert str(triggers["schedule"].timezone) == "Asia/Jakarta"
    assert str(triggers[f"schedule@{C}"].timezone) == "Asia/Makassar"
    assert {f.name: str(f) for f in triggers[f"cutoff@{C}"].fields if f.name == "hour"} == {"hour": "20"}
    assert {f.name: str(f) for f in triggers["cutoff"].fields if f.name == "hour"} == {"hour": "21"}
    # 17:30 in Banyuwangi is 18:30 in Denpasar: Denpasar's evening scheduling is due, Banyuwangi's not
    at_jakarta(monkeypatch, TODAY, 17, 30)
    done = {code: jobs.run(app, "catch_up", region=code) for code in (A, C)}
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert tomorrow in done[C]["scheduled"] and tomorrow not in done[A]["scheduled"], done
    # each region's day is its own: Denpasar's scheduled tomorrow is no day of Banyuwangi's
    bind(db.session, None)
    days = set(db.session.execute(select(DeliveryDay.region_code, DeliveryDay.date)
                                  .where(DeliveryDay.scheduled_at.is_not(None))).all())
    bind(db.session, (A,))
    assert (C, TODAY + dt.timedelta(days=1)) in days and (A, TODAY + dt.timedelta(days=1)) not in days


def test_the_public_statistics_are_each_regions_own_however_long_a_process_keeps_them(
        app, client, loop, region_b, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_STATS_CACHE_SECONDS", 300)
    here = client.get(f"{API}/public/stats")
    there = client.get(f"{API}/public/stats", query_string={"region": B})
    assert here.status_code == there.status_code == 200
    assert here.json["stalls_active"] == 2 and there.json["stalls_active"] == 0, (here.json, there.json)
    assert client.get(f"{API}/public/stats", query_string={"region": "99.99"}).status_code == 404


def test_a_region_that_is_not_one_is_a_404_that_says_nothing_back(client, coordinator):
    for code in ("99.99", "\x00", "35.10\n", "x" * 5000, "", "35.1O"):
        for headers in ({}, coordinator):
            answer = client.get(f"{API}/regions", query_string={"region": code}, headers=headers)
            assert answer.status_code == 404 and answer.content_type == "application/problem+json", (code, answer.json)
            said = answer.json["detail"]
            assert ("99.99" in said) == (code == "99.99") and "\x00" not in said and "xxxx" not in said, said


def test_open311_finds_codes_of_several_regions_at_once_each_on_its_regions_clock(client, areas, monkeypatch):
    bind(db.session, None)
    regions.create(C, "Denpasar", "Asia/Makassar")
    db.session.commit()
    bind(db.session, (A,))
    at_jakarta(monkeypatch, TODAY, 10)
    denpasar = village_of(C, "Dauh Puri", -8.66, 115.21)
    body = {"category": "missed_meal", "description": "Mbah di RT 03 tidak dapat makanan kemarin."}
    there = client.post(f"{API}/complaints", query_string={"region": C}, json={**body, "village_id": denpasar.id})
    here = client.post(f"{API}/complaints", json={**body, "village_id": areas["Kaliasin"].id})
    assert there.status_code == here.status_code == 201, (there.json, here.json)
    codes = [there.json["code"], here.json["code"], "RK-2222-2222"]
    listed = client.get(f"{API}/open311/v2/requests.json", query_string={"service_request_id": ",".join(codes)})
    assert listed.status_code == 200, listed.json
    assert [r["service_request_id"] for r in listed.json] == codes[:2]  # the unknown one left out
    offsets = [r["expected_datetime"][-6:] for r in listed.json]
    assert offsets == ["+08:00", "+07:00"]  # each the end of a day where it was filed (WITA, WIB)
    one = client.get(f"{API}/open311/v2/requests/{codes[0]}.json")
    assert one.json[0]["expected_datetime"] == listed.json[0]["expected_datetime"]


def test_a_rebalance_is_one_regions_problem(client, coordinator, loop, region_b):
    """Each region's recipients are placed at its own stalls: a provincial coordinator says which
    region to rebalance; its report and trail are that region's."""
    provincial = staff_of(A, "coordinator", regions=[A, B])
    unnamed = client.post(f"{API}/assignments/rebalance", headers=provincial)
    assert unnamed.status_code == 422 and "region" in unnamed.json["errors"], unnamed.json
    theirs = client.post(f"{API}/assignments/rebalance", headers=provincial, query_string={"region": B})
    assert theirs.status_code == 200 and theirs.json["enrolled"] == 0 and theirs.json["covered"] == 0, theirs.json
    before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "assignment"))
    # the loop's three share stall A at 0 km; stall B, 4 km away, has room: nobody moves
    mine = client.post(f"{API}/assignments/rebalance", headers=coordinator)
    assert mine.status_code == 200 and (mine.json["enrolled"], mine.json["covered"], mine.json["moved"]) == (3, 3, 0)
    ours = client.post(f"{API}/assignments/rebalance", headers=provincial, query_string={"region": A}).json
    assert (ours["enrolled"], ours["covered"]) == (3, 3), ours
    bind(db.session, None)
    after = db.session.scalars(select(AuditEvent.region_code).where(AuditEvent.entity == "assignment")).all()
    assert len(after) == before and set(after) <= {A}, after  # nothing changed, nothing written


def test_the_rebalance_command_takes_a_region(cli, loop, region_b):
    theirs = cli.invoke(args=["assignments", "rebalance", "--region", B])
    assert theirs.exit_code == 0 and "0 enrolled" in theirs.output, theirs.output
    ours = cli.invoke(args=["assignments", "rebalance"])
    assert ours.exit_code == 0 and "3 enrolled: 3 covered" in ours.output, ours.output
    nowhere = cli.invoke(args=["assignments", "rebalance", "--region", "99.99"])
    assert nowhere.exit_code != 0 and "99.99" in nowhere.output, nowhere.output


def test_a_stalls_login_is_made_only_for_a_stall_of_the_same_region(client, coordinator, region_b):
    village = village_of(B, "Kaliwates", -8.17, 113.70)
    bind(db.session, (B,))
    theirs = vendor_service.register_vendor(name="Warung Jember", owner_name="Bu Ani", address="Jl. Gajah Mada",
                                            village_id=village.id, latitude=-8.17, longitude=113.70, daily_capacity=20)
    db.session.commit()
    bind(db.session, (A,))
    answers = []
    for vendor_id in (theirs.id, MISSING):
        made = client.post(f"{API}/users", headers=coordinator, json={
            "email": f"warung{vendor_id}@example.com", "password": "kopi-tubruk-2026", "name": "Warung",
            "role": "vendor", "vendor_id": vendor_id})
        answers.append((made.status_code, made.json["errors"].get("vendor_id")))
    assert answers[0][0] == answers[1][0] == 422, answers
    assert answers[0][1] == [f"vendor {theirs.id} does not exist"], answers
    coordinator_b = staff_of(B, "coordinator")
    made = client.post(f"{API}/users", headers=coordinator_b, json={
        "email": "warung.jember@example.com", "password": "kopi-tubruk-2026", "name": "Warung", "role": "vendor",
        "vendor_id": theirs.id})
    assert made.status_code == 201, made.json


def test_a_region_changes_its_own_settings_and_only_its_own(app, client, coordinator, social, region_b):
    """A regency's coordinator (or staff who coordinate it) sets its own cut-off, evening and
    price, or gives one back to the program's with null; another region's code answers as a
    missing one; the job runner reads the new times."""
    theirs = staff_of(B, "coordinator")
    read = next(r for r in client.get(f"{API}/regions", headers=theirs).json if r["code"] == B)
    tag = f'W/"{read["version"]}"'
    changed = client.patch(f"{API}/regions/{B}", headers={**theirs, "If-Match": tag},
                           json={"delivery_cutoff": "20:00", "schedule_time": "17:30", "meal_price": 16000})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == f'W/"{read["version"] + 1}"'
    assert (changed.json["delivery_cutoff"], changed.json["schedule_time"], changed.json["meal_price"]) == \
        ("20:00", "17:30", 16000)
    stale = client.patch(f"{API}/regions/{B}", headers={**theirs, "If-Match": tag}, json={"pass_mark": 75})
    assert stale.status_code == 412, stale.json
    # a region made after the first release had no price on record: earlier days keep the old one
    bind(db.session, (B,))
    earlier = clock.today() - dt.timedelta(days=40)
    paid = program_service.meal_prices(earlier, clock.today())
    bind(db.session, (A,))
    assert paid(earlier) == program_service.settings().meal_price and paid(clock.today()) == 16000
    # what the region reads now, and what the other region still reads
    bind(db.session, (B,))
    own = program_service.settings()
    price = program_service.meal_prices(clock.today(), clock.today())(clock.today())
    bind(db.session, (A,))
    assert (own.delivery_cutoff, own.schedule_time, own.meal_price, price) == \
        (dt.time(20, 0), dt.time(17, 30), 16000, 16000)
    program = program_service.settings()
    assert program.delivery_cutoff == dt.time(21, 0) and program.meal_price != 16000
    times = runner.read_times(app)
    assert times[B].schedule_time == dt.time(17, 30) and times[A].schedule_time == program.schedule_time
    # null: the program's again, the price included (from today)
    back = client.patch(f"{API}/regions/{B}", headers=theirs, json={"delivery_cutoff": None, "meal_price": None})
    assert back.status_code == 200 and back.json["delivery_cutoff"] is None and back.json["meal_price"] is None
    bind(db.session, (B,))
    own = program_service.settings()
    price = program_service.meal_prices(clock.today(), clock.today())(clock.today())
    bind(db.session, (A,))
    assert (own.delivery_cutoff, own.meal_price, price) == (dt.time(21, 0), program.meal_price, program.meal_price)
    # the trail: the region's own events, under its code's digits
    bind(db.session, None)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "region")
                                .order_by(AuditEvent.id)).all()
    bind(db.session, (A,))
    assert [(e.entity_id, e.region_code) for e in events] == [(3509, B), (3509, B)]
    assert events[0].changes["delivery_cutoff"] == [None, "20:00:00"] and events[1].changes["meal_price"] == \
        [16000, None]
    # another region's code answers as one that does not exist; an agency may not change a region
    mine = client.patch(f"{API}/regions/{B}", headers=coordinator, json={"pass_mark": 75})
    nowhere = client.patch(f"{API}/regions/99.98", headers=coordinator, json={"pass_mark": 75})
    assert mine.status_code == nowhere.status_code == 404 and _answer(mine) == _answer(nowhere), mine.json
    national = staff_of(A, "coordinator", regions=["*"])
    for odd in ("%00", "35.1%000", "x" * 300, "35.10%0A"):
        answer = client.patch(f"{API}/regions/{odd}", headers=national, json={"pass_mark": 75})
        assert answer.status_code == 404, (odd, answer.status_code)
    assert client.patch(f"{API}/regions/{A}", headers=social, json={"pass_mark": 75}).status_code == 403
    provincial = staff_of(A, "coordinator", regions=[A, B])
    assert client.patch(f"{API}/regions/{B}", headers=provincial, json={"pass_mark": 75}).json["pass_mark"] == 75
    # every bad value is a 422 naming its field; the clock is where the regency is: not a setting
    for body, field in (({"delivery_cutoff": "20:00:30"}, "delivery_cutoff"), ({"name": "  "}, "name"),
                        ({"pass_mark": 101}, "pass_mark"), ({"meal_price": -1}, "meal_price"),
                        ({"timezone": "Asia/Makassar"}, "timezone"), ({"schedule_time": "25:00"}, "schedule_time")):
        refused = client.patch(f"{API}/regions/{B}", headers=theirs, json=body)
        assert refused.status_code == 422 and field in refused.json["errors"], (body, refused.json)


def test_the_region_command_changes_a_regions_settings(cli, region_b):
    done = cli.invoke(args=["regions", "update", "--code", B, "--delivery-cutoff", "20:30", "--meal-price", "17000"])
    assert done.exit_code == 0 and "delivery_cutoff=20:30:00" in done.output and "meal_price=17000" in done.output, \
        done.output
    back = cli.invoke(args=["regions", "update", "--code", B, "--meal-price", "program"])
    assert back.exit_code == 0 and "meal_price=program" in back.output, back.output
    bad = cli.invoke(args=["regions", "update", "--code", B, "--pass-mark", "lots"])
    assert bad.exit_code != 0 and "lots" in bad.output, bad.output
    for option, value in (("--pass-mark", "101"), ("--meal-price", "-5"), ("--meal-price", "3000000000"),
                          ("--delivery-cutoff", "20:00:30"), ("--name", "J" * 121)):
        refused = cli.invoke(args=["regions", "update", "--code", B, option, value])
        assert refused.exit_code != 0 and option[2:].replace("-", "_") in refused.output, (option, refused.output)
    nowhere = cli.invoke(args=["regions", "update", "--code", "99.99", "--pass-mark", "70"])
    assert nowhere.exit_code != 0 and "99.99" in nowhere.output, nowhere.output
