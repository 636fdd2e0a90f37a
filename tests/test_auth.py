import datetime as dt

from sqlalchemy import select

from service.accounts.models import ApiToken
from service.extensions import db


def test_a_token_for_good_credentials(client, make_user):
    user, _ = make_user("agency", "social")
    response = client.post("/api/v1/auth/token", json={"email": user.email.upper(), "password": "password-1"})
    assert response.status_code == 201
    body = response.json
    assert body["user"] == {**body["user"], "id": user.id, "role": "agency", "agency_id": user.agency_id,
                            "agency_kind": "social", "vendor_id": None, "volunteer_id": None}
    assert dt.datetime.fromisoformat(body["expires_at"]).tzinfo is not None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json["email"] == user.email
    # only a hash of the token is stored
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert body["token"] not in stored and len(stored[-1]) == 64


def test_bad_credentials_are_401_problems(client, make_user):
    user, _ = make_user()
    for body in ({"email": user.email, "password": "wrong-password"},
                 {"email": "nobody@rantang.example", "password": "password-1"}):
        response = client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.json["detail"] == "wrong email, phone or password"


def test_routes_need_a_valid_bearer_token(client, coordinator):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_revoked_and_expired_tokens_are_refused(client, make_user):
    user, headers = make_user()
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    token = client.post("/api/v1/auth/token", json={"email": user.email, "password": "password-1"}).json["token"]
    stored = db.session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))).one()
    stored.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json["detail"]


def test_coordinator_signs_a_user_out_everywhere(client, coordinator, make_user):
    user, headers = make_user("vendor")
    response = client.post(f"/api/v1/users/{user.id}/revoke-tokens", headers=coordinator)
    assert response.status_code == 200 and response.json == {"revoked": 1}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/users/999999/revoke-tokens", headers=coordinator).status_code == 404


def test_the_token_endpoint_is_rate_limited(app, client, make_user):
    user, _ = make_user()
    app.config["RATELIMIT_AUTH"] = "3 per minute"
    try:
        codes = [client.post("/api/v1/auth/token", json={"email": user.email, "password": "guess"}).status_code
                 for _ in range(4)]
    finally:
        app.config["RATELIMIT_AUTH"] = "1000 per minute"
    assert codes == [401, 401, 401, 429]


def test_malformed_json_is_400_and_unknown_fields_422(client):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    response = client.post("/api/v1/auth/token", json={"email": "a@b.example", "password": "x", "admin": True})
    assert response.status_code == 422
    assert response.json["errors"] == {"admin": ["Unknown field."]}


def test_an_unknown_email_costs_the_same_password_check_as_a_known_one(app, client, make_user, monkeypatch):
    """The answer's time must not tell who has an account: an unknown email is checked against a
    stand-in hashed the way real passwords are (here scrypt), not a cheap one."""
    from service.accounts import passwords

    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    user, _ = make_user()
    checked = []
    real = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda stored, given: checked.append(stored.split("$")[0]) or real(stored, given))
    db.session.get(type(user), user.id).password_hash = passwords.hashed("password-1")
    db.session.commit()
    for email in (user.email, "nobody@rantang.example"):
        assert client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-guess"}).status_code == 401
    assert [method.split(":")[0] for method in checked] == ["scrypt", "scrypt"]


def test_a_stale_or_bogus_token_is_ignored_where_no_token_is_needed(client, make_user):
    """An app holding an expired token can still sign in again, and read what is public."""
    user, headers = make_user()
    client.delete("/api/v1/auth/token", headers=headers)  # revoked now
    for stale in (headers, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        again = client.post("/api/v1/auth/token", json={"email": user.email, "password": "password-1"}, headers=stale)
        assert again.status_code == 201, again.json
        assert client.get("/api/v1/areas", headers=stale).status_code == 200
        assert client.get("/api/v1/openapi.json", headers=stale).status_code == 200
        assert client.get("/api/v1/docs", headers=stale).status_code == 200
        assert client.get("/api/v1/me", headers=stale).status_code == 401  # a route that needs one: refused


def test_guesses_are_slowed_per_account_but_strangers_cannot_lock_it_out(app, client, make_user, monkeypatch):
    """OWASP's advice: refused sign-ins count per account from one address, and per account from
    any address it has not signed in from lately; where the account signs in every day, the right
    password still works while strangers guess (before: 10 guesses from anywhere locked it for 15
    minutes, the right password answered 429). Only refused attempts count."""
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH_ACCOUNT", "3 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH_ACCOUNT_ANYWHERE", "4 per minute")
    target, other = make_user()[0], make_user()[0]

    def attempt(email, password, address):
        return client.post("/api/v1/auth/token", json={"email": email, "password": password},
                           environ_base={"REMOTE_ADDR": address}).status_code

    office = "192.0.2.50"
    assert attempt(target.email, "password-1", office) == 201  # the program office signs in from its office
    # one stranger, one address: locked out alone after three
    assert [attempt(target.email, "guess", "203.0.113.5") for _ in range(4)] == [401, 401, 401, 429]
    # strangers spread over many addresses: slowed once the account has had four refusals from anywhere
    codes = [attempt(target.email.upper(), "guess", f"198.51.100.{n}") for n in range(3)]
    assert codes == [401, 429, 429]
    assert attempt(target.email, "password-1", "198.51.100.9") == 429  # a new place waits too
    assert attempt(target.email, "password-1", office) == 201  # but the office is not locked out
    assert attempt(target.email, "guess", office) == 401
    assert attempt(other.email, "guess", "198.51.100.1") == 401  # another account: its own count
    assert [attempt(other.email, "password-1", "198.51.100.1") for _ in range(5)] == [201] * 5
    # no address is kept, only its keyed hash
    from service.accounts.models import SignInPlace
    places = db.session.scalars(select(SignInPlace.place)).all()
    assert places and not any("192.0.2" in p or "198.51" in p for p in places)


def test_the_client_address_comes_from_x_forwarded_for_only_behind_trusted_proxies(app, client, monkeypatch):
    from blueprints import create_web_app
    from tests.conftest import TEST_CONFIG

    def attempts(with_client, forwarded):
        return [with_client.post("/api/v1/auth/token", json={"email": "nobody@rantang.example", "password": "x"},
                                 headers={"X-Forwarded-For": f}).status_code for f in forwarded]

    # No proxy trusted (the default): the header is the client's own words, and changes nothing.
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH", "2 per minute")
    assert attempts(client, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [401, 401, 429]
    # One trusted proxy: the address it appended is the client's; what the client wrote before it is not.
    behind = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "TRUSTED_PROXIES": 1, "RATELIMIT_AUTH": "2 per minute"})
    try:
        proxied = behind.test_client()
        assert attempts(proxied, ["203.0.113.7", "1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7"]) == [401, 401, 429]
        assert attempts(proxied, ["203.0.113.8"]) == [401]
    finally:
        behind.extensions["rantang_callers"].stop()
        with behind.app_context():
            db.engine.dispose()


SIGN_IN_FROM_ANOTHER_PROCESS = """
import json, sys
from blueprints import create_web_app
client = create_web_app().test_client()
print(json.dumps([client.post("/api/v1/auth/token", json={"email": "nobody@rantang.example", "password": "x"},
                              environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code
                  for _ in range(int(sys.argv[1]))]))
"""


def test_the_sign_in_limit_is_shared_by_every_web_process_through_redis(app):
    """Two web processes (gunicorn's workers, two machines) count one client's attempts together
    when RANTANG_RATELIMIT_STORAGE_URI names a Redis: here two processes of their own."""
    import json
    import os
    import subprocess
    import sys
    import uuid

    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "RANTANG_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
           "RANTANG_RATELIMIT_KEY_PREFIX": f"rantang-test-{uuid.uuid4().hex}", "RANTANG_RATELIMIT_AUTH": "3 per minute"}

    def sign_in(times: int) -> list[int]:
        done = subprocess.run([sys.executable, "-c", SIGN_IN_FROM_ANOTHER_PROCESS, str(times)], env=env,
                              capture_output=True, text=True, timeout=60,
                              cwd=os.path.dirname(os.path.dirname(__file__)))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert sign_in(2) == [401, 401]
    assert sign_in(2) == [401, 429]  # the other process's attempts counted


def test_a_password_holds_neither_the_phone_nor_the_published_demo_password(client, make_user, areas):
    volunteer = {"name": "Dewi Lestari", "phone": "0812-3456-7890", "village_id": areas["Kaliasin"].id,
                 "skills": ["visit"], "accepts_code_of_conduct": True}
    for password in ("dewi081234567890", "+62 812 3456 7890 ok", "rantang-demo"):
        refused = client.post("/api/v1/volunteers", json={**volunteer, "password": password})
        assert refused.status_code == 422 and "password" in refused.json["errors"], password
    _, headers = make_user()
    changed = client.post("/api/v1/me/password", json={"old_password": "password-1", "new_password": "rantang-demo"},
                          headers=headers)
    assert changed.status_code == 422 and "published" in changed.json["errors"]["new_password"][0]
