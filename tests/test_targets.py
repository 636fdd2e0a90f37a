"""Targets the agencies sign, measured from the data and checked by hand against it; and each
agency's performance."""
from __future__ import annotations

import datetime as dt

import pytest

from service.deliveries import coverage
from service.extensions import db
from service.recipients.models import Recipient
from service.targets import indicators
from tests.conftest import at_jakarta
from tests.test_tasks import complete, open_task, visit_for

pytestmark = pytest.mark.usefixtures("office_hours")
G = "/api/v1/targets"
TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)


def draft(client, headers, **body):
    response = client.post(G, headers=headers, json={
        "title": "Every elder fed", "indicator": "coverage_rate", "threshold": 0.9,
        "due_date": (TODAY + dt.timedelta(days=30)).isoformat(), **body})
    assert response.status_code == 201, response.json
    return response.json


def test_a_target_is_in_force_once_every_signatory_has_signed(client, coordinator, agencies):
    signatories = [agencies.social.agency_id, agencies.education.agency_id]
    target = draft(client, coordinator, indicator="enrolled_count", threshold=1,
                   owner_agency_id=agencies.social.agency_id, signatory_agency_ids=signatories + signatories[:1])
    assert target["status"] == "draft" and target["signatory_agency_ids"] == signatories
    assert target["signed_by"] == [] and target["in_force_since"] is None

    refused = client.post(f"{G}/{target['id']}/sign", headers=agencies.health.headers)
    assert refused.status_code == 403
    assert client.post(f"{G}/{target['id']}/sign", headers=coordinator).status_code == 403  # agencies sign
    first = client.post(f"{G}/{target['id']}/sign", headers=agencies.social.headers).json
    assert first["status"] == "draft" and [s["agency_id"] for s in first["signed_by"]] == [agencies.social.agency_id]
    again = client.post(f"{G}/{target['id']}/sign", headers=agencies.social.headers).json
    assert again["signed_by"] == first["signed_by"]  # signing twice changes nothing
    last = client.post(f"{G}/{target['id']}/sign", headers=agencies.education.headers).json
    assert last["in_force_since"] is not None and last["status"] == "at_risk"  # nobody enrolled yet: 0 < 1
    assert last["current_value"] == 0 and last["measured_on"] == TODAY.isoformat()

    # Changing the promise voids the signatures; a new title does not.
    renamed = client.patch(f"{G}/{target['id']}", json={"title": "Enrol the first elder"},
                           headers={**coordinator, "If-Match": str(last["version"])})
    assert renamed.status_code == 200 and renamed.json["in_force_since"] is not None
    stale = client.patch(f"{G}/{target['id']}", json={"threshold": 2},
                         headers={**coordinator, "If-Match": str(last["version"])})
    assert stale.status_code == 412
    raised = client.patch(f"{G}/{target['id']}", json={"threshold": 2}, headers=coordinator).json
    assert raised["signed_by"] == [] and raised["status"] == "draft"
    assert client.patch(f"{G}/{target['id']}", json={"title": "x"}, headers=agencies.social.headers).status_code == 403


def test_bad_targets_are_clear_problems(client, coordinator, agencies):
    base = {"title": "t", "indicator": "coverage_rate", "threshold": 0.9, "due_date": TODAY.isoformat(),
            "owner_agency_id": agencies.social.agency_id, "signatory_agency_ids": [agencies.social.agency_id]}
    cases = [({"threshold": 95}, "threshold"), ({"indicator": "happiness"}, "indicator"),
             ({"due_date": "2020-01-01"}, "due_date"), ({"owner_agency_id": 999999}, "owner_agency_id"),
             ({"signatory_agency_ids": []}, "signatory_agency_ids"),
             ({"signatory_agency_ids": [999999]}, "signatory_agency_ids"),
             ({"indicator": "enrolled_count", "threshold": -1}, "threshold")]
    for change, field in cases:
        response = client.post(G, json={**base, **change}, headers=coordinator)
        assert response.status_code == 422 and field in response.json["errors"], (change, response.json)
    assert client.post(G, json=base, headers=agencies.social.headers).status_code == 403
    assert client.get(f"{G}/999999", headers=coordinator).status_code == 404


def test_target_values_are_the_data_counted_by_hand(client, coordinator, agencies, loop, make_recipient,
                                                    make_vendor, monkeypatch):
    """Three recipients fed by stall A (the loop's stage); yesterday closed with two of them fed."""
    deliveries = "/api/v1/deliveries"
    for person_id in loop.ids:  # in the program since before yesterday
        db.session.get(Recipient, person_id).enrolled_at -= dt.timedelta(days=3)
    db.session.commit()
    at_jakarta(monkeypatch, YESTERDAY, hour=10)
    client.post(f"{deliveries}/schedule", json={"date": YESTERDAY.isoformat()}, headers=coordinator)
    meals = client.get(deliveries, query_string={"date": YESTERDAY.isoformat(), "per_page": 500},
                       headers=coordinator).json["items"]
    fed = loop.ids[:2]
    for meal in meals:  # the first two get both meals, the third none
        if meal["recipient_id"] in fed:
            assert client.post(f"{deliveries}/{meal['id']}/confirm", json={"status": "delivered"},
                               headers=loop.phone_a).status_code == 200
    # A school visit to one of three yesterday (not at home does not count)
    visit = visit_for(client, coordinator, agencies, loop.people[0])
    complete(client, agencies.education.headers, visit["id"], outcome="visited")
    not_home = visit_for(client, coordinator, agencies, loop.people[1])
    complete(client, agencies.education.headers, not_home["id"], outcome="not_at_home")
    at_jakarta(monkeypatch, YESTERDAY, hour=22)
    client.post(f"{deliveries}/close", json={"date": YESTERDAY.isoformat()}, headers=coordinator)
    # Two stalls active of which one (A) certified, B too: add C, never inspected.
    make_vendor("Tembokrejo", hygiene=None)
    at_jakarta(monkeypatch, TODAY, hour=10)
    # a visit today counts once today is closed: visit_rate is read as the cut-off counted it
    today_visit = visit_for(client, coordinator, agencies, loop.people[2])
    complete(client, agencies.education.headers, today_visit["id"], outcome="visited")

    owner, signers = agencies.social.agency_id, [agencies.social.agency_id]
    expected = {  # by hand, from the stage above
        "coverage_rate": (0.6667, YESTERDAY),  # 2 of 3 eligible got a meal yesterday
        "delivery_rate": (0.6667, YESTERDAY),  # 4 of 6 meals delivered
        "weekly_meal_rate": (0.6667, YESTERDAY),  # 2 of 3 got all their meals in the week
        "visit_rate": (0.3333, YESTERDAY),  # 1 of 3 visited by yesterday's cut-off
        "hygiene_valid_rate": (0.6667, TODAY),  # A and B certified, C never inspected
        "enrolled_count": (3, TODAY),
    }
    for indicator, (value, day) in expected.items():
        target = draft(client, coordinator, indicator=indicator, threshold=value, owner_agency_id=owner,
                       signatory_agency_ids=signers)
        client.post(f"{G}/{target['id']}/sign", headers=agencies.social.headers)
        read = client.get(f"{G}/{target['id']}", headers=agencies.health.headers).json
        assert (read["current_value"], read["measured_on"], read["status"]) == (
            value, day.isoformat(), "achieved"), (indicator, read)

    # The week's count the cut-off stored is the one counted from the deliveries.
    assert coverage.stored_well_fed(YESTERDAY) == (sum(coverage.well_fed_by_village(YESTERDAY).values()), 3) == (2, 3)
    assert coverage.stored_well_fed(TODAY) is None  # still open: counted when asked
    assert indicators.weekly_meal_rate(TODAY) == 0.6667  # counted live: the week holds yesterday, no meal today
    # What the cut-off kept of yesterday is what counting it now gives (visit_rate, enrolled_count, hygiene)
    kept = coverage.stored_day_figures(YESTERDAY)
    assert (kept.visited, kept.eligible) == coverage.visited_count(YESTERDAY) == (1, 3)
    assert kept.enrolled == coverage.enrolled_count(YESTERDAY) == 3
    assert coverage.stored_day_figures(TODAY) is None  # open: counted when asked
    assert indicators.visit_rate(TODAY) == 0.6667  # counted live: yesterday's visit and today's

    listed = client.get(G, query_string={"indicator": "visit_rate"}, headers=coordinator).json["items"]
    assert [t["current_value"] for t in listed] == [0.3333]
    assert client.get(G, query_string={"status": "achieved"}, headers=coordinator).json["total"] == 6

    # Above the data: at risk before the due date (the trend is flat: no week of history), missed after.
    risky = draft(client, coordinator, indicator="coverage_rate", threshold=0.95, owner_agency_id=owner,
                  signatory_agency_ids=signers, due_date=(TODAY + dt.timedelta(days=3)).isoformat())
    client.post(f"{G}/{risky['id']}/sign", headers=agencies.social.headers)
    assert client.get(f"{G}/{risky['id']}", headers=coordinator).json["status"] == "at_risk"
    at_jakarta(monkeypatch, TODAY + dt.timedelta(days=4))
    late = client.get(f"{G}/{risky['id']}", headers=coordinator).json
    # Measured on the last day closed (no day after yesterday was): below the threshold, missed.
    assert late["status"] == "missed" and late["measured_on"] == YESTERDAY.isoformat()
    visits = client.get(f"{G}/{listed[0]['id']}", headers=coordinator).json  # as the last cut-off counted it
    assert visits["measured_on"] == YESTERDAY.isoformat()
    enrolled = client.get(G, query_string={"indicator": "enrolled_count"}, headers=coordinator).json["items"][0]
    assert enrolled["measured_on"] == (TODAY + dt.timedelta(days=4)).isoformat()  # not counted by the cut-off: today


def test_on_track_when_the_trend_reaches_the_threshold_in_time(app, client, coordinator, agencies, monkeypatch):
    # visit_rate is read on the last day closed (none yet: yesterday)
    readings = {YESTERDAY: 0.8, YESTERDAY - dt.timedelta(days=7): 0.6}  # +0.2 a week
    monkeypatch.setitem(indicators.MEASURES, "visit_rate", lambda day: readings.get(day))
    owner = agencies.education.agency_id

    def status(threshold: float, days: int) -> str:
        target = draft(client, coordinator, indicator="visit_rate", threshold=threshold, owner_agency_id=owner,
                       signatory_agency_ids=[owner], due_date=(TODAY + dt.timedelta(days=days)).isoformat())
        return client.post(f"{G}/{target['id']}/sign", headers=agencies.education.headers).json

    on_track = status(0.95, 6)  # a week after yesterday
    assert (on_track["status"], on_track["projected_value"], on_track["value_week_before"]) == ("on_track", 1.0, 0.6)
    assert status(0.95, 3)["status"] == "at_risk"


def test_agency_performance_counts_its_work(client, coordinator, agencies, make_recipient, monkeypatch):
    person = make_recipient("enrolled")
    db.session.get(Recipient, person["id"]).enrolled_at -= dt.timedelta(days=11)  # eligible these ten days
    db.session.commit()
    owned = draft(client, coordinator, indicator="visit_rate", threshold=0.8,
                  owner_agency_id=agencies.education.agency_id, signatory_agency_ids=[agencies.education.agency_id])
    at_jakarta(monkeypatch, TODAY - dt.timedelta(days=10))
    h = agencies.education.headers
    on_time = visit_for(client, coordinator, agencies, person, due_date=(TODAY - dt.timedelta(days=8)).isoformat())
    late = visit_for(client, coordinator, agencies, person, due_date=(TODAY - dt.timedelta(days=8)).isoformat())
    open_task(client, h, type="other", due_date=(TODAY - dt.timedelta(days=5)).isoformat())  # overdue
    open_task(client, h, type="other", due_date=(TODAY + dt.timedelta(days=5)).isoformat())
    complete(client, h, on_time["id"], outcome="visited")
    at_jakarta(monkeypatch, TODAY)
    complete(client, h, late["id"], outcome="visited")
    open_task(client, agencies.social.headers, type="other")  # another agency's: not counted

    response = client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance", headers=h)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["tasks"] == {"type": None, "opened": 4, "done_on_time": 1, "done_late": 1, "cancelled": 0,
                               "overdue": 1, "open": 1, "on_time_rate": 0.5}  # due next week: after the period
    assert {r["type"]: (r["opened"], r["overdue"]) for r in report["by_type"]} == {
        "other": (2, 1), "school_visit": (2, 0)}
    assert [t["id"] for t in report["targets"]] == [owned["id"]]
    # one eligible, visited ten days ago: measured on yesterday (no day closed yet), counted live
    assert report["targets"][0]["current_value"] == 1.0
    narrow = client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance",
                        query_string={"from": TODAY.isoformat(), "to": TODAY.isoformat()}, headers=h).json
    assert (narrow["tasks"]["opened"], narrow["tasks"]["done_late"]) == (0, 1)
    # Another agency's performance is not the caller's to see; the coordinator sees all.
    assert client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance",
                      headers=agencies.social.headers).status_code == 404
    assert client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance",
                      headers=coordinator).status_code == 200
    assert client.get("/api/v1/agencies/999999/performance", headers=coordinator).status_code == 404
    backwards = client.get(f"/api/v1/agencies/{agencies.education.agency_id}/performance",
                           query_string={"from": TODAY.isoformat(), "to": YESTERDAY.isoformat()}, headers=h)
    assert backwards.status_code == 422
