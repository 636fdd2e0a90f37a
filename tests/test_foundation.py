"""The app as a whole: configuration, errors, the permission table, the OpenAPI document."""
import re

import pytest

from blueprints import access, create_web_app
from service.app import create_app


def test_every_route_declares_who_may_call_it(app):
    undeclared = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(access.PERMISSIONS))
    assert undeclared == [], f"routes missing from blueprints/access.py PERMISSIONS: {undeclared}"


def test_the_permission_table_names_no_route_that_does_not_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(set(access.PERMISSIONS) - endpoints) == []


def test_unknown_route_is_a_problem_document(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404 and response.json["title"] == "Not Found"


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_openapi_document_lists_every_route_with_its_permission(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("api-docs.", "docs.")):  # the documentation itself
            continue
        if not rule.rule.startswith("/api/"):  # the pages (HTML, README "Pages"), still in the permission table
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, path
    create = paths["/api/v1/recipients"]["post"]
    assert "agency:social" in create["description"]
    assert paths["/api/v1/auth/token"]["post"]["security"] == []
    assert "Problem" in spec["components"]["schemas"]


def test_the_docs_page_is_served_from_here_under_a_strict_policy(client):
    """A kabupaten office without internet still has its API docs: every script and style the page
    names is served by the service itself, and the page has no inline script."""
    import re

    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in html and "http" not in html.replace("http-equiv", "")  # nothing from elsewhere
    names = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/api/v1/docs/assets/swagger-ui-bundle.js", "/api/v1/docs/assets/docs.js",
            "/api/v1/docs/assets/swagger-ui.css"} <= set(names)
    for name in names:
        asset = client.get(name)
        assert asset.status_code == 200 and len(asset.data) > 100, name
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        asset.close()
    start = client.get("/api/v1/docs/assets/docs.js")
    assert b"SwaggerUIBundle" in start.data and start.mimetype in ("text/javascript", "application/javascript")
    start.close()
    assert 'data-spec="/api/v1/openapi.json"' in html
    assert client.get("/api/v1/docs/assets/../../../etc/passwd").status_code == 404


def test_every_answer_carries_the_safety_headers(app, client, make_user, monkeypatch):
    """nosniff everywhere; no-store on every answer that did not say it may be cached (personal
    data, tokens, errors alike); HSTS only in production, where TLS is in front."""
    user, headers = make_user("agency", "social")
    answers = [client.get("/api/v1/me", headers=headers), client.get("/api/v1/recipients", headers=headers),
               client.post("/api/v1/auth/token", json={"email": user.email, "password": "password-1"}),
               client.get("/api/v1/recipients/999999", headers=headers), client.get("/api/v1/nowhere"),
               client.get("/api/v1/openapi.json")]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.request.path
        assert answer.headers["Cache-Control"] == "no-store", answer.request.path
        assert "Strict-Transport-Security" not in answer.headers
    monkeypatch.setitem(app.config, "ENV", "production")
    assert client.get("/api/v1/me", headers=headers).headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_refuses_the_default_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_web_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    app = create_app({"ENV": "production", "SECRET_KEY": "s3cret-from-a-vault",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["ENV"] == "production"


def test_settings_come_from_prefixed_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("RANTANG_TOKEN_TTL_HOURS", "12")
    monkeypatch.setenv("RANTANG_GEOCODER_REGION", "Jember, Jawa Timur, Indonesia")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db.internal:5432/rantang")
    app = create_app()
    assert app.config["TOKEN_TTL_HOURS"] == 12
    assert app.config["GEOCODER_REGION"] == "Jember, Jawa Timur, Indonesia"
    # the usual URL form is read as psycopg 3, the driver the service ships with
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@db.internal:5432/rantang"


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_web_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/rantang.db"


def test_reads_run_without_a_transaction_and_writes_keep_theirs(app, monkeypatch):
    """With READS_WITHOUT_TRANSACTION (the default), a GET on PostgreSQL runs in autocommit;
    the connection goes back to the pool in transactional mode, so the next write is atomic."""
    from sqlalchemy import text

    from service.extensions import db

    reads = create_web_app({**app.config, "READS_WITHOUT_TRANSACTION": True})
    # A session of the service's own kind, outside the test's rolled-back transaction: this
    # test reads, and its one write is refused before it writes anything.
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    client = reads.test_client()
    seen = []

    @reads.after_request
    def note_mode(response):
        seen.append(db.session.connection().get_execution_options().get("isolation_level"))
        return response

    assert client.get("/api/v1/areas?per_page=1").status_code == 200
    bad = client.post("/api/v1/areas", json={"name": "x"})  # a write: 401, but in a transaction
    assert bad.status_code == 401
    with reads.app_context():
        with db.engine.connect() as connection:
            assert connection.get_isolation_level() != "AUTOCOMMIT"
            assert connection.execute(text("SELECT 1")).scalar() == 1
        db.engine.dispose()
    on_postgres = reads.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert seen == ["AUTOCOMMIT" if on_postgres else None, None]


def test_an_unexpected_error_is_a_500_problem_without_internals(app, client, social, monkeypatch):
    from service.recipients import service

    def broken(recipient_id):
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(service, "get_recipient", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/api/v1/recipients/1", headers=social)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)
    assert response.json["detail"] == "Something went wrong on our side; it has been logged."


def test_editable_resources_send_an_etag_that_if_match_takes(client, coordinator, make_recipient, make_vendor):
    person = make_recipient()
    stall = make_vendor()
    for path, change in ((f"/api/v1/recipients/{person['id']}", {"address": "Dusun Krajan RT 03"}),
                         (f"/api/v1/vendors/{stall.id}", {"daily_capacity": 12}),
                         ("/api/v1/program", {"min_age": 61})):
        read = client.get(path, headers=coordinator)
        tag = read.headers["ETag"]
        assert tag == f'W/"{read.json["version"]}"', path
        changed = client.patch(path, json=change, headers={**coordinator, "If-Match": tag})
        assert changed.status_code == 200 and changed.headers["ETag"] == f'W/"{read.json["version"] + 1}"', path
        stale = client.patch(path, json=change, headers={**coordinator, "If-Match": tag})
        assert stale.status_code == 412, path


def test_every_operation_has_a_stable_unique_operation_id(client, app):
    """Generated clients name their functions by ``operationId`` (without one, ``post_api_v1_auth_token``):
    each operation has one, its view's name, and no two share one."""
    paths = client.get("/api/v1/openapi.json").json["paths"]
    ids = [(operation.get("operationId"), f"{method.upper()} {path}") for path, item in paths.items()
           for method, operation in item.items() if method in ("get", "put", "post", "patch", "delete")]
    assert len(ids) > 100
    assert [where for found, where in ids if not found] == []
    seen: dict[str, list[str]] = {}
    for found, where in ids:
        seen.setdefault(found, []).append(where)
    assert {found: where for found, where in seen.items() if len(where) > 1} == {}
    assert paths["/api/v1/auth/token"]["post"]["operationId"] == "issue_token"
    assert paths["/api/v1/complaints/{code}"]["get"]["operationId"] == "read_complaint"
    assert paths["/api/v1/complaints/by-id/{complaint_id}"]["get"]["operationId"] == "get_complaint"
    # derived from the route's endpoint (its view's name), not from the order of registration
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods & {"GET", "PUT", "POST", "PATCH", "DELETE"}:
            if path in paths:
                assert paths[path][method.lower()]["operationId"] == rule.endpoint.rpartition(".")[2]


def test_no_two_paths_have_the_same_shape(client):
    """OpenAPI 3: "templated paths with the same hierarchy but different templated names MUST NOT
    exist" (``/complaints/{code}`` beside ``/complaints/{complaint_id}`` was one)."""
    shapes: dict[str, list[str]] = {}
    for path in client.get("/api/v1/openapi.json").json["paths"]:
        shapes.setdefault(re.sub(r"\{[^}/]*\}", "{}", path), []).append(path)
    assert {shape: found for shape, found in shapes.items() if len(found) > 1} == {}
