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
        assert response.json["detail"] == "wrong email or password"


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
    stored.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
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
