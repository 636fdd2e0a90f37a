"""Each process remembers who a token belongs to (service/accounts/callers.py), and forgets it as
soon as anything that answer depends on changes, whoever changes it. PostgreSQL sends the notices;
on SQLite nothing is remembered."""
import datetime as dt
import os
import time

import pytest
from sqlalchemy import create_engine, event, update

from blueprints import create_web_app
from service.accounts import service as accounts
from service.accounts.callers import CallerCache
from service.accounts.models import ApiToken, User
from service.extensions import db
from tests.conftest import TEST_CONFIG


def eventually(check, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def signed_in(own_app):
    """Two users of the own app, each with a token, committed: (headers, user id) for each."""
    with own_app.app_context():
        out = []
        for n in (1, 2):
            user = accounts.create_user(email=f"petugas{n}@rantang.example", password="password-1",
                                        name="Petugas", role="coordinator")
            token, _ = accounts.issue_token(user.email, "password-1")
            db.session.commit()
            out.append(({"Authorization": f"Bearer {token}"}, user.id))
        listening = own_app.extensions["rantang_callers"].wait_listening(timeout=10)
        postgres = db.engine.dialect.name == "postgresql"
    assert listening == postgres  # SQLite cannot notify: nothing is remembered there
    return out


def caller_queries(app, client, headers) -> int:
    """How many queries about the caller one request made."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        if "api_tokens" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_caller_is_remembered_until_another_process_changes_what_it_depends_on(own_app, signed_in):
    client = own_app.test_client()
    (first, first_id), (second, second_id) = signed_in
    with own_app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        url = db.engine.url
    assert caller_queries(own_app, client, first) == 1
    assert caller_queries(own_app, client, first) == (0 if postgres else 1)  # remembered, on PostgreSQL

    # Another process (an operator in psql, another worker) revokes the first token and
    # deactivates the second user, each in a transaction of its own.
    other = create_engine(url)
    try:
        assert client.get("/api/v1/me", headers=second).status_code == 200  # remembered too
        with other.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.user_id == first_id)
                         .values(revoked_at=dt.datetime.now(dt.UTC)))
        assert eventually(lambda: client.get("/api/v1/me", headers=first).status_code == 401)
        assert client.get("/api/v1/me", headers=second).status_code == 200
        with other.begin() as conn:
            conn.execute(update(User).where(User.id == second_id).values(active=False))
        assert eventually(lambda: client.get("/api/v1/me", headers=second).status_code == 401)
    finally:
        other.dispose()


def test_a_change_made_by_this_process_is_forgotten_at_its_commit(own_app, signed_in):
    client = own_app.test_client()
    (first, first_id), _ = signed_in
    assert client.get("/api/v1/me", headers=first).status_code == 200
    response = client.post(f"/api/v1/users/{first_id}/revoke-tokens", headers=first)
    assert response.status_code == 200 and response.json == {"revoked": 1}
    # no waiting for the notice: the next request of this process asks the database
    assert client.get("/api/v1/me", headers=first).status_code == 401
    # an UPDATE statement (not an ORM flush) is forgotten at commit too, notice or not (SQLite has none)
    with own_app.app_context():
        remembered = own_app.extensions["rantang_callers"]
        before = remembered.generation
        db.session.execute(update(User).where(User.id == first_id).values(name="Petugas Baru"))
        db.session.commit()
        assert remembered.generation > before


def test_what_was_read_before_a_change_is_not_kept():
    cache = CallerCache(ttl=60)
    cache.listening = True  # as if its listener were connected
    before = cache.generation
    cache.forget()  # a notice arrives while a request is reading the database
    cache.put("token", "what the request read", before)
    assert cache.get("token") is None
    cache.put("token", "read after the notice", cache.generation)
    assert cache.get("token") == "read after the notice"
    cache.listening = False  # the listener lost its connection: nothing is trusted
    assert cache.get("token") is None


def test_nothing_is_kept_longer_than_its_time():
    cache = CallerCache(ttl=0.05)
    cache.listening = True
    cache.put("token", "caller", cache.generation)
    assert cache.get("token") == "caller"
    time.sleep(0.06)
    assert cache.get("token") is None


def test_a_forked_worker_listens_for_itself():
    """gunicorn forks its workers: a worker must not trust its parent's listener or memory."""
    def no_database():
        raise OSError("no database in this test")

    cache = CallerCache(ttl=60, connect=no_database)
    cache._pid = -1  # as if the parent had started it
    cache.listening = True
    cache._entries["token"] = (time.monotonic() + 60, "the parent's caller")
    assert cache.get("token") is None  # this process is not listening yet, and starts empty
    assert cache._pid == os.getpid() and not cache._entries
    cache.stop()


def test_a_revocation_holds_in_every_process_when_its_answer_comes(own_database, own_app, signed_in):
    """Two web processes of one database (two apps, each with its own memory and listener): a token
    the second remembers is refused by it as soon as the first has answered the revocation, every
    time; and so is a deactivated user's."""
    other = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": own_database})
    try:
        other.extensions["rantang_callers"].wait_listening(timeout=10)
        here, there = own_app.test_client(), other.test_client()
        (coordinator, _), _ = signed_in
        with own_app.app_context():
            user = accounts.create_user(email="petugas9@rantang.example", password="password-1", name="Petugas",
                                        role="coordinator")
            db.session.commit()
        refused = 0
        for _ in range(100):
            token = here.post("/api/v1/auth/token", json={"email": "petugas9@rantang.example",
                                                          "password": "password-1"}).json["token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert there.get("/api/v1/me", headers=headers).status_code == 200  # remembered there
            assert there.get("/api/v1/me", headers=headers).status_code == 200
            assert here.delete("/api/v1/auth/token", headers=headers).status_code == 204
            refused += there.get("/api/v1/me", headers=headers).status_code == 401
        assert refused == 100
        assert there.get("/api/v1/me", headers=coordinator).status_code == 200
        token = here.post("/api/v1/auth/token", json={"email": "petugas9@rantang.example",
                                                      "password": "password-1"}).json["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert there.get("/api/v1/me", headers=headers).status_code == 200
        assert here.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=coordinator).status_code == 200
        assert there.get("/api/v1/me", headers=headers).status_code == 401
    finally:
        other.extensions["rantang_callers"].stop()
        with other.app_context():
            db.engine.dispose()


def test_a_change_to_the_callers_region_is_noticed_too(own_app, signed_in):
    """What authentication reads includes the caller's region's stamp (its settings, its clock):
    a region changed by another process (its cut-off, say) is forgotten as a user would be."""
    from service.db import default_region
    from service.program.models import Region

    client = own_app.test_client()
    (first, _), _ = signed_in
    with own_app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        url = db.engine.url
    assert caller_queries(own_app, client, first) == 1
    assert caller_queries(own_app, client, first) == (0 if postgres else 1)
    other = create_engine(url)
    try:
        with other.begin() as conn:
            conn.execute(update(Region).where(Region.code == default_region())
                         .values(delivery_cutoff=dt.time(20, 0), version=Region.version + 1))
    finally:
        other.dispose()
    assert eventually(lambda: caller_queries(own_app, client, first) == 1)
