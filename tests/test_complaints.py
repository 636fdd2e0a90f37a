"""Complaints through the API, as the public, the agencies and the coordinator use them: filing with
a tracking code, working-day deadlines (weekends, public holidays, leave days, office hours),
routing to the agency that answers, the lifecycle, the complainant's reading by code, an elderly
person reported unreached who becomes a candidate, the job runner's watch over deadlines, and the
on-time indicator."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from blueprints.extensions import limiter
from service.complaints import service as complaints
from service.complaints.models import Complaint
from service.demo.data import make_nik
from service.extensions import db
from service.recipients.models import Recipient
from service.targets import indicators
from service.tasks.models import Task
from tests.conftest import at_jakarta, birth_of_age

API = "/api/v1"
C = f"{API}/complaints"
STAFF = f"{C}/by-id"  # staff reach complaints by id; the public by code
CODE = re.compile(r"^RK-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
PUBLIC_FIELDS = {"code", "category", "status", "received_at", "forward_by", "respond_by", "answered_at",
                 "public_answer", "reject_reason", "reopen_until", "history"}


@pytest.fixture
def today(monkeypatch):
    """Thursday 2026-12-03, 10:00 in Jakarta: a working day, the offices open."""
    day = dt.date(2026, 12, 3)
    at_jakarta(monkeypatch, day, hour=10)
    return day


@pytest.fixture
def file(client, areas, today):
    """``file(**overrides)`` -> the response to a complaint of a missed meal in Kaliasin."""

    def send(**overrides):
        body = {"category": "missed_meal", "description": "Nenek di RT 02 tidak menerima makanan kemarin.",
                "village_id": areas["Kaliasin"].id, **overrides}
        return client.post(C, json=body)

    return send


def staff_view(client, code: str, headers) -> dict:
    found = client.get(C, headers=headers).json["items"]
    return next(c for c in found if c["code"] == code)


def test_a_complaint_gets_a_code_and_deadlines_and_goes_to_the_agency_that_answers(client, file, agencies,
                                                                                   coordinator):
    filed = file(contact_name="Pak Hadi", contact_phone="0812 3456 7890")
    assert filed.status_code == 201, filed.json
    body = filed.json
    assert CODE.match(body["code"]) and body["status"] == "forwarded"
    # Thursday 10:00: Fri, Mon, Tue are the three working days; Wed, Thu make five.
    assert (body["forward_by"], body["respond_by"]) == ("2026-12-08", "2026-12-10")
    complaint = staff_view(client, body["code"], agencies.social.headers)
    assert complaint["agency_id"] == agencies.social.agency_id and complaint["status"] == "forwarded"
    task = db.session.get(Task, complaint["task_id"])
    assert (task.type, task.agency_id, task.due_date, task.origin) == ("complaint", agencies.social.agency_id,
                                                                      dt.date(2026, 12, 10), "complaint")
    shown_task = client.get(f"{API}/tasks/{task.id}", headers=agencies.social.headers).json
    assert shown_task["title"] == f"Complaint {body['code']}: missed_meal"
    assert complaint["contact"] == {"name": "Pak Hadi", "phone": "+6281234567890", "email": None}
    # hygiene and food quality go to the health agency; "other" waits for the coordinator's triage
    for category in ("hygiene", "food_quality"):
        code = file(category=category).json["code"]
        assert staff_view(client, code, agencies.health.headers)["agency_id"] == agencies.health.agency_id
    other = file(category="other").json
    assert other["status"] == "received"
    triage = staff_view(client, other["code"], coordinator)
    assert triage["agency_id"] is None and triage["task_id"] is None
    forwarded = client.post(f"{STAFF}/{triage['id']}/forward", json={"agency_id": agencies.data.agency_id},
                            headers=coordinator)
    assert forwarded.status_code == 200 and forwarded.json["status"] == "forwarded"
    assert client.get(f"{STAFF}/{triage['id']}", headers=agencies.data.headers).json["agency_id"] == \
        agencies.data.agency_id
    # codes differ, and cannot be told from each other's order
    codes = {file().json["code"] for _ in range(5)}
    assert len(codes) == 5


def test_the_deadline_skips_weekends_holidays_leave_days_and_the_evening(client, areas, agencies, coordinator,
                                                                         monkeypatch):
    def file_at(day: dt.date, hour: int):
        at_jakarta(monkeypatch, day, hour=hour)
        made = client.post(C, json={"category": "hygiene", "description": "Dapur warung kotor sekali.",
                                    "village_id": areas["Kaliasin"].id})
        assert made.status_code == 201, made.json
        return made.json["forward_by"], made.json["respond_by"]

    # Friday 4 December 2026, 10:00: Mon 7, Tue 8, Wed 9 forward; Thu 10, Fri 11 answer.
    assert file_at(dt.date(2026, 12, 4), 10) == ("2026-12-09", "2026-12-11")
    # The same Friday at 17:00, after the offices close (16:00): it counts from Monday 7.
    assert file_at(dt.date(2026, 12, 4), 17) == ("2026-12-10", "2026-12-14")
    # Saturday: from Monday too.
    assert file_at(dt.date(2026, 12, 5), 9) == ("2026-12-10", "2026-12-14")
    # Tuesday 9 March 2027, just before Idul Fitri (Wed 10 and Thu 11 March 2027, public holidays):
    # Fri 12, Mon 15, Tue 16 forward; Wed 17, Thu 18 answer. Checked by hand on a calendar.
    assert file_at(dt.date(2027, 3, 9), 10) == ("2027-03-16", "2027-03-18")
    # The government adds a collective leave day (cuti bersama) on Friday 12 March: a day more.
    at_jakarta(monkeypatch, dt.date(2027, 1, 4), hour=9)
    added = client.post(f"{API}/program/leave-days", json={"date": "2027-03-12", "name": "Cuti bersama Idul Fitri"},
                        headers=coordinator)
    assert added.status_code == 201, added.json
    assert file_at(dt.date(2027, 3, 9), 10) == ("2027-03-17", "2027-03-19")
    # After 16:00 on the 9th: from Monday 15 (10, 11 holidays, 12 leave, then the weekend).
    assert file_at(dt.date(2027, 3, 9), 16) == ("2027-03-18", "2027-03-22")
    listed = client.get(f"{API}/program/leave-days?year=2027", headers=coordinator).json
    assert listed == [{"date": "2027-03-12", "name": "Cuti bersama Idul Fitri"}]
    again = client.post(f"{API}/program/leave-days", json={"date": "2027-03-12", "name": "x"}, headers=coordinator)
    assert again.status_code == 409
    for day in ("2027-03-13", "2027-03-10"):  # a Saturday; Idul Fitri itself
        refused = client.post(f"{API}/program/leave-days", json={"date": day, "name": "x"}, headers=coordinator)
        assert refused.status_code == 422, refused.json
    assert client.delete(f"{API}/program/leave-days/2027-03-12", headers=coordinator).status_code == 204
    assert client.delete(f"{API}/program/leave-days/2027-03-12", headers=coordinator).status_code == 404
    assert client.delete(f"{API}/program/leave-days/not-a-day", headers=coordinator).status_code == 404
    assert client.post(f"{API}/program/leave-days", json={"date": "2027-03-12", "name": "x"},
                       headers=agencies.social.headers).status_code == 403
    # the offices' closing time is a program setting
    changed = client.patch(f"{API}/program", json={"office_closes_at": "18:00"}, headers=coordinator)
    assert changed.status_code == 200 and changed.json["office_closes_at"] == "18:00"
    assert file_at(dt.date(2026, 12, 4), 17) == ("2026-12-09", "2026-12-11")


def test_bad_reports_are_refused_clearly_and_odd_ones_kept_as_written(client, file):
    for overrides, field in (({"contact_phone": "12"}, "contact_phone"),
                             ({"contact_phone": "0812 34"}, "contact_phone"),
                             ({"description": "short"}, "description"), ({"description": "x" * 10_000}, "description"),
                             ({"description": "          ada apa"}, "description"),
                             ({"category": "pothole"}, "category"), ({"village_id": 999_999}, "village_id"),
                             ({"vendor_id": 999_999}, "vendor_id"), ({"latitude": -8.35}, "longitude"),
                             ({"description": "makanan\u202eterbalik sekali"}, "description"),
                             ({"elderly": {"name": "Mbah Sarni", "village_id": 1}}, "elderly")):
        refused = file(**overrides)
        assert refused.status_code == 422, (overrides, refused.json)
        assert refused.mimetype == "application/problem+json"
        assert any(name.split(".")[0] == field for name in refused.json["errors"]), (overrides, refused.json)
    for description in ("Makanannya basi 🤢🤢 dan dingin", "<script>alert('x')</script> nasi basi",
                        "x" * 2000, "Baris satu\nbaris dua\tdengan tab"):
        kept = file(description=description)
        assert kept.status_code == 201, kept.json
        assert db.session.scalar(select(Complaint.description).where(Complaint.code == kept.json["code"])) == \
            description
    assert client.post(C, data="category=other", content_type="text/plain").status_code == 415


def test_anonymous_keeps_no_contact_and_confidential_shows_it_to_the_coordinator_alone(client, file, agencies,
                                                                                      coordinator):
    anonymous = file(anonymous=True, contact_name="Bu Rina", contact_phone="0812 1111 2222").json["code"]
    row = db.session.scalar(select(Complaint).where(Complaint.code == anonymous))
    assert (row.contact_name, row.contact_phone, row.anonymous) == (None, None, True)
    assert staff_view(client, anonymous, coordinator)["contact"] is None
    confidential = file(confidential=True, contact_name="Bu Rina", contact_phone="0812 1111 2222").json["code"]
    assert staff_view(client, confidential, coordinator)["contact"] == {"name": "Bu Rina", "phone": "+6281211112222",
                                                                        "email": None}
    assert staff_view(client, confidential, agencies.social.headers)["contact"] is None
    plain = file(contact_name="Bu Rina", contact_phone="0812 1111 2222").json["code"]
    assert staff_view(client, plain, agencies.social.headers)["contact"]["name"] == "Bu Rina"
    # another agency does not see the complaint at all: as if it did not exist
    theirs = staff_view(client, plain, coordinator)["id"]
    hidden = client.get(f"{STAFF}/{theirs}", headers=agencies.health.headers)
    missing = client.get(f"{STAFF}/999999", headers=agencies.health.headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["detail"].replace(str(theirs), "N") == missing.json["detail"].replace("999999", "N")
    assert client.get(C, headers=agencies.health.headers).json["total"] == 0
    assert client.post(f"{STAFF}/{theirs}/answer", json={"public_answer": "x"},
                       headers=agencies.health.headers).status_code == 404
    assert client.get(C).status_code == 401


def test_the_complainant_reads_by_code_and_nothing_more(client, file, agencies, coordinator, make_user):
    filed = file(contact_name="Pak Hadi", contact_phone="0812 3456 7890").json
    code = filed["code"]
    read = client.get(f"{C}/{code}")
    assert read.status_code == 200 and set(read.json) == PUBLIC_FIELDS
    assert [h["status"] for h in read.json["history"]] == ["received", "forwarded"]
    assert client.get(f"{C}/{code.lower().replace('-', ' ')}").json["code"] == code
    complaint = staff_view(client, code, agencies.social.headers)
    client.post(f"{STAFF}/{complaint['id']}/start", headers=agencies.social.headers)
    answered = client.post(f"{STAFF}/{complaint['id']}/answer", headers=agencies.social.headers,
                           json={"public_answer": "Kurir sudah kami tegur; makanan diantar lagi hari ini.",
                                 "internal_notes": "Kurir Budi dua kali telat; warung 12 diperingatkan."})
    assert answered.status_code == 200, answered.json
    seen = client.get(f"{C}/{code}").json
    assert seen["status"] == "answered" and seen["public_answer"].startswith("Kurir sudah")
    text = str(seen)
    for secret in ("Budi", "warung 12", "Pak Hadi", "+6281234567890", agencies.social.user.name,
                   agencies.social.user.email, "Nenek"):
        assert secret not in text
    # unknown and malformed codes: the same 404
    answers = [client.get(f"{C}/{other}") for other in ("RK-2222-2222", "RK-0000-0000", "hello", "RK-" + "Z" * 60,
                                                        "RK-7KQ4-9MZ")]
    assert {a.status_code for a in answers} == {404}
    assert len({a.json["detail"] for a in answers}) == 1


def test_guessing_codes_is_rate_limited(app, client, file, monkeypatch):
    code = file().json["code"]
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT_MISSES", "3 per hour")
    limiter.reset()
    assert [client.get(f"{C}/RK-2222-222{n}").status_code for n in range(2, 6)] == [404, 404, 404, 429]
    refused = client.get(f"{C}/{code}")  # the guesser is held back, even for a real code
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT", "2 per minute")
    limiter.reset()
    assert [file().status_code for _ in range(3)] == [201, 201, 429]


def test_the_lifecycle_reopen_once_and_reject(client, file, agencies, coordinator, monkeypatch, today):
    code = file().json["code"]
    complaint_id = staff_view(client, code, coordinator)["id"]
    social = agencies.social.headers
    assert client.post(f"{STAFF}/{complaint_id}/close", headers=social).status_code == 409
    assert client.post(f"{STAFF}/{complaint_id}/start", headers=social).json["status"] == "in_progress"
    assert client.post(f"{STAFF}/{complaint_id}/start", headers=social).status_code == 409
    first = client.post(f"{STAFF}/{complaint_id}/answer", json={"public_answer": "Sudah diantar."}, headers=social).json
    assert first["status"] == "answered" and db.session.get(Task, first["task_id"]).status == "done"
    reopened = client.post(f"{C}/{code}/reopen", json={"reason": "Hari ini juga tidak datang makanannya."})
    assert reopened.status_code == 200, reopened.json
    assert reopened.json["status"] == "forwarded" and reopened.json["reopen_until"] is None
    again = staff_view(client, code, social)
    task = db.session.get(Task, again["task_id"])
    assert task.status == "open" and task.source_task_id == first["task_id"] and task.agency_id == again["agency_id"]
    assert client.post(f"{STAFF}/{complaint_id}/answer", json={"public_answer": "Diantar oleh warung lain."},
                       headers=social).status_code == 200
    twice = client.post(f"{C}/{code}/reopen", json={"reason": "Masih belum puas dengan jawaban."})
    assert twice.status_code == 409 and twice.json["current_status"] == "answered"
    assert client.post(f"{STAFF}/{complaint_id}/close", headers=social).json["status"] == "closed"
    history = [h["status"] for h in client.get(f"{C}/{code}").json["history"]]
    assert history == ["received", "forwarded", "in_progress", "answered", "forwarded", "answered", "closed"]
    assert client.get(f"{C}/{code}").json["history"][4]["action"] == "reopened"
    # a reopen more than 10 days after the answer is refused
    late = file().json["code"]
    late_id = staff_view(client, late, coordinator)["id"]
    client.post(f"{STAFF}/{late_id}/answer", json={"public_answer": "Sudah."}, headers=social)
    at_jakarta(monkeypatch, today + dt.timedelta(days=11))
    refused = client.post(f"{C}/{late}/reopen", json={"reason": "Belum juga diantar makanannya."})
    assert refused.status_code == 409
    # rejecting: a reason code, which the complainant reads; the task is cancelled
    spam = file(description="Beli pulsa murah di sini sekarang juga!").json["code"]
    spam_id = staff_view(client, spam, coordinator)["id"]
    assert client.post(f"{STAFF}/{spam_id}/reject", json={"reason": "rude"}, headers=social).status_code == 422
    rejected = client.post(f"{STAFF}/{spam_id}/reject", json={"reason": "spam"}, headers=social).json
    assert rejected["status"] == "rejected" and db.session.get(Task, rejected["task_id"]).status == "cancelled"
    assert client.get(f"{C}/{spam}").json["reject_reason"] == "spam"
    assert client.post(f"{STAFF}/{spam_id}/answer", json={"public_answer": "x"}, headers=social).status_code == 409


def test_an_agency_hands_a_complaint_on_and_the_coordinator_routes_categories(client, file, agencies, coordinator):
    code = file(category="behaviour").json["code"]
    complaint = staff_view(client, code, agencies.social.headers)
    handed = client.post(f"{STAFF}/{complaint['id']}/forward", json={"agency_id": agencies.health.agency_id,
                                                                 "reason": "kurir warung, bukan relawan"},
                         headers=agencies.social.headers)
    assert handed.status_code == 200, handed.json
    assert db.session.get(Task, complaint["task_id"]).status == "cancelled"
    new_task = db.session.get(Task, handed.json["task_id"])
    assert (new_task.agency_id, new_task.source_task_id, new_task.origin) == (
        agencies.health.agency_id, complaint["task_id"], "referral")
    assert client.get(f"{STAFF}/{complaint['id']}", headers=agencies.social.headers).status_code == 404
    assert staff_view(client, code, agencies.health.headers)["respond_by"] == complaint["respond_by"]
    # the routing table
    routes = {r["category"]: r for r in client.get(f"{C}/routes", headers=coordinator).json}
    assert routes["missed_meal"]["default_kind"] == "social" and routes["other"]["default_kind"] is None
    moved = client.put(f"{C}/routes/missed_meal", json={"agency_id": agencies.data.agency_id}, headers=coordinator)
    assert moved.status_code == 200
    routed = file().json["code"]
    assert staff_view(client, routed, coordinator)["agency_id"] == agencies.data.agency_id
    assert client.put(f"{C}/routes/hygiene", json={"agency_id": agencies.data.agency_id},
                      headers=coordinator).status_code == 422
    assert client.put(f"{C}/routes/pothole", json={"agency_id": None}, headers=coordinator).status_code == 404
    assert client.put(f"{C}/routes/missed_meal", json={"agency_id": None}, headers=coordinator).status_code == 200
    assert staff_view(client, file().json["code"], coordinator)["agency_id"] == agencies.social.agency_id
    assert client.get(f"{C}/routes", headers=agencies.social.headers).status_code == 403


def test_an_unreached_elderly_person_reported_becomes_a_candidate_and_then_an_opportunity(
        client, file, agencies, coordinator, areas):
    birth = birth_of_age(78)
    nik = make_nik("35.10.09", birth, "F", 4321)
    report = file(category="unreached_elderly", description="Mbah Sarni tinggal sendiri, tidak ada yang memberi makan.",
                  elderly={"name": "Sarni", "village_id": areas["Kaliasin"].id, "nik": nik,
                           "address": "Dusun Krajan RT 01"})
    assert report.status_code == 201, report.json
    complaint = staff_view(client, report.json["code"], agencies.social.headers)
    person = db.session.get(Recipient, complaint["reported_recipient_id"])
    assert (person.status, person.source, person.birth_date, person.sex) == ("candidate", "public_report", birth, "F")
    task = db.session.get(Task, complaint["task_id"])
    assert (task.type, task.agency_id, task.recipient_id) == ("verification_visit", agencies.social.agency_id,
                                                              person.id)
    assert complaint["elderly"]["nik"] == nik
    assert staff_view(client, report.json["code"], coordinator)["elderly"]["name"] == "Sarni"
    # the same person reported again is found, not registered twice
    again = file(category="unreached_elderly", description="Mbah Sarni belum juga dapat makanan.",
                 elderly={"name": "Sarni", "village_id": areas["Kaliasin"].id, "nik": nik})
    assert staff_view(client, again.json["code"], coordinator)["reported_recipient_id"] == person.id
    assert db.session.scalar(select(Recipient.id).where(Recipient.nik == nik).limit(2)) == person.id
    # a NIK that cannot be hers is refused: the registry's rules
    wrong = file(category="unreached_elderly", description="Mbah Sarni belum juga dapat makanan.",
                 elderly={"name": "Sarni", "village_id": areas["Kaliasin"].id, "nik": nik, "sex": "M"})
    assert wrong.status_code == 422 and "elderly.sex" in wrong.json["errors"]
    # the social agency visits and verifies: no stall reaches her, so she is uncovered
    done = client.post(f"{API}/tasks/{task.id}/complete", json={"outcome": "verified"}, headers=agencies.social.headers)
    assert done.status_code == 200, done.json
    uncovered = client.get(f"{API}/recipients/uncovered", headers=coordinator).json["items"]
    assert person.id in [r["id"] for r in uncovered]
    # without a NIK: a complaint task for the social agency, with what the reporter said
    plain = file(category="unreached_elderly", description="Ada kakek tinggal sendiri di ujung desa.",
                 elderly={"name": "Kakek Darmo", "village_id": areas["Kaliasin"].id})
    seen = staff_view(client, plain.json["code"], agencies.social.headers)
    assert seen["reported_recipient_id"] is None and seen["elderly"]["name"] == "Kakek Darmo"
    assert db.session.get(Task, seen["task_id"]).type == "complaint"
    assert "Darmo" not in str(client.get(f"{C}/{plain.json['code']}").json)


def test_the_job_runner_marks_missed_deadlines_escalates_and_closes_old_answers(client, file, agencies,
                                                                                coordinator, monkeypatch, today):
    triage = file(category="other").json  # nobody forwards it
    routed = file().json  # forwarded, never answered
    answered = file().json
    answered_id = staff_view(client, answered["code"], coordinator)["id"]
    client.post(f"{STAFF}/{answered_id}/answer", json={"public_answer": "Sudah."}, headers=agencies.social.headers)
    at_jakarta(monkeypatch, dt.date(2026, 12, 9), hour=7)  # past forward_by (8th)
    watch = complaints.watch_deadlines()
    assert (watch.forward_missed, watch.answer_missed, watch.closed) == (1, 0, 0)
    late = staff_view(client, triage["code"], coordinator)
    assert late["forward_missed_on"] == "2026-12-09" and late["escalated"] and late["overdue"]
    assert [c["code"] for c in client.get(f"{C}?escalated=true", headers=coordinator).json["items"]] == \
        [triage["code"]]
    trail = client.get(f"{API}/audit?entity=complaint&entity_id={late['id']}", headers=coordinator).json["items"]
    assert any("escalated_at" in e["changes"] for e in trail), trail
    at_jakarta(monkeypatch, dt.date(2026, 12, 11), hour=7)  # past respond_by (10th)
    watch = complaints.watch_deadlines()
    assert (watch.forward_missed, watch.answer_missed) == (0, 2)
    assert complaints.watch_deadlines().answer_missed == 0  # once
    overdue = {c["code"] for c in client.get(f"{C}?overdue=true", headers=coordinator).json["items"]}
    assert overdue == {triage["code"], routed["code"]}
    at_jakarta(monkeypatch, dt.date(2026, 12, 15), hour=7)
    assert complaints.watch_deadlines().closed == 1
    assert client.get(f"{C}/{answered['code']}").json["status"] == "closed"


def test_answered_on_time_is_an_indicator_targets_may_use(client, file, agencies, coordinator, monkeypatch, today):
    on_time, late = file().json, file().json
    for filed in (on_time, late):
        filed["id"] = staff_view(client, filed["code"], coordinator)["id"]
    client.post(f"{STAFF}/{on_time['id']}/answer", json={"public_answer": "Sudah."}, headers=agencies.social.headers)
    at_jakarta(monkeypatch, dt.date(2026, 12, 14), hour=9)
    client.post(f"{STAFF}/{late['id']}/answer", json={"public_answer": "Maaf terlambat."},
                headers=agencies.social.headers)
    assert indicators.MEASURES["complaint_on_time_rate"](dt.date(2026, 12, 14)) == 0.5
    assert indicators.MEASURES["complaint_on_time_rate"](dt.date(2026, 12, 9)) is None  # none due yet
    made = client.post(f"{API}/targets", headers=coordinator, json={
        "title": "Pengaduan dijawab tepat waktu", "indicator": "complaint_on_time_rate", "threshold": 0.9,
        "due_date": "2026-12-31", "owner_agency_id": agencies.social.agency_id,
        "signatory_agency_ids": [agencies.social.agency_id]})
    assert made.status_code == 201, made.json


def test_open311_clients_file_and_follow_requests(client, areas, agencies, today):
    services = client.get(f"{API}/open311/v2/services.json")
    assert services.status_code == 200
    assert {s["service_code"] for s in services.json} >= {"missed_meal", "hygiene", "unreached_elderly"}
    assert set(services.json[0]) == {"service_code", "service_name", "description", "metadata", "type", "keywords",
                                     "group"}
    # the GeoReport v2 specification's POST Service Request fields, form-encoded
    posted = client.post(f"{API}/open311/v2/requests.json", data={
        "api_key": "xyz", "jurisdiction_id": "banyuwangi.go.id", "service_code": "hygiene",
        "lat": "-8.3541", "long": "114.1672", "address_string": "Jl. Diponegoro 4",
        "email": "smith@example.com", "device_id": "tt222111", "account_id": "123456",
        "first_name": "John", "last_name": "Smith", "phone": "0812 3456 7890",
        "description": "Dapur warung penuh lalat dan sampah.", "media_url": "http://example.com/a.jpg"})
    assert posted.status_code == 200, posted.json
    assert set(posted.json[0]) == {"service_request_id", "service_notice", "account_id"}
    request_id = posted.json[0]["service_request_id"]
    assert CODE.match(request_id)
    row = db.session.scalar(select(Complaint).where(Complaint.code == request_id))
    assert (row.channel, row.contact_name, row.contact_phone) == ("open311", "John Smith", "+6281234567890")
    one = client.get(f"{API}/open311/v2/requests/{request_id}.json")
    assert one.status_code == 200 and len(one.json) == 1
    shown = one.json[0]
    assert shown["service_request_id"] == request_id and shown["status"] == "open"
    assert shown["service_code"] == "hygiene"
    assert shown["expected_datetime"].startswith("2026-12-11T00:00:00+07:00")  # the 10th's end: the next midnight
    assert (shown["lat"], shown["long"]) == (-8.35, 114.17)  # no closer than a kilometre
    assert "John" not in str(shown) and "Smith" not in str(shown) and "lalat" not in str(shown)
    complaint_id = row.id
    client.post(f"{STAFF}/{complaint_id}/answer", json={"public_answer": "Warung sudah diperiksa dan dibersihkan."},
                headers=agencies.health.headers)
    listed = client.get(f"{API}/open311/v2/requests.json?service_request_id={request_id},RK-2222-2222")
    assert listed.status_code == 200 and [r["status"] for r in listed.json] == ["closed"]
    assert listed.json[0]["status_notes"] == "Warung sudah diperiksa dan dibersihkan."
    assert client.get(f"{API}/open311/v2/requests.json").status_code == 422  # no list of everyone's
    assert client.get(f"{API}/open311/v2/requests/RK-2222-2222.json").status_code == 404
    bad = client.post(f"{API}/open311/v2/requests.json", data={"service_code": "pothole", "description": "x" * 20})
    assert bad.status_code == 422 and "service_code" in bad.json["errors"]
    short = client.post(f"{API}/open311/v2/requests.json", data={"service_code": "other", "description": "x"})
    assert short.status_code == 422


def test_a_reported_person_once_verified_is_offered_to_volunteers(client, file, agencies, areas, today):
    from tests.test_volunteers import PASSWORD, bearer, sign_in
    nik = make_nik("35.10.09", birth_of_age(81), "M", 777)
    code = file(category="unreached_elderly", description="Mbah Karto tinggal sendiri di gubuk dekat sawah.",
                elderly={"name": "Karto Wiryo", "village_id": areas["Kaliasin"].id, "nik": nik}).json["code"]
    complaint = staff_view(client, code, agencies.social.headers)
    client.post(f"{API}/tasks/{complaint['task_id']}/complete", json={"outcome": "verified"},
                headers=agencies.social.headers)
    signed = client.post(f"{API}/volunteers", json={
        "name": "Dewi Lestari", "phone": "0812 7777 1234", "password": PASSWORD, "village_id": areas["Kaliasin"].id,
        "skills": ["deliver", "visit"], "accepts_code_of_conduct": True})
    client.post(f"{API}/volunteers/{signed.json['id']}/approve", headers=agencies.social.headers)
    volunteer = bearer(sign_in(client, phone="0812 7777 1234"))
    person = complaint["reported_recipient_id"]
    # verified: to visit; to bring meals to once enrolled (the daily loop feeds the enrolled only)
    for kind, offered_to in (("visit", [(person, "Karto W.")]), ("deliver", [])):
        offered = client.get(f"{API}/volunteers/me/opportunities?kind={kind}", headers=volunteer).json["items"]
        assert [(o["recipient_id"], o["display_name"]) for o in offered] == offered_to
        assert nik not in str(offered)
    assert client.post(f"{API}/recipients/{person}/enrol", headers=agencies.social.headers).status_code == 200
    offered = client.get(f"{API}/volunteers/me/opportunities?kind=deliver", headers=volunteer).json["items"]
    assert [(o["recipient_id"], o["display_name"]) for o in offered] == [(person, "Karto W.")]


def test_what_the_audit_found_stays_mended(app, client, file, agencies, coordinator, areas, make_recipient,
                                           monkeypatch):
    # Naming a recipient gives the health agency no reach to them: its task is about the stall.
    person = make_recipient("enrolled")
    filed = file(category="food_quality", recipient_id=person["id"]).json
    complaint = staff_view(client, filed["code"], agencies.health.headers)
    assert complaint["recipient_id"] == person["id"] and db.session.get(Task, complaint["task_id"]).recipient_id is None
    assert person["name"] not in str(client.get(f"{API}/tasks/{complaint['task_id']}",
                                                headers=agencies.health.headers).json)
    # ... and an unknown id tells nobody which ids exist: it is dropped
    unknown = file(recipient_id=999_999)
    assert unknown.status_code == 201
    assert staff_view(client, unknown.json["code"], coordinator)["recipient_id"] is None
    # A NIK of year 00 is no elderly person (1900 would make them 126): the birth date is asked for.
    young = make_nik("35.10.09", dt.date(2000, 3, 12), "F", 42)
    refused = file(category="unreached_elderly", description="Ada nenek tinggal sendiri di ujung gang.",
                   elderly={"name": "Sari", "village_id": areas["Kaliasin"].id, "nik": young})
    assert refused.status_code == 422 and "elderly.birth_date" in refused.json["errors"]
    nowhere = file(category="unreached_elderly", description="Ada nenek tinggal sendiri di ujung gang.",
                   elderly={"name": "Sari", "village_id": 999_999})
    assert nowhere.status_code == 422 and "elderly.village_id" in nowhere.json["errors"]
    both = file(anonymous=True, confidential=True)
    assert both.status_code == 422 and "confidential" in both.json["errors"]
    # An unreached elderly person stays with the social agency.
    report = file(category="unreached_elderly", description="Ada kakek tinggal sendiri di ujung desa.",
                  elderly={"name": "Darmo", "village_id": areas["Kaliasin"].id}).json
    report_id = staff_view(client, report["code"], coordinator)["id"]
    handed = client.post(f"{STAFF}/{report_id}/forward", json={"agency_id": agencies.data.agency_id},
                         headers=agencies.social.headers)
    assert handed.status_code == 422
    # Open311: errors in the standard's names; only form-encoded bodies
    bad_phone = client.post(f"{API}/open311/v2/requests.json", data={
        "service_code": "other", "description": "Pertanyaan tentang program ini.", "phone": "111111111"})
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json["errors"]
    as_json = client.post(f"{API}/open311/v2/requests.json", json={"service_code": "other",
                                                                   "description": "Pertanyaan tentang program."})
    assert as_json.status_code == 415
    # A list of codes counts each unknown one as a guess; a guesser blocked cannot read through it.
    real = file().json["code"]
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT_MISSES", "3 per hour")
    limiter.reset()
    listed = client.get(f"{API}/open311/v2/requests.json?service_request_id=RK-2222-2222,RK-2222-2223,"
                        f"RK-2222-2224,{real}")
    assert listed.status_code == 200 and len(listed.json) == 1
    assert client.get(f"{C}/{real}").status_code == 429
    assert client.get(f"{API}/open311/v2/requests.json?service_request_id={real}").status_code == 429


OPEN311 = f"{API}/open311/v2/requests.json"
FORM = "application/x-www-form-urlencoded"


def multipart(*parts: tuple[str, bytes], filename: str | None = None) -> bytes:
    said = b"".join(b'--XX\r\nContent-Disposition: form-data; name="%s"%s\r\n\r\n%s\r\n'
                    % (name.encode(), b'; filename="%s"' % filename.encode() if filename and name == "media" else b"",
                       value) for name, value in parts)
    return said + b"--XX--\r\n"


def test_open311_forms_are_read_strictly(client, areas, today):
    def count() -> int:
        return len(db.session.scalars(select(Complaint.id)).all())

    before = count()
    # The JSON door refuses what is not UTF-8; so does the form, %-escaped, raw, or in a multipart part.
    for body, content_type in (
            (b"service_code=other&description=Warung+tutup+%FF%FE+terus", FORM),
            (b"service_code=other&description=Warung+tutup+\xff+terus", FORM),
            (b"service_code=other&descr%FFiption=Warung+tutup+terus+menerus", FORM),
            (multipart(("service_code", b"other"), ("description", b"Warung tutup \xff\xfe terus")),
             "multipart/form-data; boundary=XX")):
        refused = client.post(OPEN311, data=body, content_type=content_type)
        assert refused.status_code == 400, (body, refused.json)
        assert refused.mimetype == "application/problem+json" and "UTF-8" in refused.json["detail"]
    # A field given twice: which was meant? Not the first in silence.
    twice = client.post(OPEN311, content_type=FORM,
                        data=b"service_code=other&description=Pertama+kali+ditulis&description=Kedua+kali+ditulis")
    assert twice.status_code == 400 and "'description'" in twice.json["detail"]
    assert client.post(OPEN311, content_type=FORM, data=b"service_code=other&service_code=hygiene&"
                                                        b"description=Warung+tutup+terus").status_code == 400
    # A picture uploaded is not kept: refused by its name rather than dropped.
    upload = client.post(OPEN311, content_type="multipart/form-data; boundary=XX", data=multipart(
        ("service_code", b"other"), ("description", b"Warung tutup terus menerus"), ("media", b"\xff\xd8"),
        filename="a.jpg"))
    assert upload.status_code == 422 and "media" in upload.json["errors"]
    assert client.post(OPEN311, content_type="multipart/form-data", data=b"x").status_code == 400
    assert count() == before
    # UTF-8, escaped or raw, in either form, is kept as written.
    for body, content_type in ((b"service_code=other&description=Caf%C3%A9+tutup+terus+%F0%9F%98%A2", FORM),
                               (multipart(("service_code", b"other"),
                                          ("description", "Café tutup terus 😢".encode())),
                                "multipart/form-data; boundary=XX")):
        taken = client.post(OPEN311, data=body, content_type=content_type)
        assert taken.status_code == 200, taken.json
        assert db.session.scalar(select(Complaint.description).where(
            Complaint.code == taken.json[0]["service_request_id"])) == "Café tutup terus 😢"


def test_a_point_far_from_the_program_is_refused_as_a_recipients_is(client, file, areas):
    london, zero, kaliasin = (51.5072, -0.1276), (0.0, 0.0), (-8.3541, 114.1672)
    for village_id in (None, areas["Kaliasin"].id):
        for point in (london, zero, (114.1672, -8.3541)):  # swapped too
            refused = file(village_id=village_id, latitude=point[0], longitude=point[1])
            assert refused.status_code == 422 and "latitude" in refused.json["errors"], (village_id, point)
    near = file(village_id=None, latitude=kaliasin[0], longitude=kaliasin[1])
    assert near.status_code == 201, near.json
    far = client.post(OPEN311, data={"service_code": "other", "description": "Pertanyaan tentang program ini.",
                                     "lat": str(london[0]), "long": str(london[1])})
    assert far.status_code == 422 and "lat" in far.json["errors"], far.json
    assert "every village" in far.json["errors"]["lat"][0]


def test_staff_reach_complaints_by_id_under_by_id_and_the_old_path_is_no_guess(app, client, file, coordinator,
                                                                               monkeypatch):
    code = file().json["code"]
    complaint_id = staff_view(client, code, coordinator)["id"]
    assert client.get(f"{STAFF}/{complaint_id}", headers=coordinator).json["code"] == code
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT_MISSES", "2 per hour")
    limiter.reset()
    # an id where the public reads codes: a plain 404, however often, and no guess counted
    for _ in range(3):
        old = client.get(f"{C}/{complaint_id}", headers=coordinator)
        assert old.status_code == 404 and old.mimetype == "application/problem+json"
    assert client.get(f"{C}/{code}").status_code == 200


def task_of(client, complaint: dict, headers) -> dict:
    return client.get(f"{API}/tasks/{complaint['task_id']}", headers=headers).json


def test_staff_see_where_a_complaint_is_and_its_task_says_so(client, areas, agencies, coordinator, make_vendor,
                                                            make_recipient, file, today):
    stall = make_vendor("Kaliasin")  # at the village centre, -8.3538, 114.1668
    # A dirty stall reported from a phone 33 m from it, through Open311, naming no stall.
    posted = client.post(OPEN311, data={
        "service_code": "hygiene", "description": "Dapur warung penuh lalat dan sampah.", "lat": "-8.3535",
        "long": "114.1668", "address_string": "Warung depan pasar Kaliasin", "email": "warga@example.com",
        "media_url": "https://example.com/foto/lalat.jpg", "first_name": "Warga"})
    assert posted.status_code == 200, posted.json
    code = posted.json[0]["service_request_id"]
    seen = staff_view(client, code, agencies.health.headers)
    assert seen["place"] == {
        "latitude": -8.3535, "longitude": 114.1668, "address": "Warung depan pasar Kaliasin",
        "media_url": "https://example.com/foto/lalat.jpg", "village_id": areas["Kaliasin"].id, "village": "Kaliasin",
        "village_source": "point", "stall_id": stall.id, "stall": stall.name, "stall_source": "point",
        "stall_distance_m": 33}
    assert seen["village_id"] == areas["Kaliasin"].id and seen["vendor_id"] is None
    assert seen["contact"] == {"name": "Warga", "phone": None, "email": "warga@example.com"}
    # its task says where, in codes and words, and carries nothing personal
    task = task_of(client, seen, agencies.health.headers)
    assert task["codes"]["notes"] == {
        "code": "complaint_place", "complaint_id": seen["id"], "village": "Kaliasin", "village_source": "point",
        "stall_id": stall.id, "stall": stall.name, "stall_source": "point", "stall_m": 33, "point": True,
        "address": True, "media": True}
    assert task["notes"] == (
        f"Where: village Kaliasin (the village whose centre is nearest the point); stall {stall.id} ({stall.name}) "
        f"(none named: the nearest to the point, 33 m). On complaint {seen['id']}: the point, the address, a link to "
        "a picture.")
    for private in ("8.3535", "pasar", "warga@", "example.com"):
        assert private not in str(task)
    # farther than 100 m from any stall: no stall is guessed
    far = client.post(OPEN311, data={"service_code": "hygiene", "description": "Dapur warung penuh lalat.",
                                     "lat": "-8.3583", "long": "114.1668"}).json[0]["service_request_id"]
    far_place = staff_view(client, far, agencies.health.headers)["place"]
    assert far_place["stall_id"] is None and far_place["village"] == "Kaliasin"
    # a missed meal naming the recipient: the stall that feeds them; a stall named is named
    person = make_recipient("enrolled")
    missed = staff_view(client, file(recipient_id=person["id"], village_id=None).json["code"], coordinator)
    assert (missed["place"]["stall_id"], missed["place"]["stall_source"]) == (stall.id, "recipient")
    assert (missed["place"]["village"], missed["place"]["village_source"]) == ("Kaliasin", "stall")
    named = staff_view(client, file(category="food_quality", vendor_id=stall.id).json["code"], coordinator)
    assert named["place"]["stall_source"] == "named" and named["place"]["stall_distance_m"] is None
    assert named["place"]["village_source"] == "given"
    task = task_of(client, named, agencies.health.headers)
    assert task["vendor_id"] == stall.id and f"stall {stall.id} ({stall.name})." in task["notes"]
    # an elderly person reported in a village: theirs
    report = staff_view(client, file(category="unreached_elderly", village_id=None, elderly={
        "name": "Kakek Darmo", "village_id": areas["Kembiritan"].id}).json["code"], coordinator)
    assert (report["place"]["village"], report["place"]["village_source"]) == ("Kembiritan", "elderly")


def test_a_report_about_a_place_must_say_where(client, areas, agencies, file, today):
    for category in ("hygiene", "food_quality", "missed_meal", "unreached_elderly"):
        # Open311: neither a point nor an address, or a phone's (0, 0): a 400, as the standard has it
        for where in ({}, {"lat": "0", "long": "0"}, {"lat": "0", "long": "0", "address_string": "Jl. Raya 1"}):
            refused = client.post(OPEN311, data={"service_code": category, "description": "Ada masalah di sini.",
                                                 "address_string": "", **where})
            assert refused.status_code == 400, (category, where, refused.json)
            assert refused.mimetype == "application/problem+json" and "lat" in refused.json["errors"]
        # the JSON door: a 422 naming what would do
        refused = file(category=category, village_id=None)
        assert refused.status_code == 422 and "address" in refused.json["errors"]["latitude"][0]
    # an address alone will do; so do the village, the stall or the person named
    taken = client.post(OPEN311, data={"service_code": "missed_meal", "description": "Makanan tidak datang.",
                                       "address_string": "Dusun Krajan RT 02, Kaliasin", "email": ""})
    assert taken.status_code == 200, taken.json
    place = staff_view(client, taken.json[0]["service_request_id"], agencies.social.headers)["place"]
    assert place["address"] == "Dusun Krajan RT 02, Kaliasin" and place["village"] is None
    assert file(category="hygiene", village_id=None, address="Pasar Genteng").status_code == 201
    assert file(category="missed_meal", village_id=None, recipient_id=999_999).status_code == 201  # tells nothing
    # a report of another kind needs no place; (0, 0) is no place for it either
    assert client.post(OPEN311, data={"service_code": "behaviour",
                                      "description": "Kurir membentak nenek."}).status_code == 200
    assert client.post(OPEN311, data={"service_code": "other", "description": "Pertanyaan tentang program.",
                                      "lat": "0", "long": "0"}).status_code == 400
    # the services say so
    services = {s["service_code"]: s for s in client.get(f"{API}/open311/v2/services.json").json}
    assert "address_string" in services["hygiene"]["description"]
    assert "address_string" not in services["behaviour"]["description"]
    for bad in ({"media_url": "javascript:alert(1)"}, {"media_url": "ftp://example.com/a.jpg"},
                {"email": "not an email"}):
        refused = client.post(OPEN311, data={"service_code": "other", "description": "Pertanyaan tentang program.",
                                             **bad})
        assert refused.status_code == 422 and set(refused.json["errors"]) == set(bad), refused.json


def test_where_a_complaint_is_goes_only_to_those_who_answer_it(client, areas, agencies, coordinator, make_vendor,
                                                               file, today):
    make_vendor("Kaliasin")
    filed = file(category="missed_meal", latitude=-8.3541, longitude=114.1672, address="Dusun Krajan RT 02",
                 media_url="https://example.com/kosong.jpg", contact_email="bu.rina@example.com",
                 contact_name="Bu Rina", confidential=True).json
    code = filed["code"]
    private = ("-8.3541", "114.1672", "Krajan", "kosong.jpg", "bu.rina")
    # the complainant's reading, by code and through Open311: none of it (the point to 0.01 degree)
    for public in (client.get(f"{C}/{code}"), client.get(f"{API}/open311/v2/requests/{code}.json")):
        assert public.status_code == 200
        assert not any(secret in public.get_data(as_text=True) for secret in private)
    # the agency answering: the place (it must find it), not a confidential contact
    social = staff_view(client, code, agencies.social.headers)
    assert social["place"]["address"] == "Dusun Krajan RT 02" and social["contact"] is None
    assert staff_view(client, code, coordinator)["contact"]["email"] == "bu.rina@example.com"
    # another agency: not found; nor in its list
    assert client.get(f"{STAFF}/{social['id']}", headers=agencies.health.headers).status_code == 404
    assert client.get(C, headers=agencies.health.headers).json["total"] == 0
    # handed on, the old agency keeps its cancelled task: it holds nothing personal
    old_task = social["task_id"]
    client.post(f"{STAFF}/{social['id']}/forward", json={"agency_id": agencies.data.agency_id},
                headers=agencies.social.headers)
    kept = client.get(f"{API}/tasks/{old_task}", headers=agencies.social.headers)
    assert kept.status_code == 200 and kept.json["status"] == "cancelled"
    assert not any(secret in kept.get_data(as_text=True) for secret in private)
    assert client.get(f"{STAFF}/{social['id']}", headers=agencies.social.headers).status_code == 404
    # anonymous: no email kept either
    anonymous = file(anonymous=True, contact_email="siapa@example.com").json["code"]
    assert db.session.scalar(select(Complaint.contact_email).where(Complaint.code == anonymous)) is None
