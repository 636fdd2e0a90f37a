"""Volunteers through the API, as the public and the social agency use it: sign-up from a phone,
signing in with that phone, vetting, and the volunteer's own record."""
from __future__ import annotations

import pytest

from blueprints.extensions import limiter

V = "/api/v1/volunteers"
PASSWORD = "relawan-banyuwangi-7"


@pytest.fixture
def signup(client, areas):
    """``signup(**overrides)`` -> the response to a sign-up in Kaliasin."""

    def send(**overrides):
        body = {"name": "Dewi Lestari", "phone": "0812-3456-7890", "password": PASSWORD,
                "village_id": areas["Kaliasin"].id, "skills": ["deliver", "visit"], "accepts_code_of_conduct": True,
                **overrides}
        return client.post(V, json=body)

    return send


def sign_in(client, **login):
    return client.post("/api/v1/auth/token", json={**login, "password": PASSWORD})


def bearer(response) -> dict:
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def test_a_sign_up_from_a_phone_is_pending_and_normalises_the_number(client, signup):
    spellings = {"0812-3456-7890": "+6281234567890", "62813 1111 2222": "+6281311112222",
                 "+62 815-2222-3333": "+6281522223333", "(0333) 424 242": "+62333424242"}
    for written, stored in spellings.items():
        response = signup(phone=written)
        assert response.status_code == 201, response.json
        assert (response.json["phone"], response.json["status"], response.json["capacity"]) == (stored, "pending", 1)
    assert signup(phone="call my son").status_code == 422
    assert "phone" in signup(phone="12345678").json["errors"]


def test_a_phone_or_email_registered_already_is_409_without_saying_whose(client, signup, make_user):
    first = signup(email="dewi@contoh.id")
    assert first.status_code == 201
    staff, _ = make_user("agency", "social")  # a staff member's email is taken too
    for again in (signup(phone="+62 812 3456 7890"), signup(phone="0819 9999 8888", email="DEWI@contoh.id"),
                  signup(phone="0819 9999 7777", email=staff.email)):
        assert again.status_code == 409 and again.mimetype == "application/problem+json"
        assert "existing_id" not in again.json and "Dewi" not in again.get_data(as_text=True)
        assert str(first.json["id"]) not in again.json["detail"]


def test_a_sign_up_needs_consent_a_skill_and_a_capacity_in_range(client, signup):
    for overrides, field in (({"accepts_code_of_conduct": False}, "accepts_code_of_conduct"),
                             ({"accepts_code_of_conduct": None}, "accepts_code_of_conduct"),
                             ({"capacity": 6}, "capacity"), ({"capacity": 0}, "capacity"),
                             ({"skills": []}, "skills"), ({"skills": ["drive"]}, "skills"),
                             ({"village_id": 99999}, "village_id"), ({"password": "password"}, "password"),
                             ({"latitude": 0.0, "longitude": 0.0}, "latitude"), ({"name": "Dewi\u202e"}, "name")):
        response = signup(**overrides)
        assert response.status_code == 422, (overrides, response.json)
        assert any(name.split(".")[0] == field for name in response.json["errors"]), (overrides, response.json)
    missing = client.post(V, json={"name": "Dewi", "phone": "0812 3456 7890", "password": PASSWORD,
                                   "village_id": 1, "skills": ["visit"]})
    assert "accepts_code_of_conduct" in missing.json["errors"]


def test_sign_ups_from_one_address_are_rate_limited(app, signup, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "2 per minute")
    limiter.reset()
    assert [signup(phone=f"0812 0000 000{n}").status_code for n in range(3)] == [201, 201, 429]
    refused = signup(phone="0812 0000 0009")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "application/problem+json"


def test_a_pending_volunteer_signs_in_with_the_phone_and_sees_only_their_record(client, signup):
    made = signup(email="dewi@contoh.id").json
    by_phone = bearer(sign_in(client, phone="+62 812-3456-7890"))
    by_email = bearer(sign_in(client, email="Dewi@Contoh.id"))
    assert sign_in(client, phone="0812 3456 7891").status_code == 401
    own = client.get(f"{V}/me", headers=by_phone)
    assert own.status_code == 200 and own.json["id"] == made["id"] and own.json["status"] == "pending"
    assert client.get("/api/v1/me", headers=by_email).json["role"] == "volunteer"
    for path in ("/api/v1/program", "/api/v1/agencies", "/api/v1/recipients", V, f"{V}/{made['id']}",
                 "/api/v1/vendors", "/api/v1/coverage"):
        assert client.get(path, headers=by_phone).status_code == 403, path


def test_the_social_agency_vets_and_every_decision_is_in_the_trail(client, signup, social, coordinator, health,
                                                                   areas):
    dewi = signup().json
    rudi = signup(name="Rudi Hartono", phone="0813 2222 3333", skills=["cook"],
                  village_id=areas["Tembokrejo"].id).json
    pending = client.get(V, query_string={"status": "pending"}, headers=social).json
    assert [v["id"] for v in pending["items"]] == [dewi["id"], rudi["id"]]
    assert client.get(V, query_string={"skill": "cook"}, headers=social).json["total"] == 1
    assert client.get(V, query_string={"village_id": areas["Tembokrejo"].id}, headers=social).json["total"] == 1
    assert [v["id"] for v in client.get(V, query_string={"q": "hartono"}, headers=social).json["items"]] == [rudi["id"]]
    assert [v["id"] for v in client.get(V, query_string={"q": "0812345"}, headers=social).json["items"]] == [dewi["id"]]
    assert client.get(V, headers=health).status_code == 403  # their phones are not the health agency's

    def act(decision, volunteer, **body):
        return client.post(f"{V}/{volunteer['id']}/{decision}", headers=social, **({"json": body} if body else {}))

    assert act("approve", dewi).json["status"] == "approved"
    again = act("approve", dewi)
    assert again.status_code == 409 and again.json["current_status"] == "approved"
    assert "reason" in act("reject", rudi).json["errors"]
    rejected = act("reject", rudi, reason="no reference from the village head yet")
    assert (rejected.json["status"], rejected.json["status_reason"]) == ("rejected", "no reference from the village "
                                                                                    "head yet")
    assert act("suspend", rudi, reason="x").status_code == 409  # only an approved one
    suspended = act("suspend", dewi, reason="did not come twice")
    assert suspended.json["status"] == "suspended"
    assert act("reinstate", dewi).json["status"] == "approved"
    assert client.post(f"{V}/99999/approve", headers=social).status_code == 404
    trail = client.get("/api/v1/audit", query_string={"entity": "volunteer", "entity_id": dewi["id"]},
                       headers=coordinator).json["items"]
    statuses = [event["changes"]["status"][1] for event in trail if "status" in (event.get("changes") or {})]
    assert {"approved", "suspended"} <= set(statuses), trail


def test_a_volunteer_edits_their_record_and_closes_the_account(client, signup, social, coordinator):
    made = signup(email="dewi@contoh.id").json
    headers = bearer(sign_in(client, phone="0812 3456 7890"))
    assert "_body" in client.patch(f"{V}/me", json={}, headers=headers).json["errors"]
    changed = client.patch(f"{V}/me", json={"phone": "0857 1234 5678", "capacity": 3, "skills": ["visit"]},
                           headers=headers)
    assert changed.status_code == 200, changed.json
    assert (changed.json["phone"], changed.json["capacity"], changed.json["skills"]) == ("+6281234567890", 3, ["visit"])
    assert changed.json["pending_contact"]["phone"] == "+6285712345678"  # waits for staff to confirm it
    assert sign_in(client, phone="0857 1234 5678").status_code == 401
    confirmed = client.post(f"{V}/{made['id']}/contact/confirm", headers=social)
    assert confirmed.status_code == 200 and confirmed.json["phone"] == "+6285712345678"
    assert confirmed.json["pending_contact"] is None
    assert client.post(f"{V}/{made['id']}/contact/confirm", headers=social).status_code == 409  # nothing waits
    assert sign_in(client, phone="0812 3456 7890").status_code == 401  # the sign-in follows the record
    headers = bearer(sign_in(client, phone="0857-1234-5678"))
    assert client.patch(f"{V}/me", json={"status": "approved"}, headers=headers).status_code == 422

    assert client.delete(f"{V}/me", headers=headers).status_code == 204
    assert client.get(f"{V}/me", headers=headers).status_code == 401  # every token of the account ends
    assert sign_in(client, email="dewi@contoh.id").status_code == 401
    kept = client.get(f"{V}/{made['id']}", headers=coordinator).json
    assert kept["status"] == "closed" and kept["phone"] is None and kept["email"] is None
    assert "Dewi" not in kept["name"]
    # The number is free again for a new sign-up.
    assert signup(phone="0857 1234 5678").status_code == 201


def test_asking_for_a_new_contact_tells_nobody_whose_it_is_and_is_limited(app, client, signup, social, make_user,
                                                                         monkeypatch):
    """The audit's probe: another person's email or phone answers exactly as a free one does; staff
    who confirm learn it is taken (409); asking is limited like a sign-up."""
    signup(phone="0813 1111 2222", email="lain@contoh.id")
    made = signup(phone="0812 3456 7890", email="dewi@contoh.id").json
    headers = bearer(sign_in(client, phone="0812 3456 7890"))

    def ask(**contact):
        answer = client.patch(f"{V}/me", json=contact, headers=headers)
        assert answer.status_code == 200, answer.json
        body = dict(answer.json)
        pending = body.pop("pending_contact")
        return body | {"pending_contact": {k: v for k, v in pending.items() if k != "requested_at"}}, pending

    staff, _ = make_user("coordinator")
    taken, _ = ask(email=staff.email)  # a staff address
    free, _ = ask(email="baru@contoh.id")
    assert {k: v for k, v in taken.items() if k != "version"} == {
        **{k: v for k, v in free.items() if k != "version"}, "pending_contact": {"phone": None, "email": staff.email}}
    assert ask(phone="0813 1111 2222")[1]["phone"] == "+6281311112222"  # another volunteer's: the same 200
    assert client.get(f"{V}/me", headers=headers).json["phone"] == "+6281234567890"
    assert client.post(f"{V}/{made['id']}/contact/confirm", headers=social).status_code == 409
    rejected = client.post(f"{V}/{made['id']}/contact/reject", headers=social)
    assert rejected.status_code == 200 and rejected.json["pending_contact"] is None
    assert client.post(f"{V}/{made['id']}/contact/reject", headers=headers).status_code == 403  # staff's to decide
    # limited like a sign-up, per address and per account; other changes are not counted
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "2 per hour")
    assert client.patch(f"{V}/me", json={"email": "a@contoh.id"}, headers=headers).status_code == 200
    assert client.patch(f"{V}/me", json={"email": "b@contoh.id"}, headers=headers).status_code == 200
    refused = client.patch(f"{V}/me", json={"email": "c@contoh.id"}, headers=headers)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert client.patch(f"{V}/me", json={"capacity": 2}, headers=headers).status_code == 200


def test_closing_an_account_erases_the_person_from_the_audit_trail(client, signup, social, coordinator):
    """UU PDP: the events stay (ids, actions, times), the name, phone, email and point go, and the
    events the volunteer made name them by their user id."""
    made = signup(email="dewi@contoh.id", latitude=-8.3541, longitude=114.1672).json
    headers = bearer(sign_in(client, phone="0812 3456 7890"))
    assert client.patch(f"{V}/me", json={"phone": "0857 1234 5678", "capacity": 2}, headers=headers).status_code == 200
    assert client.post(f"{V}/{made['id']}/contact/confirm", headers=social).status_code == 200
    headers = bearer(sign_in(client, phone="0857 1234 5678"))
    user_id = client.get("/api/v1/me", headers=headers).json["id"]

    def trail():
        events = []
        for entity, entity_id in (("volunteer", made["id"]), ("user", user_id)):
            events += client.get("/api/v1/audit", query_string={"entity": entity, "entity_id": entity_id,
                                                                "per_page": 100}, headers=coordinator).json["items"]
        return events

    before = trail()
    assert "Dewi" in str(before) and "6285712345678" in str(before)  # the trail held them
    assert client.delete(f"{V}/me", headers=headers).status_code == 204
    after = trail()
    assert {e["id"] for e in before} <= {e["id"] for e in after}  # every event stays
    text = str(after) + str(client.get("/api/v1/audit", query_string={"per_page": 100}, headers=coordinator).json)
    for personal in ("Dewi", "Lestari", "6281234567890", "6285712345678", "dewi@contoh.id", "-8.3541", "114.1672"):
        assert personal not in text, personal
    mine = [e for e in after if e["actor_id"] == user_id]
    assert mine and {e["actor"] for e in mine} == {f"user {user_id}"}
