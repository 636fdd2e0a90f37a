from dataclasses import fields

from service.extensions import db
from service.program.models import Program, Region
from service.program.service import REGION_SETTINGS, Settings


def test_coordinator_creates_agencies_and_users(client, coordinator, cli):
    response = client.post("/api/v1/agencies", json={"name": "Dinas Sosial", "code": "DINSOS", "kind": "social"},
                           headers=coordinator)
    assert response.status_code == 201
    agency_id = response.json["id"]
    dup = client.post("/api/v1/agencies", json={"name": "Other", "code": "DINSOS", "kind": "data"}, headers=coordinator)
    assert dup.status_code == 409 and dup.json["existing_id"] == agency_id

    user = {"email": "Staff@Dinsos.example", "password": "long-enough", "name": "Staff",
            "role": "agency", "agency_id": agency_id}
    response = client.post("/api/v1/users", json=user, headers=coordinator)
    assert response.status_code == 201
    assert response.json["email"] == "staff@dinsos.example" and "password" not in response.json
    assert client.post("/api/v1/users", json=user, headers=coordinator).status_code == 409
    listed = client.get(f"/api/v1/users?agency_id={agency_id}", headers=coordinator).json
    assert [u["email"] for u in listed["items"]] == ["staff@dinsos.example"]


def test_user_role_bindings_are_checked(client, coordinator):
    cases = [
        ({"role": "agency"}, "agency_id"),
        ({"role": "agency", "agency_id": 999999}, "agency_id"),
        ({"role": "vendor"}, "vendor_id"),
        ({"role": "coordinator", "volunteer_id": 3}, "volunteer_id"),
        ({"role": "king"}, "role"),
        ({"role": "coordinator", "agency_id": "1"}, "agency_id"),
    ]
    for extra, field in cases:
        body = {"email": "x@rantang.example", "password": "long-enough", "name": "X", **extra}
        response = client.post("/api/v1/users", json=body, headers=coordinator)
        assert response.status_code == 422, (extra, response.json)
        assert field in response.json["errors"], (extra, response.json)


def test_only_the_coordinator_manages_agencies_and_users(client, make_user):
    for role, kind in (("agency", "social"), ("vendor", None), ("volunteer", None)):
        _, headers = make_user(role, kind)
        assert client.post("/api/v1/agencies", json={"name": "A", "code": "AA", "kind": "data"},
                           headers=headers).status_code == 403
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        # A volunteer sees their own record only (issue 15): not the agencies.
        assert client.get("/api/v1/agencies", headers=headers).status_code == (403 if role == "volunteer" else 200)


def test_cli_bootstraps_a_coordinator(cli, client):
    result = cli.invoke(args=["users", "create", "--role", "coordinator", "--email", "boss@rantang.example",
                              "--password", "very-secret", "--name", "Boss"])
    assert result.exit_code == 0, result.output
    token = client.post("/api/v1/auth/token", json={"email": "boss@rantang.example", "password": "very-secret"})
    assert token.status_code == 201 and token.json["user"]["role"] == "coordinator"
    again = cli.invoke(args=["users", "create", "--role", "coordinator", "--email", "boss@rantang.example",
                             "--password", "very-secret"])
    assert again.exit_code != 0 and "exists" in again.output


def test_program_settings_patch_with_if_match(client, coordinator, social):
    program = client.get("/api/v1/program", headers=social).json
    assert program["meal_slots"] == ["lunch", "dinner"] and program["schedule_time"] == "18:00"
    version = program["version"]
    response = client.patch("/api/v1/program", json={"min_age": 65, "schedule_time": "17:30"},
                            headers={**coordinator, "If-Match": f'"{version}"'})
    assert response.status_code == 200
    assert response.json["min_age"] == 65 and response.json["version"] == version + 1
    stale = client.patch("/api/v1/program", json={"min_age": 70}, headers={**coordinator, "If-Match": str(version)})
    assert stale.status_code == 412
    assert client.patch("/api/v1/program", json={"timezone": "Mars/Olympus"}, headers=coordinator).status_code == 422
    assert client.patch("/api/v1/program", json={"min_age": 70}, headers=social).status_code == 403


def test_areas(client, coordinator, areas):
    villages = client.get(f"/api/v1/areas?kind=village&parent_id={areas['genteng'].id}").json
    assert [v["name"] for v in villages["items"]] == ["Kaliasin", "Kembiritan"]
    bad = client.post("/api/v1/areas", json={"name": "X", "kind": "village", "latitude": -8.3, "longitude": 114.1},
                      headers=coordinator)
    assert bad.status_code == 422 and "parent_id" in bad.json["errors"]
    made = client.post("/api/v1/areas", json={"name": "Gambiran", "kind": "district", "latitude": -8.3,
                                               "longitude": 114.1, "code": "35.10.07"}, headers=coordinator)
    assert made.status_code == 201
    assert client.get(f"/api/v1/areas/{made.json['id']}").json["code"] == "35.10.07"
    assert client.get("/api/v1/areas/999999").status_code == 404


def test_the_settings_copy_holds_every_setting():
    """``program.settings()`` is what the code reads: a column added to the program must be in it."""
    assert {f.name for f in fields(Settings)} - {"region_code"} == {c.key for c in Program.__table__.columns} - {"id"}
    # and what a region may set for itself is a setting, as the region's row names it
    assert set(REGION_SETTINGS) <= {f.name for f in fields(Settings)} & {c.key for c in Region.__table__.columns}


def test_new_passwords_are_long_uncommon_and_not_the_email(client, coordinator, cli):
    cases = {"short-1": "at least 10 characters", "password123": "most common", "1234567890": "most common",
             "Banyuwangi123": "most common", "sri.wahyuni-2026": "email", " " * 12: "different characters",
             "ab" * 6: "different characters"}
    for password, says in cases.items():
        body = {"email": "sri.wahyuni@dinsos.example", "password": password, "name": "Sri", "role": "coordinator"}
        response = client.post("/api/v1/users", json=body, headers=coordinator)
        assert response.status_code == 422, password
        assert says in " ".join(response.json["errors"]["password"]), (password, response.json)
    weak = cli.invoke(args=["users", "create", "--role", "coordinator", "--email", "boss@rantang.example",
                            "--password", "qwertyuiop"])
    assert weak.exit_code != 0 and "most common" in weak.output


def test_a_user_changes_their_password_and_is_signed_out_elsewhere(client, make_user):
    user, phone = make_user("agency", "health")
    laptop = {"Authorization": "Bearer " + client.post("/api/v1/auth/token", json={
        "email": user.email, "password": "password-1"}).json["token"]}
    wrong = client.post("/api/v1/me/password", json={"old_password": "guess", "new_password": "gudeg-jogja-77"},
                        headers=laptop)
    assert wrong.status_code == 422 and "old_password" in wrong.json["errors"]
    weak = client.post("/api/v1/me/password", json={"old_password": "password-1", "new_password": "password12"},
                       headers=laptop)
    assert weak.status_code == 422 and "new_password" in weak.json["errors"]
    changed = client.post("/api/v1/me/password", json={"old_password": "password-1", "new_password": "gudeg-jogja-77"},
                          headers=laptop)
    assert changed.status_code == 200 and changed.json == {"revoked": 1}
    assert client.get("/api/v1/me", headers=laptop).status_code == 200  # the token in use keeps working
    assert client.get("/api/v1/me", headers=phone).status_code == 401  # the other one is signed out
    sign_in = lambda password: client.post("/api/v1/auth/token", json={"email": user.email, "password": password})  # noqa: E731
    assert sign_in("password-1").status_code == 401 and sign_in("gudeg-jogja-77").status_code == 201
    assert client.post("/api/v1/me/password", json={"old_password": "x", "new_password": "y"}).status_code == 401


def test_someone_who_left_is_deactivated_and_no_old_token_comes_back(client, coordinator, make_user):
    user, headers = make_user("agency", "education")
    me = client.get("/api/v1/me", headers=coordinator).json
    path = f"/api/v1/users/{user.id}"
    gone = client.patch(path, json={"active": False}, headers={**coordinator, "If-Match": '"1"'})
    assert gone.status_code == 200, gone.json
    assert (gone.json["active"], gone.json["version"]) == (False, 2)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    sign_in = lambda: client.post("/api/v1/auth/token", json={"email": user.email, "password": "password-1"})  # noqa: E731
    assert sign_in().status_code == 401
    back = client.patch(path, json={"active": True, "name": "  Bu Guru  "}, headers=coordinator)
    assert back.status_code == 200 and back.json["name"] == "Bu Guru"
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # the old token stays revoked
    assert sign_in().status_code == 201
    other_agency = client.post("/api/v1/agencies", json={"name": "SMA 2", "code": "SMA2", "kind": "education"},
                               headers=coordinator).json["id"]
    moved = client.patch(path, json={"agency_id": other_agency}, headers=coordinator)
    assert moved.status_code == 200 and moved.json["agency_id"] == other_agency

    assert client.patch(path, json={"active": False}, headers={**coordinator, "If-Match": '"1"'}).status_code == 412
    assert client.patch(f"/api/v1/users/{me['id']}", json={"active": False}, headers=coordinator).status_code == 409
    assert client.patch(f"/api/v1/users/{me['id']}", json={"agency_id": other_agency},
                        headers=coordinator).status_code == 422
    assert client.patch(path, json={"agency_id": 999999}, headers=coordinator).status_code == 422
    assert client.patch(path, json={"role": "coordinator"}, headers=coordinator).status_code == 422
    assert client.patch("/api/v1/users/999999", json={"active": False}, headers=coordinator).status_code == 404
    assert client.patch(path, json={"active": False}, headers=headers).status_code == 401
    staff = make_user("agency", "social")[1]
    assert client.patch(path, json={"active": False}, headers=staff).status_code == 403


def test_after_a_change_of_the_settings_the_same_request_reads_the_new_ones(app):
    """A request's authentication notes the settings' stamp; a change later in the same request (or
    job) must not leave the rest of it reading the old copy."""
    from service.program import service as program_service
    from service.program.service import SEEN_STAMP, settings

    before = settings()
    db.session.info[SEEN_STAMP] = before.stamp  # as authentication leaves it
    assert settings() is before
    program_service.update_program({"min_age": before.min_age + 5})
    assert settings().min_age == before.min_age + 5
    program_service.update_program({"visit_interval_days": 14})
    assert (settings().min_age, settings().visit_interval_days) == (before.min_age + 5, 14)
