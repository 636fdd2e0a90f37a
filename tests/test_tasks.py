"""Agencies logging their work through the API: tasks, completion that acts on the program,
referrals from one agency to another, task logs pushed in bulk, and recurring work."""
from __future__ import annotations

import datetime as dt

import pytest

from service.accounts import service as accounts
from service.extensions import db
from service.program import service as program_service
from service.recipients.models import Recipient
from tests.conftest import at_jakarta

pytestmark = pytest.mark.usefixtures("office_hours")
T = "/api/v1/tasks"
TODAY = dt.date.today()
NEXT_WEEK = (TODAY + dt.timedelta(days=7)).isoformat()


def colleague(agency_id: int, n: int):
    """Another user of an agency, and their headers."""
    user = accounts.create_user(email=f"colleague{agency_id}-{n}@rantang.example", password="password-1",
                                name=f"Colleague {n}", role="agency", agency_id=agency_id)
    token, _ = accounts.issue_token(user.email, "password-1")
    db.session.commit()
    return user, {"Authorization": f"Bearer {token}"}


def open_task(client, headers, **body):
    response = client.post(T, json={"due_date": NEXT_WEEK, **body}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def visit_for(client, coordinator, agencies, person, **body):
    """A school visit of ``person`` that the program office asks of the education agency (the job
    runner opens most of them): the work that lets the school reach them."""
    return open_task(client, coordinator, type="school_visit", recipient_id=person["id"],
                     agency_id=agencies.education.agency_id, **body)


def complete(client, headers, task_id, **body):
    return client.post(f"{T}/{task_id}/complete", json=body, headers=headers)


def test_each_agency_opens_its_own_kind_of_work(client, coordinator, agencies, make_recipient, make_vendor):
    person = make_recipient("enrolled")
    stall = make_vendor()
    asked = visit_for(client, coordinator, agencies, person)
    assert asked["agency_id"] == agencies.education.agency_id and asked["status"] == "open"
    assert asked["title"] == f"School visit: {person['name']}" and asked["origin"] == "manual"
    # The school opens more of its own work about someone its work is about.
    visit = open_task(client, agencies.education.headers, type="school_visit", recipient_id=person["id"],
                      title="Second visit with the scouts")
    assert visit["agency_id"] == agencies.education.agency_id and visit["title"] == "Second visit with the scouts"
    assert visit["recipient"]["address"] == person["address"] and "nik" not in visit["recipient"]
    assert visit["overdue"] is False and visit["created_by"] == agencies.education.user.id

    by_office = open_task(client, coordinator, type="hygiene_inspection", vendor_id=stall.id,
                          agency_id=agencies.health.agency_id, title="Re-inspect after the complaint")
    assert by_office["agency"] and by_office["vendor_id"] == stall.id

    cases = [
        (agencies.education.headers, {"type": "hygiene_inspection", "vendor_id": stall.id}, 422, "type"),
        (agencies.social.headers, {"type": "school_visit", "recipient_id": person["id"]}, 422, "type"),
        (agencies.education.headers, {"type": "school_visit"}, 422, "recipient_id"),
        (agencies.health.headers, {"type": "nutrition_check"}, 422, "vendor_id"),
        (agencies.social.headers, {"type": "follow_up", "recipient_id": 999999}, 422, "recipient_id"),
        (agencies.social.headers, {"type": "other", "due_date": "2020-01-01"}, 422, "due_date"),
        (agencies.social.headers, {"type": "other", "assignee_id": agencies.health.user.id}, 422, "assignee_id"),
        (agencies.social.headers, {"type": "cooking"}, 422, "type"),
        (agencies.social.headers, {"type": "other", "surprise": 1}, 422, "surprise"),
        (coordinator, {"type": "other"}, 422, "agency_id"),
        (coordinator, {"type": "other", "agency_id": 999999}, 422, "agency_id"),
    ]
    for headers, body, status, field in cases:
        response = client.post(T, json={"due_date": NEXT_WEEK, **body}, headers=headers)
        assert response.status_code == status, (body, response.json)
        assert field in response.json["errors"], (body, response.json)
    # Work for another agency goes there as a referral, not as a task opened for it.
    response = client.post(T, json={"type": "other", "due_date": NEXT_WEEK, "agency_id": agencies.health.agency_id},
                           headers=agencies.social.headers)
    assert response.status_code == 403 and "referral" in response.json["detail"]
    assert client.post(T, json={"type": "other", "due_date": NEXT_WEEK}).status_code == 401


def test_an_agency_reaches_only_the_recipients_its_work_is_about(client, coordinator, agencies, make_recipient,
                                                                 make_vendor, make_user):
    """A task shows its recipient's name, address and phone to the agency that does it. An agency
    that does not keep the registry may put on its tasks only recipients it has a reason to reach;
    any other id, of any status, answers exactly as an id that does not exist (no enumeration)."""
    stall, far_stall = make_vendor("Kaliasin"), make_vendor("Tembokrejo")
    fed_there = make_recipient("enrolled")
    stranger, candidate = make_recipient("enrolled", village_id=_area(client, "Tembokrejo"), latitude=-8.4367,
                                         longitude=114.3226), make_recipient()
    assert (fed_there["vendor_id"], stranger["vendor_id"]) == (stall.id, far_stall.id)
    other_kind = make_user("agency", "other")[1]
    unknown = 10**6 + stranger["id"]

    def attach(headers, recipient_id, dry_run=None):
        if dry_run is None:
            return client.post(T, json={"type": "other", "due_date": NEXT_WEEK, "recipient_id": recipient_id},
                               headers=headers)
        return client.post(f"{T}/logs?dry_run=true", json=[{"type": "other", "recipient_id": recipient_id}],
                           headers=headers)

    def as_unknown(response, recipient_id):
        return response.get_data(as_text=True).replace(f"recipient {recipient_id} ", "recipient N ")

    for headers in (agencies.health.headers, agencies.education.headers, other_kind):
        for person in (fed_there, stranger, candidate):
            refused, missing = attach(headers, person["id"]), attach(headers, unknown)
            assert refused.status_code == missing.status_code == 422
            assert as_unknown(refused, person["id"]) == as_unknown(missing, unknown)
            dry, dry_missing = attach(headers, person["id"], dry_run=True), attach(headers, unknown, dry_run=True)
            assert dry.status_code == 422 and dry.json["report"]["rejected"] == 1
            assert as_unknown(dry, person["id"]) == as_unknown(dry_missing, unknown)
    assert client.get(T, headers=coordinator).json["total"] == 0  # nothing was opened

    # Work an agency opens itself about a stall gives it no reach to those the stall feeds: anyone
    # may open a task about any stall (nor does a dry run that opens one first).
    for headers in (agencies.health.headers, agencies.education.headers, other_kind):
        assert client.post(T, json={"type": "other", "due_date": NEXT_WEEK, "vendor_id": stall.id},
                           headers=headers).status_code == 201
        assert as_unknown(attach(headers, fed_there["id"]), fed_there["id"]) == as_unknown(
            attach(headers, unknown), unknown)
        dry = client.post(f"{T}/logs?dry_run=true", json=[{"type": "other", "vendor_id": stall.id},
                                                         {"type": "other", "recipient_id": fed_there["id"]}],
                          headers=headers).json
        assert [i["status"] for i in dry["items"]] == ["created", "rejected"]
    open_task(client, agencies.health.headers, type="nutrition_check", vendor_id=stall.id)
    assert attach(agencies.health.headers, fed_there["id"]).status_code == 422

    # The registry's own agencies reach anyone.
    for headers in (agencies.social.headers, agencies.data.headers):
        assert attach(headers, candidate["id"]).status_code == 201
    # The health agency reaches those who eat at a stall it inspects.
    client.post(f"/api/v1/vendors/{stall.id}/inspections", headers=agencies.health.headers, json={
        "kind": "nutrition", "inspected_on": TODAY.isoformat(), "score": 80, "passed": True})
    shown = attach(agencies.health.headers, fed_there["id"])
    assert shown.status_code == 201 and shown.json["recipient"]["phone"] == fed_there["phone"]
    assert attach(agencies.health.headers, stranger["id"]).status_code == 422
    # ... and at a stall whose inspection the program office (or the job runner) asks of it.
    open_task(client, coordinator, type="hygiene_inspection", vendor_id=far_stall.id,
              agency_id=agencies.health.agency_id)
    assert attach(agencies.health.headers, stranger["id"]).status_code == 201
    # The school reaches those it is asked to visit, while the visit is open.
    visit = visit_for(client, coordinator, agencies, stranger)
    assert attach(agencies.education.headers, stranger["id"]).status_code == 201
    complete(client, agencies.education.headers, visit["id"], outcome="concern",
             referral={"agency_id": agencies.social.agency_id, "reason": "lonely"})
    for task in client.get(T, query_string={"recipient_id": stranger["id"], "status": "open"},
                           headers=agencies.education.headers).json["items"]:
        complete(client, agencies.education.headers, task["id"], outcome="done")
    assert attach(agencies.education.headers, stranger["id"]).status_code == 422
    # An agency a referral came to reaches its subject, the referral done or not.
    asked = visit_for(client, coordinator, agencies, candidate)
    referred = complete(client, agencies.education.headers, asked["id"], outcome="concern",
                        referral={"agency_id": agencies.health.agency_id, "reason": "cough"}).json
    complete(client, agencies.health.headers, referred["referral_ids"][0], outcome="resolved")
    assert attach(agencies.health.headers, candidate["id"]).status_code == 201


def test_an_agency_sees_and_completes_only_its_own_tasks(client, coordinator, agencies, make_vendor, make_user):
    stall = make_vendor()
    inspection = open_task(client, agencies.health.headers, type="hygiene_inspection", vendor_id=stall.id)
    mine = open_task(client, agencies.education.headers, type="other", title="Brief the students")

    # An education user trying to complete (or read) a health task: not theirs, so not found.
    response = complete(client, agencies.education.headers, inspection["id"], outcome="passed", score=90)
    assert response.status_code == 404
    assert client.get(f"{T}/{inspection['id']}", headers=agencies.education.headers).status_code == 404
    assert client.get(f"{T}/{inspection['id']}/chain", headers=agencies.education.headers).status_code == 404
    listed = client.get(T, headers=agencies.education.headers).json
    assert [t["id"] for t in listed["items"]] == [mine["id"]]
    assert client.get(T, query_string={"agency_id": agencies.health.agency_id},
                      headers=agencies.education.headers).json["total"] == 0
    assert client.get(T, headers=coordinator).json["total"] == 2
    # Stalls and volunteers have no tasks.
    stall_phone = make_user("vendor", vendor_id=stall.id)[1]
    assert client.get(T, headers=stall_phone).status_code == 403


def test_completing_an_inspection_task_records_it_on_the_stall(client, agencies, make_vendor, make_recipient):
    stall = make_vendor("Kaliasin", capacity=10)
    other = make_vendor("Kembiritan", capacity=10)
    person = make_recipient("enrolled")
    assert person["vendor_id"] == stall.id
    task = open_task(client, agencies.health.headers, type="hygiene_inspection", vendor_id=stall.id)

    missing = complete(client, agencies.health.headers, task["id"], outcome="failed")
    assert missing.status_code == 422 and "score" in missing.json["errors"]
    wrong = complete(client, agencies.health.headers, task["id"], outcome="visited", score=40)
    assert wrong.status_code == 422 and "passed, failed" in wrong.json["errors"]["outcome"][0]
    future = complete(client, agencies.health.headers, task["id"], outcome="failed", score=40,
                      completed_on=(TODAY + dt.timedelta(days=1)).isoformat())
    assert future.status_code == 422 and "completed_on" in future.json["errors"]

    done = complete(client, agencies.health.headers, task["id"], outcome="failed", score=38,
                    notes="no running water at the washing place")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "done" and done.json["completed_by"] == agencies.health.user.id
    assert done.json["completed_on"] == TODAY.isoformat() and done.json["inspection_id"]
    # The same rules as POST /vendors/{id}/inspections: the stall may not cook, its people moved.
    inspections = client.get(f"/api/v1/vendors/{stall.id}/inspections", headers=agencies.health.headers).json
    assert [(i["id"], i["score"], i["passed"], i["findings"]) for i in inspections["items"]][0] == (
        done.json["inspection_id"], 38, False, "no running water at the washing place")
    assert client.get(f"/api/v1/vendors/{stall.id}", headers=agencies.health.headers).json["hygiene_status"] == "failed"
    moved = client.get(f"/api/v1/recipients/{person['id']}", headers=agencies.social.headers).json
    assert moved["vendor_id"] == other.id

    again = complete(client, agencies.health.headers, task["id"], outcome="passed", score=90)
    assert again.status_code == 409 and again.json["task_status"] == "done"


def test_an_inspection_recorded_directly_closes_its_open_task(client, agencies, make_vendor):
    stall = make_vendor(hygiene=None)
    task = open_task(client, agencies.health.headers, type="hygiene_inspection", vendor_id=stall.id)
    response = client.post(f"/api/v1/vendors/{stall.id}/inspections", headers=agencies.health.headers, json={
        "kind": "hygiene", "inspected_on": TODAY.isoformat(), "score": 88, "passed": True, "findings": "clean"})
    assert response.status_code == 201
    closed = client.get(f"{T}/{task['id']}", headers=agencies.health.headers).json
    assert (closed["status"], closed["outcome"], closed["inspection_id"], closed["completed_by"]) == (
        "done", "passed", response.json["id"], agencies.health.user.id)


def test_a_verification_visit_verifies_the_candidate_once(client, agencies, make_recipient):
    candidate, other = make_recipient(), make_recipient()
    task = open_task(client, agencies.social.headers, type="verification_visit", recipient_id=candidate["id"])
    not_found = complete(client, agencies.social.headers, task["id"], outcome="not_found", notes="house empty")
    assert not_found.status_code == 200
    person = client.get(f"/api/v1/recipients/{candidate['id']}", headers=agencies.social.headers).json
    assert person["status"] == "candidate"  # nobody met: nothing decided

    task = open_task(client, agencies.social.headers, type="verification_visit", recipient_id=candidate["id"])
    done = complete(client, agencies.social.headers, task["id"], outcome="verified", notes="lives alone")
    assert done.status_code == 200
    person = client.get(f"/api/v1/recipients/{candidate['id']}", headers=agencies.social.headers).json
    assert (person["status"], person["verification_notes"]) == ("verified", "lives alone")

    # Verified through the recipient's endpoint: its open visit closes with the same decision.
    task = open_task(client, agencies.social.headers, type="verification_visit", recipient_id=other["id"])
    client.post(f"/api/v1/recipients/{other['id']}/verify", json={"eligible": False, "notes": "has family"},
                headers=agencies.social.headers)
    closed = client.get(f"{T}/{task['id']}", headers=agencies.social.headers).json
    assert (closed["status"], closed["outcome"]) == ("done", "rejected")

    # A visit to someone no longer a candidate cannot verify them twice: 409, nothing kept.
    task = open_task(client, agencies.social.headers, type="verification_visit", recipient_id=other["id"])
    conflict = complete(client, agencies.social.headers, task["id"], outcome="verified")
    assert conflict.status_code == 409
    assert client.get(f"{T}/{task['id']}", headers=agencies.social.headers).json["status"] == "open"
    # The same pushed as a log: refused by row, and the task it would have opened is not kept.
    report = client.post(f"{T}/logs", json=[{"type": "verification_visit", "recipient_id": other["id"],
                                             "complete": {"outcome": "verified"}}],
                         headers=agencies.social.headers).json["report"]
    assert report["rejected"] == 1 and report["errors"][0]["field"] == "complete"
    assert "cannot verify" in report["errors"][0]["message"]
    assert client.get(T, query_string={"recipient_id": other["id"]}, headers=agencies.social.headers).json["total"] == 2


def test_a_referral_followed_from_the_visit_to_the_follow_up(client, coordinator, agencies, make_recipient):
    person = make_recipient("enrolled")
    visit = visit_for(client, coordinator, agencies, person)
    unreferred = complete(client, agencies.education.headers, visit["id"], outcome="concern", notes="thin, coughing")
    assert unreferred.status_code == 422 and "referral" in unreferred.json["errors"]
    to_self = complete(client, agencies.education.headers, visit["id"], outcome="concern",
                       referral={"agency_id": agencies.education.agency_id, "reason": "x"})
    assert to_self.status_code == 422 and "referral.agency_id" in to_self.json["errors"]
    nowhere = complete(client, agencies.education.headers, visit["id"], outcome="concern",
                       referral={"agency_id": 999999, "reason": "x"})
    assert nowhere.status_code == 422
    done = complete(client, agencies.education.headers, visit["id"], outcome="concern",
                    notes="thin, coughing for two weeks, lives alone",
                    referral={"agency_id": agencies.health.agency_id, "reason": "persistent cough, looks thin"})
    assert done.status_code == 200, done.json
    [follow_up_id] = done.json["referral_ids"]

    follow_up = client.get(f"{T}/{follow_up_id}", headers=agencies.health.headers).json
    assert (follow_up["type"], follow_up["origin"], follow_up["source_task_id"], follow_up["recipient_id"]) == (
        "follow_up", "referral", visit["id"], person["id"])
    assert follow_up["notes"] == "persistent cough, looks thin"
    assert follow_up["due_date"] == (TODAY + dt.timedelta(days=7)).isoformat()
    assert follow_up["opened_on"] == TODAY.isoformat()  # the day the concern was raised
    assert client.get(T, query_string={"source_task_id": visit["id"]},
                      headers=agencies.health.headers).json["total"] == 1

    # The health agency passes it on to the social agency; the chain reads the same from each end.
    onward = complete(client, agencies.health.headers, follow_up_id, outcome="resolved", notes="TB ruled out",
                      referral={"agency_id": agencies.social.agency_id, "reason": "needs help at home",
                                "due_date": (TODAY + dt.timedelta(days=2)).isoformat()})
    [last_id] = onward.json["referral_ids"]
    from_start = client.get(f"{T}/{visit['id']}/chain", headers=agencies.education.headers).json
    from_end = client.get(f"{T}/{last_id}/chain", headers=agencies.social.headers).json
    ids = [visit["id"], follow_up_id, last_id]
    assert [t["id"] for t in from_start["items"]] == [t["id"] for t in from_end["items"]] == ids
    assert from_start["root_id"] == from_end["root_id"] == visit["id"]
    assert [t["agency_id"] for t in from_end["items"]] == [agencies.education.agency_id, agencies.health.agency_id,
                                                           agencies.social.agency_id]
    assert [t["outcome"] for t in from_start["items"]] == ["concern", "resolved", None]
    # Each agency reads its own notes, and only where the others stand.
    assert from_start["items"][0]["notes"] is None
    assert from_start["items"][0]["outcome_notes"] == done.json["outcome_notes"]
    assert from_start["items"][1]["outcome_notes"] is None
    assert from_end["items"][2]["notes"] == "needs help at home" and from_end["items"][0]["outcome_notes"] is None
    office = client.get(f"{T}/{follow_up_id}/chain", headers=coordinator).json
    assert office["items"][1]["outcome_notes"] == "TB ruled out"


def test_cancel_a_task(client, agencies):
    task = open_task(client, agencies.data.headers, type="other", title="Digitise the Muncar list")
    assert client.post(f"{T}/{task['id']}/cancel", json={}, headers=agencies.data.headers).status_code == 422
    cancelled = client.post(f"{T}/{task['id']}/cancel", json={"reason": "done by the village office"},
                            headers=agencies.data.headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = complete(client, agencies.data.headers, task["id"], outcome="done")
    assert again.status_code == 409


def test_overdue_tasks_are_listed_as_overdue(client, agencies, monkeypatch):
    soon = open_task(client, agencies.social.headers, type="other", due_date=TODAY.isoformat())
    later = open_task(client, agencies.social.headers, type="other", due_date=NEXT_WEEK)
    at_jakarta(monkeypatch, TODAY + dt.timedelta(days=2))
    overdue = client.get(T, query_string={"overdue": "true"}, headers=agencies.social.headers).json
    assert [t["id"] for t in overdue["items"]] == [soon["id"]] and overdue["items"][0]["overdue"] is True
    not_overdue = client.get(T, query_string={"overdue": "false"}, headers=agencies.social.headers).json
    assert [t["id"] for t in not_overdue["items"]] == [later["id"]]


def test_task_logs_pushed_in_bulk_are_reported_row_by_row(client, coordinator, agencies, make_recipient,
                                                          make_vendor):
    person, neighbour = make_recipient("enrolled"), make_recipient("enrolled")
    stall = make_vendor()
    opened = visit_for(client, coordinator, agencies, person)
    visit_for(client, coordinator, agencies, neighbour)
    health_task = open_task(client, agencies.health.headers, type="nutrition_check", vendor_id=stall.id)
    week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
    logs = [
        # 1: a visit done last week, pushed from the school's system
        {"type": "school_visit", "recipient_id": person["id"], "external_ref": "SMA1-0001",
         "complete": {"outcome": "visited", "completed_on": week_ago, "notes": "well, garden tidy"}},
        # 2: completes a task opened here
        {"task_id": opened["id"], "complete": {"outcome": "not_at_home"}},
        # 3: work not done yet: opened only
        {"type": "other", "title": "Student briefing", "due_date": NEXT_WEEK, "external_ref": "SMA1-0002"},
        # 4: a health task: not the school's
        {"type": "nutrition_check", "vendor_id": stall.id, "complete": {"outcome": "passed", "score": 80}},
        # 5: another agency's task: not found
        {"task_id": health_task["id"], "complete": {"outcome": "passed", "score": 80}},
        # 6: bad fields
        {"type": "school_visit", "recipient_id": "x", "due_date": "tomorrow"},
        # 7: not an object
        "visited Mbah Sumi",
        # 8: neither a type nor a task
        {"complete": {"outcome": "visited"}},
        # 9: the same log as row 1, sent again
        {"type": "school_visit", "recipient_id": person["id"], "external_ref": "SMA1-0001",
         "complete": {"outcome": "visited", "completed_on": week_ago}},
        # 10: an outcome a school visit cannot have
        {"type": "school_visit", "recipient_id": neighbour["id"], "complete": {"outcome": "resolved"}},
    ]
    dry = client.post(f"{T}/logs?dry_run=true", json=logs, headers=agencies.education.headers)
    assert dry.status_code == 207, dry.json  # some taken, some refused
    assert client.get(T, headers=agencies.education.headers).json["total"] == 2  # nothing kept
    # A dry run names no task it did not open; the tasks it would complete exist.
    assert [i["task_id"] for i in dry.json["items"][:3]] == [None, opened["id"], None]

    response = client.post(f"{T}/logs", json=logs, headers=agencies.education.headers)
    assert response.status_code == 207
    report = response.json
    assert (report["created"], report["completed"], report["duplicates"], report["rejected"]) == (2, 2, 1, 6)
    assert {k: dry.json[k] for k in ("created", "completed", "rejected")} == {
        k: report[k] for k in ("created", "completed", "rejected")}
    assert [i["status"] for i in report["items"]] == ["completed", "completed", "created", "rejected", "rejected",
                                                      "rejected", "rejected", "rejected", "duplicate", "rejected"]
    errors = {(e["row"], e["field"]) for e in report["errors"]}
    assert {(4, "type"), (5, "task_id"), (6, "recipient_id"), (6, "due_date"), (7, "_body"), (8, "type"),
            (10, "outcome")} <= errors
    assert report["items"][8]["task_id"] == report["items"][0]["task_id"]

    logged = client.get(f"{T}/{report['items'][0]['task_id']}", headers=agencies.education.headers).json
    # work logged after it was done was opened, due and done that day: on time in the performance
    assert (logged["origin"], logged["status"], logged["opened_on"], logged["completed_on"], logged["due_date"]) == (
        "log", "done", week_ago, week_ago, week_ago)
    assert client.get(f"{T}/{opened['id']}", headers=agencies.education.headers).json["outcome"] == "not_at_home"
    assert client.get(f"{T}/{health_task['id']}", headers=agencies.health.headers).json["status"] == "open"

    bad = client.post(f"{T}/logs", json={"not": "a list"}, headers=agencies.education.headers)
    assert bad.status_code == 422 and "_body" in bad.json["errors"]
    bad = client.post(f"{T}/logs", data="[1, 2", headers={**agencies.education.headers,
                                                          "Content-Type": "application/json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json["detail"]
    bad = client.post(f"{T}/logs", data="[]", headers={**agencies.education.headers, "Content-Type": "text/plain"})
    assert bad.status_code == 415 and "application/json" in bad.json["detail"]


def test_recurring_work_is_opened_once_and_spread(client, coordinator, agencies, make_recipient, make_vendor,
                                                  monkeypatch):
    second_teacher, _ = colleague(agencies.education.agency_id, 1)
    village_b = [make_recipient("enrolled", village_id=_area(client, "Kembiritan"), latitude=-8.3906,
                                longitude=114.1514) for _ in range(2)]
    village_a = [make_recipient("enrolled") for _ in range(3)]
    candidate = make_recipient()
    expiring = make_vendor("Tembokrejo", hygiene=None)
    inspected = TODAY - dt.timedelta(days=program_service.get_program().hygiene_validity_days - 5)
    client.post(f"/api/v1/vendors/{expiring.id}/inspections", headers=agencies.health.headers, json={
        "kind": "hygiene", "inspected_on": inspected.isoformat(), "score": 80, "passed": True})
    recently_visited = village_a[0]
    done = visit_for(client, coordinator, agencies, recently_visited)
    complete(client, agencies.education.headers, done["id"], outcome="visited")

    first = client.post(f"{T}/recurring", headers=coordinator)
    assert first.status_code == 200, first.json
    assert first.json["school_visits"] == 4 and first.json["verification_visits"] == 1
    assert first.json["hygiene_inspections"] == 1 and first.json["skipped"] == []
    again = client.post(f"{T}/recurring", headers=coordinator).json
    assert (again["school_visits"], again["verification_visits"], again["hygiene_inspections"]) == (0, 0, 0)

    visits = client.get(T, query_string={"type": "school_visit", "origin": "recurring"},
                        headers=agencies.education.headers).json["items"]
    assert sorted(v["recipient_id"] for v in visits) == sorted(p["id"] for p in village_a[1:] + village_b)
    assert recently_visited["id"] not in {v["recipient_id"] for v in visits}
    # A village at a time, to the least-loaded teacher: each village's visits go to one of them.
    by_village = {}
    for v in visits:
        by_village.setdefault(v["recipient"]["village"], set()).add(v["assignee_id"])
    assert all(len(users) == 1 for users in by_village.values())
    assert set().union(*by_village.values()) == {agencies.education.user.id, second_teacher.id}

    [inspection] = client.get(T, query_string={"type": "hygiene_inspection"},
                              headers=agencies.health.headers).json["items"]
    assert inspection["vendor_id"] == expiring.id and inspection["due_date"] == (
        inspected + dt.timedelta(days=program_service.get_program().hygiene_validity_days)).isoformat()
    [verification] = client.get(T, query_string={"type": "verification_visit"},
                                headers=agencies.social.headers).json["items"]
    assert verification["recipient_id"] == candidate["id"]

    # Someone who leaves the program: their recurring visit is cancelled at the next run.
    client.post(f"/api/v1/recipients/{village_b[0]['id']}/exit", json={"reason": "moved"}, headers=coordinator)
    assert client.post(f"{T}/recurring", headers=coordinator).json["cancelled"] == 1


def _area(client, name):
    return next(a["id"] for a in client.get("/api/v1/areas", query_string={"per_page": 500}).json["items"]
                if a["name"] == name)


def test_a_flagged_recipient_gets_one_follow_up_which_clears_the_flag(client, coordinator, agencies, loop):
    person_id = loop.ids[0]
    recipient = db.session.get(Recipient, person_id)
    recipient.flagged_on, recipient.flag_reason = TODAY, "no meal delivered for three days"
    db.session.commit()
    assert client.post(f"{T}/recurring", headers=coordinator).json["flag_follow_ups"] == 1
    assert client.post(f"{T}/recurring", headers=coordinator).json["flag_follow_ups"] == 0
    [task] = client.get(T, query_string={"type": "follow_up"}, headers=agencies.social.headers).json["items"]
    assert task["recipient_id"] == person_id and task["notes"] == "no meal delivered for three days"
    assert task["due_date"] == (TODAY + dt.timedelta(days=2)).isoformat()
    assert complete(client, agencies.social.headers, task["id"], outcome="resolved",
                    notes="was in hospital; family now tells the stall").status_code == 200
    person = client.get(f"/api/v1/recipients/{person_id}", headers=agencies.social.headers).json
    assert person["flagged_on"] is None


def test_no_agency_of_a_kind_skips_its_work(client, coordinator, make_recipient):
    make_recipient("enrolled")
    report = client.post(f"{T}/recurring", headers=coordinator).json
    assert report["school_visits"] == 0 and any("education" in s for s in report["skipped"])


def test_the_job_runner_opens_recurring_work(app, agencies, make_recipient):
    from service.scheduler import jobs

    make_recipient()
    assert jobs.run(app, "tasks")["verification_visits"] == 1
    assert jobs.run(app, "tasks")["verification_visits"] == 0


def test_a_phone_retrying_a_completion_gets_the_first_answer(client, coordinator, agencies, make_recipient):
    person = make_recipient("enrolled")
    visit = visit_for(client, coordinator, agencies, person)
    phone = {**agencies.education.headers, "Idempotency-Key": "visit-1"}
    first = client.post(f"{T}/{visit['id']}/complete", json={"outcome": "visited", "notes": "well"}, headers=phone)
    retry = client.post(f"{T}/{visit['id']}/complete", json={"notes": "well", "outcome": "visited"}, headers=phone)
    assert first.status_code == retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json == first.json
    other = client.post(f"{T}/{visit['id']}/complete", json={"outcome": "not_at_home"}, headers=phone)
    assert other.status_code == 409
    # Without a key, the second completion is refused: the task is done.
    assert complete(client, agencies.education.headers, visit["id"], outcome="visited").status_code == 409

    # A dry run and the real push are two requests: the same key on both is a conflict.
    logs = [{"type": "other", "title": "Briefing", "due_date": NEXT_WEEK}]
    keyed = {**agencies.education.headers, "Idempotency-Key": "push-1"}
    assert client.post(f"{T}/logs?dry_run=true", json=logs, headers=keyed).json["created"] == 1
    assert client.post(f"{T}/logs", json=logs, headers=keyed).status_code == 409
    pushed = client.post(f"{T}/logs", json=logs, headers={**keyed, "Idempotency-Key": "push-2"})
    again = client.post(f"{T}/logs", json=logs, headers={**keyed, "Idempotency-Key": "push-2"})
    assert pushed.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert client.get(T, query_string={"type": "other"}, headers=agencies.education.headers).json["total"] == 1


def test_the_openapi_document_shows_the_push_with_its_query_and_its_key(client):
    spec = client.get("/api/v1/openapi.json").json
    push = spec["paths"]["/api/v1/tasks/logs"]["post"]
    assert [p["name"] for p in push["parameters"]] == ["dry_run", "Idempotency-Key", "region"]
    assert push["requestBody"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/TaskLogIn"}
    assert "TaskLogIn" in spec["components"]["schemas"]
    complete_ = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert [p["name"] for p in complete_["parameters"]] == ["Idempotency-Key", "region"]
    assert "Allowed" in complete_["description"]


def test_an_open_task_is_handed_over_or_moved(client, coordinator, agencies, make_recipient):
    teacher, _ = colleague(agencies.education.agency_id, 2)
    person = make_recipient("enrolled")
    visit = visit_for(client, coordinator, agencies, person)
    path = f"{T}/{visit['id']}"
    moved = client.patch(path, json={"assignee_id": teacher.id, "due_date": (TODAY + dt.timedelta(days=3)).isoformat()},
                         headers={**agencies.education.headers, "If-Match": str(visit["version"])})
    assert moved.status_code == 200 and moved.json["assignee_id"] == teacher.id
    stale = client.patch(path, json={"notes": "x"}, headers={**agencies.education.headers,
                                                             "If-Match": str(visit["version"])})
    assert stale.status_code == 412
    for body, field in (({"assignee_id": agencies.health.user.id}, "assignee_id"),
                        ({"due_date": "2020-01-01"}, "due_date"), ({"status": "done"}, "status")):
        response = client.patch(path, json=body, headers=agencies.education.headers)
        assert response.status_code == 422 and field in response.json["errors"], body
    assert client.patch(path, json={"notes": "x"}, headers=agencies.health.headers).status_code == 404
    complete(client, agencies.education.headers, visit["id"], outcome="visited")
    assert client.patch(path, json={"notes": "x"}, headers=agencies.education.headers).status_code == 409


def test_listing_tasks_costs_the_same_few_queries_for_one_task_or_many(client, coordinator, agencies, make_recipient,
                                                                      query_count):
    def statements_for_list() -> int:
        with query_count() as statements:
            assert client.get(T, headers=agencies.education.headers).status_code == 200
        return len(statements)

    person = make_recipient("enrolled")
    visit_for(client, coordinator, agencies, person)
    client.get("/api/v1/me", headers=agencies.education.headers)  # on PostgreSQL the process now knows the caller
    one = statements_for_list()
    for _ in range(4):
        other = make_recipient("enrolled")
        visit = visit_for(client, coordinator, agencies, other)
        complete(client, agencies.education.headers, visit["id"], outcome="concern",
                 referral={"agency_id": agencies.social.agency_id, "reason": "lonely"})
    assert statements_for_list() == one <= 5


def test_a_log_of_late_work_counts_as_late(client, agencies):
    due, done = (TODAY - dt.timedelta(days=10)).isoformat(), (TODAY - dt.timedelta(days=3)).isoformat()
    report = client.post(f"{T}/logs", json=[{"type": "other", "title": "Brief the new students", "due_date": due,
                                             "complete": {"outcome": "done", "completed_on": done}}],
                         headers=agencies.education.headers).json
    logged = client.get(f"{T}/{report['items'][0]['task_id']}", headers=agencies.education.headers).json
    assert (logged["opened_on"], logged["due_date"], logged["completed_on"]) == (due, due, done)
    performance = client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance",
                             headers=agencies.education.headers).json["tasks"]
    assert (performance["opened"], performance["done_on_time"], performance["done_late"]) == (1, 0, 1)
    # Not done yet, a log cannot be due in the past.
    refused = client.post(f"{T}/logs", json=[{"type": "other", "due_date": due}], headers=agencies.education.headers)
    assert refused.status_code == 422
    assert refused.json["errors"] == {"1.due_date": [f"cannot be before today ({TODAY})"]}
    assert refused.json["report"]["errors"] == [{"row": 1, "field": "due_date",
                                                 "message": f"cannot be before today ({TODAY})"}]
