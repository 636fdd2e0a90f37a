"""Food stalls and the health agency's hygiene gate, through the API."""
import datetime as dt

import pytest

from service.program import clock
from tests.conftest import at_jakarta

V = "/api/v1/vendors"


@pytest.fixture
def stall_body(areas):
    def make(**overrides):
        place = areas["Kaliasin"]
        return {"name": "Warung Bu Sri", "owner_name": "Sri Wahyuni", "phone": "+62 812 1111 2222",
                "address": "Jl. Raya Kaliasin 12", "village_id": place.id, "latitude": -8.3550,
                "longitude": 114.1650, "daily_capacity": 30, **overrides}
    return make


def inspect(client, headers, vendor_id, **fields):
    body = {"kind": "hygiene", "inspected_on": clock.today().isoformat(), "score": 85, "passed": True,
            "findings": "clean kitchen, clean water", **fields}
    return client.post(f"{V}/{vendor_id}/inspections", json=body, headers=headers)


def test_register_a_stall_that_may_not_cook_until_inspected(client, coordinator, stall_body):
    response = client.post(V, json=stall_body(), headers=coordinator)
    assert response.status_code == 201, response.json
    made = response.json
    assert made["status"] == "active" and made["village"] == "Kaliasin"
    assert (made["hygiene_status"], made["hygiene_valid_until"], made["eligible"]) == ("none", None, False)
    assert made["assigned_count"] == 0 and made["version"] == 1
    assert client.get(f"{V}/{made['id']}", headers=coordinator).json == made


def test_bad_stall_input_is_a_clear_problem(client, coordinator, health, stall_body, areas):
    body = stall_body()
    cases = [
        ({**body, "daily_capacity": -1}, "daily_capacity"),
        ({**body, "daily_capacity": "30"}, "daily_capacity"),
        ({**body, "latitude": 114.1650, "longitude": -8.3550}, "latitude"),  # swapped: out of range
        ({**body, "latitude": -7.2, "longitude": 112.7}, "latitude"),  # Surabaya, not Kaliasin
        ({**body, "village_id": areas["genteng"].id}, "village_id"),
        ({**body, "village_id": 99999}, "village_id"),
        ({**body, "status": "open"}, "status"),
        ({**body, "hygiene_status": "valid"}, "hygiene_status"),  # read-only
        ({k: v for k, v in body.items() if k != "name"}, "name"),
    ]
    for payload, field in cases:
        response = client.post(V, json=payload, headers=coordinator)
        assert response.status_code == 422, (payload, response.json)
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"], (field, response.json)
    assert client.post(V, json=body, headers=health).status_code == 403


def test_list_filters_and_the_search_near_a_point(client, coordinator, make_vendor, areas):
    kaliasin = make_vendor("Kaliasin")
    kembiritan = make_vendor("Kembiritan", hygiene="expired")
    muncar = make_vendor("Tembokrejo", hygiene="failed")
    never = make_vendor("Kaliasin", hygiene=None, status="suspended")

    def ids(query):
        response = client.get(f"{V}?{query}", headers=coordinator)
        assert response.status_code == 200, response.json
        return [v["id"] for v in response.json["items"]]

    assert ids("hygiene_status=valid") == [kaliasin.id]
    assert ids("hygiene_status=expired") == [kembiritan.id]
    assert ids("hygiene_status=failed") == [muncar.id]
    assert ids("hygiene_status=none") == [never.id]
    assert ids("status=suspended") == [never.id]
    assert ids(f"village_id={areas['Kembiritan'].id}") == [kembiritan.id]
    # near Kembiritan's centre: Kembiritan's stall first, then Kaliasin's 4.4 km away; Muncar is far
    point = areas["Kembiritan"]
    near = client.get(f"{V}?lat={point.latitude}&lon={point.longitude}&radius_km=5", headers=coordinator).json
    assert [v["id"] for v in near["items"]] == [kembiritan.id, kaliasin.id, never.id]
    assert near["items"][0]["distance_km"] == 0 and 4 < near["items"][1]["distance_km"] < 5
    assert near["total"] == 3
    assert ids(f"lat={point.latitude}&lon={point.longitude}&radius_km=5&hygiene_status=valid") == [kaliasin.id]
    bad = client.get(f"{V}?lat=-8.3&radius_km=5", headers=coordinator)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"lon"}
    assert client.get(f"{V}?radius_km=-1&lat=0&lon=0", headers=coordinator).status_code == 422


def test_a_stall_sees_and_edits_only_itself_and_never_its_hygiene(client, make_user, make_vendor):
    mine, other = make_vendor(), make_vendor()
    _, stall = make_user("vendor", vendor_id=mine.id)
    listed = client.get(V, headers=stall).json
    assert [v["id"] for v in listed["items"]] == [mine.id] and listed["total"] == 1
    assert client.get(f"{V}/{mine.id}", headers=stall).status_code == 200
    for method, path, body in [
        ("get", f"{V}/{other.id}", None),
        ("patch", f"{V}/{other.id}", {"name": "Mine now"}),
        ("get", f"{V}/{other.id}/inspections", None),
    ]:
        response = getattr(client, method)(path, json=body, headers=stall)
        assert response.status_code == 404, (path, response.json)
    changed = client.patch(f"{V}/{mine.id}", json={"phone": "+62 813 0000 1111", "daily_capacity": 25},
                           headers={**stall, "If-Match": '"2"'})
    assert changed.status_code == 200, changed.json
    assert changed.json["phone"] == "+62 813 0000 1111" and changed.json["version"] == 3
    assert client.patch(f"{V}/{mine.id}", json={"status": "active"}, headers=stall).status_code == 403
    for field, value in [("hygiene_status", "valid"), ("hygiene_valid_until", "2030-01-01")]:
        response = client.patch(f"{V}/{mine.id}", json={field: value}, headers=stall)
        assert response.status_code == 422 and field in response.json["errors"]
    assert inspect(client, stall, mine.id).status_code == 403  # a stall cannot inspect itself
    assert client.get(f"{V}/{mine.id}/inspections", headers=stall).json["total"] == 1


def test_patch_honours_if_match(client, coordinator, make_vendor):
    vendor = make_vendor()
    stale = client.patch(f"{V}/{vendor.id}", json={"name": "Warung Baru"}, headers={**coordinator, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json["version"] == vendor.version
    assert client.patch(f"{V}/{vendor.id}", json={"name": "Warung Baru"},
                        headers={**coordinator, "If-Match": "nope"}).status_code == 422
    assert client.patch(f"{V}/{vendor.id}", json={"latitude": -8.35}, headers=coordinator).status_code == 422


def test_inspections_pass_fail_and_expire(client, health, make_vendor, monkeypatch):
    vendor = make_vendor(hygiene=None)
    today = clock.today()
    passed = inspect(client, health, vendor.id, inspected_on=(today - dt.timedelta(days=3)).isoformat())
    assert passed.status_code == 201, passed.json
    assert passed.json["valid_until"] == (today + dt.timedelta(days=177)).isoformat()
    shown = client.get(f"{V}/{vendor.id}", headers=health).json
    assert (shown["hygiene_status"], shown["eligible"]) == ("valid", True)
    assert shown["hygiene_valid_until"] == passed.json["valid_until"]

    failed = inspect(client, health, vendor.id, passed=False, score=35, findings="raw chicken beside cooked rice")
    assert failed.status_code == 201 and failed.json["valid_until"] is None
    shown = client.get(f"{V}/{vendor.id}", headers=health).json
    assert (shown["hygiene_status"], shown["eligible"]) == ("failed", False)

    # an older inspection is history: it does not undo the newer failure
    older = inspect(client, health, vendor.id, inspected_on=(today - dt.timedelta(days=30)).isoformat())
    assert older.status_code == 201
    assert client.get(f"{V}/{vendor.id}", headers=health).json["hygiene_status"] == "failed"
    # a nutrition check is recorded but does not open the gate
    assert inspect(client, health, vendor.id, kind="nutrition", score=90).status_code == 201
    assert client.get(f"{V}/{vendor.id}", headers=health).json["hygiene_status"] == "failed"

    history = client.get(f"{V}/{vendor.id}/inspections", headers=health).json
    assert history["total"] == 4
    assert [i["inspected_on"] for i in history["items"]] == sorted((i["inspected_on"] for i in history["items"]),
                                                                  reverse=True)
    hygiene_only = client.get(f"{V}/{vendor.id}/inspections?kind=hygiene", headers=health).json
    assert hygiene_only["total"] == 3
    assert client.patch(f"{V}/{vendor.id}/inspections", json={}, headers=health).status_code == 405


def test_an_old_passed_inspection_is_expired_at_once(client, health, make_vendor):
    vendor = make_vendor(hygiene=None)
    old = (clock.today() - dt.timedelta(days=200)).isoformat()
    assert inspect(client, health, vendor.id, inspected_on=old).status_code == 201
    shown = client.get(f"{V}/{vendor.id}", headers=health).json
    assert (shown["hygiene_status"], shown["eligible"]) == ("expired", False)


def test_the_certificate_holds_to_its_last_day_in_jakarta_and_not_a_day_more(
        client, health, make_vendor, monkeypatch):
    vendor = make_vendor(hygiene=None)
    issued = clock.today()
    body = inspect(client, health, vendor.id, inspected_on=issued.isoformat()).json
    last_day = dt.date.fromisoformat(body["valid_until"])
    assert last_day == issued + dt.timedelta(days=180)
    at_jakarta(monkeypatch, last_day, hour=23)
    assert client.get(f"{V}/{vendor.id}", headers=health).json["hygiene_status"] == "valid"
    # 00:30 in Jakarta is still the previous day in UTC: Jakarta's date decides
    at_jakarta(monkeypatch, last_day + dt.timedelta(days=1), hour=0)
    shown = client.get(f"{V}/{vendor.id}", headers=health).json
    assert (shown["hygiene_status"], shown["eligible"]) == ("expired", False)
    listed = client.get(f"{V}?hygiene_status=expired", headers=health).json
    assert [v["id"] for v in listed["items"]] == [vendor.id]


def test_bad_inspections_are_refused(client, health, make_user, make_vendor):
    vendor = make_vendor(hygiene=None)
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    cases = [({"inspected_on": tomorrow}, "inspected_on"), ({"score": 101}, "score"), ({"score": "80"}, "score"),
             ({"passed": "yes"}, "passed"), ({"kind": "fire"}, "kind"),
             ({"inspected_on": "2026-02-30"}, "inspected_on")]
    for change, field in cases:
        response = inspect(client, health, vendor.id, **change)
        assert response.status_code == 422 and field in response.json["errors"], (change, response.json)
    assert inspect(client, health, 99999).status_code == 404
    for kind in ("education", "social"):
        assert inspect(client, make_user("agency", kind)[1], vendor.id).status_code == 403
    assert client.get(f"{V}/{vendor.id}/inspections", headers=health).json["total"] == 0


def test_the_coordinator_gives_a_stall_its_login(client, coordinator, make_vendor):
    stall = make_vendor()
    body = {"email": "warung.sri@rantang.example", "password": "sambal-pedas-1", "name": "Sri", "role": "vendor"}
    missing = client.post("/api/v1/users", json={**body, "vendor_id": 99999}, headers=coordinator)
    assert missing.status_code == 422 and "vendor_id" in missing.json["errors"]
    assert client.post("/api/v1/users", json=body, headers=coordinator).status_code == 422  # which stall?
    made = client.post("/api/v1/users", json={**body, "vendor_id": stall.id}, headers=coordinator)
    assert made.status_code == 201 and made.json["vendor_id"] == stall.id
    token = client.post("/api/v1/auth/token", json={"email": body["email"], "password": body["password"]}).json
    assert token["user"]["vendor_id"] == stall.id
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get(f"{V}/{stall.id}", headers=headers).json["name"] == stall.name
