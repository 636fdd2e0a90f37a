"""The service when its database goes away, restarts, or (SQLite) is held by another writer: 503
with Retry-After while it cannot be reached, never a 500; the first request after a restart
succeeds; the job runner waits for the database and then does what it missed.

The database going away is a private PostgreSQL database behind a TCP proxy that the test cuts
(its port closes and every connection through it drops) and restores, on both test engines."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
import uuid

import psycopg
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from blueprints import create_web_app
from service.accounts import service as accounts
from service.db import default_region
from service.deliveries.models import DeliveryDay
from service.extensions import db
from service.scheduler import jobs, runner
from tests.conftest import TEST_CONFIG, at_jakarta
from tests.proxy import Proxy

TODAY = dt.date.today()


def postgres_admin_url():
    """The local PostgreSQL server (the one TEST_DATABASE_URL names, when it names one)."""
    url = make_url(os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres")
    if url.get_backend_name() != "postgresql":
        url = make_url("postgresql://postgres@127.0.0.1:5432/postgres")
    return url.set(drivername="postgresql", database="postgres")


def make_app(url: str, **config):
    app = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    return app


def signed_in(app) -> dict:
    with app.app_context():
        user = accounts.create_user(email="office@rantang.example", password="password-1", name="Office",
                                    role="coordinator")
        token, _ = accounts.issue_token(user.email, "password-1")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def close(app) -> None:
    app.extensions["rantang_callers"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def behind_proxy(monkeypatch):
    """An app on a PostgreSQL database of its own reached through a ``Proxy``: (app, proxy)."""
    admin = postgres_admin_url()
    name = f"rantang_away_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    proxy = Proxy((admin.host or "127.0.0.1", admin.port or 5432))
    url = admin.set(drivername="postgresql+psycopg", host="127.0.0.1", port=proxy.port, database=name)
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    app = make_app(url.render_as_string(hide_password=False), READS_WITHOUT_TRANSACTION=True,
                   SCHEDULER_DATABASE_RETRY_SECONDS=0.2)
    try:
        yield app, proxy
    finally:
        proxy.restore() if not _listening(proxy) else None
        close(app)
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _listening(proxy: Proxy) -> bool:
    return proxy._listener.fileno() != -1


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" and response.json["status"] == 503
    assert 0 < int(response.headers["Retry-After"]) <= 5  # the rate limiter may restate it


def test_while_the_database_is_away_every_request_gets_503_then_it_serves_again(behind_proxy):
    app, proxy = behind_proxy
    office = signed_in(app)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=office).status_code == 200
    proxy.cut()
    assert_unavailable(client.get("/api/v1/me", headers=office))
    assert_unavailable(client.get("/api/v1/areas"))  # public, and a read in autocommit
    assert_unavailable(client.post("/api/v1/auth/token", json={"email": "office@rantang.example",
                                                               "password": "password-1"}))
    assert_unavailable(client.patch("/api/v1/program", json={"min_age": 61}, headers=office))
    proxy.restore()
    assert client.get("/api/v1/me", headers=office).status_code == 200
    assert client.patch("/api/v1/program", json={"min_age": 61}, headers=office).status_code == 200


def test_the_first_requests_after_a_restart_while_idle_succeed(behind_proxy):
    """A restart closes every pooled connection while nobody uses them; each is replaced at its
    next checkout (without a round trip), so no request meets a dead one."""
    app, proxy = behind_proxy
    office = signed_in(app)
    client = app.test_client()
    with app.app_context():  # several connections in the pool, as a busy worker leaves them
        held = [db.engine.connect() for _ in range(3)]
        for connection in held:
            connection.exec_driver_sql("SELECT 1")
        for connection in held:
            connection.close()
    proxy.cut()
    proxy.restore()  # restarted while idle
    for _ in range(4):
        assert client.get("/api/v1/me", headers=office).status_code == 200
    assert client.post("/api/v1/auth/token", json={"email": "office@rantang.example",
                                                   "password": "password-1"}).status_code == 201


def test_the_job_runner_waits_for_the_database_and_then_does_what_it_missed(behind_proxy, monkeypatch):
    app, proxy = behind_proxy
    at_jakarta(monkeypatch, TODAY, hour=10)
    proxy.cut()
    started: list = []
    thread = threading.Thread(target=lambda: started.append(runner.start(app, BackgroundScheduler)), daemon=True)
    thread.start()
    time.sleep(1)
    assert thread.is_alive() and not started  # waiting for the database, not gone
    proxy.restore()
    thread.join(timeout=30)
    [scheduler] = started
    try:
        assert scheduler.running
        with app.app_context():
            assert db.session.get(DeliveryDay, (default_region(), TODAY)).scheduled_at is not None  # its catch-up ran
        # The cut-off passes while the database is away: the job is missed, then done once it answers.
        at_jakarta(monkeypatch, TODAY, hour=21, minute=5)
        proxy.cut()
        jobs.run_scheduled(app, "cutoff")  # as the runner calls it at 21:00: no exception escapes
        watch = scheduler.get_job("settings").func
        watch()  # the minute's check: still away, nothing done
        assert jobs.missed(app) == {("cutoff", default_region())}
        proxy.restore()
        watch()
        assert jobs.missed(app) == set()
        with app.app_context():
            assert db.session.get(DeliveryDay, (default_region(), TODAY)).closed_at is not None
            tomorrow = (default_region(), TODAY + dt.timedelta(days=1))
            assert db.session.get(DeliveryDay, tomorrow).scheduled_at is not None
    finally:
        scheduler.shutdown(wait=False)


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    path = tmp_path / "busy.db"
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    app = make_app(f"sqlite:///{path}", SQLITE_BUSY_TIMEOUT=1.0, READS_WITHOUT_TRANSACTION=True)
    yield app, path
    close(app)


def test_on_sqlite_a_writer_waits_for_another_then_gets_503_never_a_500(sqlite_app):
    app, path = sqlite_app
    office = signed_in(app)
    client = app.test_client()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # another process, writing
    try:
        other.execute("BEGIN IMMEDIATE")
        threading.Timer(0.3, other.execute, args=("COMMIT",)).start()
        assert client.patch("/api/v1/program", json={"min_age": 61}, headers=office).status_code == 200  # waited
        other.execute("BEGIN IMMEDIATE")  # and now it holds the lock past the timeout
        assert_unavailable(client.patch("/api/v1/program", json={"min_age": 62}, headers=office))
        assert client.get("/api/v1/program", headers=office).json["min_age"] == 61  # reads go on beside it
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert client.patch("/api/v1/program", json={"min_age": 62}, headers=office).status_code == 200


def test_on_sqlite_writers_under_load_take_turns_and_none_is_refused(sqlite_app):
    """Requests that read (the caller) and then write, from many threads at once: each waits its
    turn for the write lock; none is told "database is locked"."""
    app, _ = sqlite_app
    office = signed_in(app)
    codes: list[int] = []

    def write(n: int) -> None:
        client = app.test_client()
        for k in range(8):
            codes.append(client.post("/api/v1/agencies", json={"name": f"Sekolah {n}-{k}", "code": f"S{n}-{k}",
                                                               "kind": "education"}, headers=office).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [201] * 48
