"""The recipient registry, through the API, as the social and data agencies use it."""
import datetime as dt
import threading

import pytest
from geopy.location import Location as GeoLocation
from geopy.point import Point

from service.recipients.locating import EXTENSION

NOW = dt.date.today()


def test_register_a_candidate_with_gps(client, social, recipient_data):
    body = recipient_data(dietary_needs=["soft food"], phone="+62 812 3456 7890")
    response = client.post("/api/v1/recipients", json=body, headers=social)
    assert response.status_code == 201, response.json
    made = response.json
    assert made["status"] == "candidate" and made["location_source"] == "gps"
    assert (made["latitude"], made["longitude"]) == (-8.3541, 114.1672)
    assert made["village"] == "Kaliasin" and made["district"] == "Genteng"
    assert made["dietary_needs"] == ["soft food"] and made["version"] == 1
    assert client.get(f"/api/v1/recipients/{made['id']}", headers=social).json == made


def test_the_nik_must_agree_with_birth_date_and_sex(client, social, recipient_data):
    woman = recipient_data(sex="F")
    cases = [
        ({"sex": "M"}, "sex"),  # the NIK has 40 added to the day: a woman
        ({"birth_date": (dt.date.fromisoformat(woman["birth_date"]) - dt.timedelta(days=1)).isoformat()}, "birth_date"),
        ({"nik": woman["nik"][:15]}, "nik"),
        ({"nik": woman["nik"][:15] + "x"}, "nik"),
        ({"nik": woman["nik"][:6] + "991354" + woman["nik"][12:]}, "nik"),  # month 13
        ({"nik": woman["nik"][:12] + "0000"}, "nik"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/recipients", json={**woman, **change}, headers=social)
        assert response.status_code == 422, (change, response.json)
        assert list(response.json["errors"]) == [field], (change, response.json)


def test_under_the_minimum_age_is_422(client, social, recipient_data):
    response = client.post("/api/v1/recipients", json=recipient_data(age=59), headers=social)
    assert response.status_code == 422
    assert "minimum age 60" in response.json["errors"]["birth_date"][0]


def test_a_duplicate_nik_is_409_with_the_existing_id(client, social, recipient_data):
    body = recipient_data()
    first = client.post("/api/v1/recipients", json=body, headers=social).json
    response = client.post("/api/v1/recipients", json={**body, "name": "Someone Else"}, headers=social)
    assert response.status_code == 409
    assert response.json["existing_id"] == first["id"]
    assert response.mimetype == "application/problem+json"


def test_bad_input_is_a_clear_problem_never_a_500(client, social, recipient_data, areas):
    body = recipient_data()
    cases = [
        ({**body, "village_id": "abc"}, 422, "village_id"),
        ({**body, "village_id": "5"}, 422, "village_id"),  # a string is not an integer
        ({**body, "village_id": areas["genteng"].id}, 422, "village_id"),  # a district, not a village
        ({**body, "village_id": 999999}, 422, "village_id"),
        ({**body, "latitude": 91}, 422, "latitude"),
        ({**body, "longitude": None}, 422, "longitude"),  # one coordinate without the other
        ({**body, "birth_date": "1950-02-30"}, 422, "birth_date"),
        ({**body, "sex": "X"}, 422, "sex"),
        ({**body, "name": ""}, 422, "name"),
        ({**body, "dietary_needs": "soft"}, 422, "dietary_needs"),
        ({**body, "is_admin": True}, 422, "is_admin"),
        ({k: v for k, v in body.items() if k != "address"}, 422, "address"),
    ]
    for payload, status, field in cases:
        response = client.post("/api/v1/recipients", json=payload, headers=social)
        assert response.status_code == status, (payload, response.json)
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"], (field, response.json)
    assert client.post("/api/v1/recipients", data="[1,", content_type="application/json",
                       headers=social).status_code == 400
    assert client.post("/api/v1/recipients", json=[body], headers=social).status_code == 422


class Geocoder:
    """A geopy geocoder double: answers with ``point``, raises ``error``, or hangs."""

    def __init__(self, point=None, error=None, hang=False):
        self.point, self.error, self.hang, self.queries = point, error, hang, []
        self.release = threading.Event()

    def geocode(self, query, exactly_one=True):
        self.queries.append(query)
        if self.hang:
            self.release.wait(5)
        if self.error:
            raise self.error
        if self.point is None:
            return None
        return GeoLocation(query, Point(*self.point), {})


@pytest.fixture
def geocoder(app):
    def install(**kwargs):
        double = Geocoder(**kwargs)
        app.extensions[EXTENSION] = double
        return double

    yield install
    double = app.extensions.get(EXTENSION)
    if double is not None:
        double.release.set()
    app.extensions[EXTENSION] = None


def register_without_gps(client, headers, recipient_data):
    body = {k: v for k, v in recipient_data().items() if k not in ("latitude", "longitude")}
    response = client.post("/api/v1/recipients", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_without_coordinates_the_address_is_geocoded(client, social, recipient_data, geocoder):
    double = geocoder(point=(-8.3550, 114.1690))
    made = register_without_gps(client, social, recipient_data)
    assert made["location_source"] == "geocoded"
    assert (made["latitude"], made["longitude"]) == (-8.3550, 114.1690)
    assert double.queries == ["Jl. Diponegoro No. 4, RT 02/RW 01, Kaliasin, Genteng, Banyuwangi, Jawa Timur, Indonesia"]


@pytest.mark.parametrize("kwargs", [
    {"error": OSError("network unreachable")},
    {"point": None},  # nothing found
    {"point": (-6.2, 106.8)},  # a "Krajan" found in Jakarta: too far from the village
    {"hang": True, "point": (-8.3550, 114.1690)},
])
def test_a_failing_geocoder_falls_back_to_the_village_centre(client, social, recipient_data, geocoder, areas, kwargs):
    geocoder(**kwargs)
    started = dt.datetime.now()
    made = register_without_gps(client, social, recipient_data)
    assert (dt.datetime.now() - started).total_seconds() < 2  # the request never hangs on the geocoder
    assert made["location_source"] == "village"
    assert (made["latitude"], made["longitude"]) == (areas["Kaliasin"].latitude, areas["Kaliasin"].longitude)


def test_no_geocoder_configured_uses_the_village_centre(client, social, recipient_data):
    assert register_without_gps(client, social, recipient_data)["location_source"] == "village"


def test_the_lifecycle(client, social, make_recipient):
    rid = make_recipient()["id"]
    url = f"/api/v1/recipients/{rid}"
    assert client.post(f"{url}/enrol", headers=social).status_code == 409  # not verified yet
    verified = client.post(f"{url}/verify", json={"eligible": True, "notes": "lives alone"}, headers=social)
    assert verified.status_code == 200 and verified.json["status"] == "verified"
    assert verified.json["verification_notes"] == "lives alone" and verified.json["verified_at"]
    assert client.post(f"{url}/verify", json={"eligible": False}, headers=social).status_code == 409
    enrolled = client.post(f"{url}/enrol", headers=social)
    assert enrolled.status_code == 200 and enrolled.json["status"] == "enrolled"

    pause = {"start_date": (NOW + dt.timedelta(days=1)).isoformat(),
             "end_date": (NOW + dt.timedelta(days=7)).isoformat(), "reason": "in hospital"}
    response = client.post(f"{url}/pauses", json=pause, headers=social)
    assert response.status_code == 201 and response.json["recipient_id"] == rid
    overlapping = client.post(f"{url}/pauses", json={**pause, "start_date": (NOW + dt.timedelta(days=7)).isoformat()},
                              headers=social)
    assert overlapping.status_code == 409
    backwards = {**pause, "start_date": (NOW + dt.timedelta(days=9)).isoformat()}
    assert client.post(f"{url}/pauses", json=backwards, headers=social).status_code == 422
    past = {**pause, "start_date": (NOW - dt.timedelta(days=3)).isoformat()}
    assert "start_date" in client.post(f"{url}/pauses", json=past, headers=social).json["errors"]
    assert len(client.get(url, headers=social).json["pauses"]) == 1

    assert client.post(f"{url}/exit", json={"reason": "asleep"}, headers=social).status_code == 422
    exited = client.post(f"{url}/exit", json={"reason": "deceased"}, headers=social)
    assert exited.status_code == 200 and exited.json["status"] == "exited"
    assert exited.json["exit_reason"] == "deceased"
    for action, body in (("enrol", None), ("exit", {"reason": "moved"}), ("pauses", pause)):
        response = client.post(f"{url}/{action}", json=body, headers=social)
        assert response.status_code == 409, action
    assert client.patch(url, json={"phone": "0812345678"}, headers=social).status_code == 409


def test_a_refused_transition_changes_nothing(client, social, make_recipient):
    made = make_recipient("rejected")
    response = client.post(f"/api/v1/recipients/{made['id']}/enrol", headers=social)
    assert response.status_code == 409 and response.json["current_status"] == "rejected"
    assert client.get(f"/api/v1/recipients/{made['id']}", headers=social).json == made


def test_who_may_do_what(client, make_user, make_recipient, recipient_data):
    rid = make_recipient()["id"]
    data_agency = make_user("agency", "data")[1]
    assert client.post("/api/v1/recipients", json=recipient_data(), headers=data_agency).status_code == 201
    assert client.get(f"/api/v1/recipients/{rid}", headers=data_agency).status_code == 200
    assert client.post(f"/api/v1/recipients/{rid}/verify", json={"eligible": True},
                       headers=data_agency).status_code == 403
    for role, kind in (("vendor", None), ("volunteer", None), ("agency", "health"), ("agency", "education")):
        headers = make_user(role, kind)[1]
        assert client.get(f"/api/v1/recipients/{rid}", headers=headers).status_code == 403, role
        assert client.get("/api/v1/recipients", headers=headers).status_code == 403, role
        assert client.post("/api/v1/recipients", json=recipient_data(), headers=headers).status_code == 403
        assert client.post(f"/api/v1/recipients/{rid}/enrol", headers=headers).status_code == 403
    assert client.get(f"/api/v1/recipients/{rid}").status_code == 401


def test_unknown_ids_are_404(client, social):
    assert client.get("/api/v1/recipients/999999", headers=social).status_code == 404
    for action in ("verify", "enrol", "exit", "pauses"):
        response = client.post(f"/api/v1/recipients/999999/{action}", json={}, headers=social)
        assert response.status_code in (404, 422), action
    response = client.post("/api/v1/recipients/999999/enrol", headers=social)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_patch_honours_if_match_and_relocates(client, social, make_recipient, areas):
    made = make_recipient()
    url = f"/api/v1/recipients/{made['id']}"
    response = client.patch(url, json={"phone": "0812-3333-4444"}, headers={**social, "If-Match": '"1"'})
    assert response.status_code == 200 and response.json["version"] == 2
    assert response.json["phone"] == "0812-3333-4444"
    stale = client.patch(url, json={"phone": "0812-1111-2222"}, headers={**social, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.patch(url, json={"phone": "0"}, headers={**social, "If-Match": "soon"}).status_code == 422
    wrong_sex = client.patch(url, json={"sex": "M"}, headers=social)
    assert wrong_sex.status_code == 422 and "sex" in wrong_sex.json["errors"]
    moved = client.patch(url, json={"village_id": areas["Tembokrejo"].id, "latitude": -8.437, "longitude": 114.323},
                         headers=social)
    assert moved.json["village"] == "Tembokrejo" and moved.json["district"] == "Muncar"
    assert moved.json["location_source"] == "gps"


def test_patch_cannot_take_another_recipients_nik(client, social, make_recipient):
    first, second = make_recipient(), make_recipient(sex="M")
    response = client.patch(f"/api/v1/recipients/{second['id']}",
                            json={"nik": first["nik"], "sex": first["sex"], "birth_date": first["birth_date"]},
                            headers=social)
    assert response.status_code == 409 and response.json["existing_id"] == first["id"]


def test_list_filters_search_and_pages(client, social, make_recipient, areas):
    made = [make_recipient(), make_recipient("verified"), make_recipient("enrolled", name="Sumiati Wardani"),
            make_recipient("enrolled", village_id=areas["Tembokrejo"].id, latitude=-8.4367, longitude=114.3226)]
    everyone = client.get("/api/v1/recipients?per_page=2", headers=social).json
    assert everyone["total"] == 4 and everyone["per_page"] == 2 and everyone["page"] == 1
    assert [r["id"] for r in everyone["items"]] == [made[0]["id"], made[1]["id"]]
    page2 = client.get("/api/v1/recipients?per_page=2&page=2", headers=social).json
    assert [r["id"] for r in page2["items"]] == [made[2]["id"], made[3]["id"]]

    def ids(query):
        response = client.get(f"/api/v1/recipients?{query}", headers=social)
        assert response.status_code == 200, response.json
        return [r["id"] for r in response.json["items"]]

    assert ids("status=enrolled") == [made[2]["id"], made[3]["id"]]
    assert ids("status=candidate,verified") == [made[0]["id"], made[1]["id"]]
    assert ids(f"village_id={areas['Tembokrejo'].id}") == [made[3]["id"]]
    assert ids(f"district_id={areas['genteng'].id}") == [m["id"] for m in made[:3]]
    assert ids("q=sumiati") == [made[2]["id"]]
    assert ids(f"q={made[1]['nik']}") == [made[1]["id"]]
    beyond = client.get(f"/api/v1/recipients?q={made[1]['nik']}&page=2", headers=social).json
    assert (beyond["items"], beyond["total"]) == ([], 1)
    assert ids(f"q={made[1]['nik'][:4]}") == [m["id"] for m in made]
    assert ids("q=100%25") == []  # a LIKE wildcard is searched for literally
    assert len(ids("q=")) == 4  # a cleared search box searches nothing

    for query, field in (("per_page=501", "per_page"), ("page=0", "page"), ("status=asleep", "status"),
                         ("per_page=abc", "per_page")):
        response = client.get(f"/api/v1/recipients?{query}", headers=social)
        assert response.status_code == 422, query
        assert [key.split(".")[0] for key in response.json["errors"]] == [field], query


def test_registering_costs_four_statements(client, social, recipient_data, query_count):
    client.get("/api/v1/me", headers=social)  # the process's copies of the settings are current, as when running
    with query_count() as statements:
        assert client.post("/api/v1/recipients", json=recipient_data(), headers=social).status_code == 201
    # Beside the caller with the program's settings (which PostgreSQL's processes remember): the
    # village with the NIK's holders here and in every region; the insert; the region's hold on
    # the NIK; the audit event.
    work = [s for s in statements if not s.startswith("SELECT api_tokens.id")]
    assert len(work) == 4, "\n".join(s[:120] for s in statements)


def test_reading_a_recipient_costs_few_queries(client, social, make_recipient, query_count):
    rid = make_recipient("enrolled")["id"]
    client.get("/api/v1/me", headers=social)  # the process's copies of the settings are current
    with query_count() as statements:
        assert client.get(f"/api/v1/recipients/{rid}", headers=social).status_code == 200
    # the token with its user and agency, the recipient with its village, its pauses
    assert len(statements) <= 3, statements
    with query_count() as statements:
        assert client.get("/api/v1/recipients?per_page=50", headers=social).status_code == 200
    assert len(statements) <= 4, "\n".join(s[:150] for s in statements)


def test_every_write_is_in_the_audit_trail(client, coordinator, make_user, make_recipient):
    user, social = make_user("agency", "social")
    rid = make_recipient()["id"]
    client.post(f"/api/v1/recipients/{rid}/verify", json={"eligible": True}, headers=social)
    trail = client.get(f"/api/v1/audit?entity=recipient&entity_id={rid}", headers=coordinator)
    assert trail.status_code == 200
    events = trail.json["items"]
    assert [e["action"] for e in events] == ["update", "create"]  # newest first
    verify = events[0]
    assert verify["actor_id"] == user.id and verify["actor"] == user.email
    assert verify["changes"]["status"] == ["candidate", "verified"]
    assert dt.datetime.fromisoformat(verify["at"]).tzinfo is not None
    assert events[1]["changes"]["nik"][1] and events[1]["changes"]["status"] == [None, "candidate"]
    assert client.get("/api/v1/audit", headers=social).status_code == 403


def test_secrets_never_reach_the_audit_trail(client, coordinator):
    client.post("/api/v1/users", json={"email": "new@rantang.example", "password": "long-enough", "name": "N",
                                       "role": "coordinator"}, headers=coordinator)
    events = client.get("/api/v1/audit?entity=user", headers=coordinator).json["items"]
    assert events[0]["changes"]["password_hash"] == [None, "***"]
    tokens = client.get("/api/v1/audit?entity=api_token", headers=coordinator).json["items"]
    assert all(e["changes"]["token_hash"][1] == "***" for e in tokens)




def test_a_pause_is_shortened_extended_or_cancelled(client, social, make_recipient, make_user, office_hours):
    rid = make_recipient("enrolled")["id"]
    other = make_recipient("enrolled")["id"]
    day = lambda n: (NOW + dt.timedelta(days=n)).isoformat()  # noqa: E731
    url = f"/api/v1/recipients/{rid}/pauses"
    first = client.post(url, json={"start_date": day(0), "end_date": day(10), "reason": "in hospital"},
                        headers=social).json
    later = client.post(url, json={"start_date": day(20), "end_date": day(25), "reason": "family"},
                        headers=social).json
    home_early = client.patch(f"{url}/{first['id']}", json={"end_date": day(3)}, headers=social)
    assert home_early.status_code == 200 and home_early.json["end_date"] == day(3)
    assert client.patch(f"{url}/{first['id']}", json={"end_date": day(-2)}, headers=social).status_code == 422
    assert client.patch(f"{url}/{first['id']}", json={"end_date": day(21)}, headers=social).status_code == 409
    assert client.delete(f"{url}/{first['id']}", headers=social).status_code == 409  # it has begun
    assert client.delete(f"{url}/{later['id']}", headers=social).status_code == 204
    assert [p["id"] for p in client.get(f"/api/v1/recipients/{rid}", headers=social).json["pauses"]] == [first["id"]]
    # another recipient's pause, or one that does not exist, is not found
    assert client.patch(f"/api/v1/recipients/{other}/pauses/{first['id']}", json={"end_date": day(4)},
                        headers=social).status_code == 404
    assert client.delete(f"{url}/999999", headers=social).status_code == 404
    _, data_agency = make_user("agency", "data")
    assert client.patch(f"{url}/{first['id']}", json={"end_date": day(4)}, headers=data_agency).status_code == 403


def test_two_registrations_racing_for_one_nik_end_in_a_clean_409(client, social, recipient_data, monkeypatch):
    from service.recipients import service

    body = recipient_data()
    assert client.post("/api/v1/recipients", json=body, headers=social).status_code == 201
    # The second request passed its duplicate check before the first committed: the unique
    # index is what stops it.
    village_only = service._village
    monkeypatch.setattr(service, "_village", lambda village_id, nik=None: village_only(village_id))
    response = client.post("/api/v1/recipients", json=body, headers=social)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/recipients?q={body['nik']}", headers=social).json["total"] == 1


def test_patching_null_coordinates_forgets_the_gps_point(client, social, make_recipient, areas):
    made = make_recipient()
    assert made["location_source"] == "gps"
    response = client.patch(f"/api/v1/recipients/{made['id']}", json={"latitude": None, "longitude": None},
                            headers=social)
    assert response.status_code == 200
    assert response.json["location_source"] == "village"
    assert (response.json["latitude"], response.json["longitude"]) == (areas["Kaliasin"].latitude,
                                                                       areas["Kaliasin"].longitude)
    half = client.patch(f"/api/v1/recipients/{made['id']}", json={"latitude": -8.35}, headers=social)
    assert half.status_code == 422 and "longitude" in half.json["errors"]


def test_a_settings_change_applies_to_the_next_request(client, coordinator, social, recipient_data):
    assert client.patch("/api/v1/program", json={"min_age": 80}, headers=coordinator).status_code == 200
    response = client.post("/api/v1/recipients", json=recipient_data(age=72), headers=social)
    assert response.status_code == 422 and "minimum age 80" in response.json["errors"]["birth_date"][0]
    client.patch("/api/v1/program", json={"min_age": 60}, headers=coordinator)
    assert client.post("/api/v1/recipients", json=recipient_data(age=72), headers=social).status_code == 201


def test_a_new_address_is_located_again(client, social, recipient_data, geocoder):
    made = register_without_gps(client, social, recipient_data)
    assert made["location_source"] == "village"
    geocoder(point=(-8.3560, 114.1700))
    moved = client.patch(f"/api/v1/recipients/{made['id']}", json={"address": "Jl. Gajah Mada No. 9"}, headers=social)
    assert moved.json["location_source"] == "geocoded" and moved.json["latitude"] == -8.3560
