"""Fixtures: one migrated database per run (SQLite, or TEST_DATABASE_URL), each test in a
transaction that is rolled back, and factories that return callables.

Languages: the tests read English. Every test client (of any app a test makes) sends
``Accept-Language: en`` unless the request gives its own header, and ``TEST_CONFIG`` sets the
program's default language (``LANGUAGE``, Indonesian in production) to English for what is put
into words outside a request (service calls, the CLI). tests/test_i18n.py reads Indonesian by
asking for it (``Accept-Language: id``, or the default set back to ``id``). Every problem answer
of the run is recorded (``blueprints.errors.RECORDERS``), read in Indonesian and in English from its
lazy messages: ``pytest_sessionfinish`` fails the run if one, in Indonesian, still holds English
words (``tests/english.py``) or reads as it does in English."""
from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
import uuid
from types import SimpleNamespace

import psycopg
import pytest
from flask import Flask, g, request_tearing_down
from flask.globals import _cv_request
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from blueprints import BLUEPRINTS, create_web_app
from blueprints.errors import RECORDERS
from blueprints.extensions import limiter
from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.database import BEGIN_DEFERRED
from service.db import on_citus
from service.demo.data import make_nik
from service.extensions import db
from service.i18n import force_locale, render
from service.program import clock
from service.program import service as program_service
from service.recipients import service as recipient_service
from service.vendors import service as vendor_service

SYSTEM = Scope.system("test")  # service calls a test makes as the program itself
TEST_CONFIG = {
    "TESTING": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashes: tests create many users
    "RATELIMIT_AUTH": "1000 per minute",
    "RATELIMIT_SIGNUP": "1000 per minute",
    "RATELIMIT_VOLUNTEER_MOVE": "1000 per minute",
    "RATELIMIT_COMPLAINT": "1000 per minute",
    "RATELIMIT_COMPLAINT_LOOKUP": "1000 per minute",
    "RATELIMIT_COMPLAINT_MISSES": "1000 per minute",
    "GEOCODER_TIMEOUT": 0.5,
    # Each test's data is rolled back: nothing may be remembered across tests (one test turns it on).
    "OPPORTUNITIES_CACHE_SECONDS": 0,
    "PUBLIC_STATS_CACHE_SECONDS": 0,
    # Each test runs in one outer transaction, which autocommit reads would break out of;
    # test_foundation covers them with an app of its own.
    "READS_WITHOUT_TRANSACTION": False,
    # The tests read English (see above); Indonesian is asked for where it is tested.
    "LANGUAGE": "en",
}


class EnglishClient(FlaskClient):
    """A test client that asks for English (``Accept-Language: en``) unless a request says otherwise."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


Flask.test_client_class = EnglishClient

# Every problem answer of the run, read in Indonesian when it was written (its messages are lazy, so
# an answer given in English is read again in Indonesian): at the end, none may hold English.
SAID_IN_INDONESIAN: dict[str, str] = {}


# Those that read the same in English: a message nobody translated, whatever words it uses.
SAID_ALIKE: dict[str, str] = {}


def _record_problem(body: dict) -> None:
    from tests.english import messages_of
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    with force_locale("id"):
        said = messages_of(render(body))
    with force_locale("en"):
        english = messages_of(render(body))
    for message, in_english in zip(said, english, strict=True):
        if message == in_english:
            SAID_ALIKE.setdefault(message, test)
        # The fuzz test's values are random text, whose words may be English ones by chance: its
        # answers are only checked for reading the same in both languages.
        if "test_fuzz.py" not in test:
            SAID_IN_INDONESIAN.setdefault(message, test)


RECORDERS.append(_record_problem)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run when a problem answer, read in Indonesian, still holds an English sentence, or
    reads as it does in English."""
    from tests.english import english_words
    offenders = {message: test for message, test in SAID_IN_INDONESIAN.items() if english_words(message)}
    if not offenders and not SAID_ALIKE:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(offenders)} problem message(s) of {len(SAID_IN_INDONESIAN)} still English when read in "
             "Indonesian (tests/english.py):"]
    lines += [f"  {message!r}  ({', '.join(english_words(message))}; {test})"
              for message, test in sorted(offenders.items())]
    if SAID_ALIKE:
        lines += [f"{len(SAID_ALIKE)} read the same in Indonesian and English (not translated):"]
        lines += [f"  {message!r}  ({test})" for message, test in sorted(SAID_ALIKE.items())]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line("\n".join(lines), red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def drop_everything() -> None:
    """An empty database: on PostgreSQL the public schema is made anew; on Citus, whose extension
    keeps views there, its tables are dropped one by one."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            if on_citus(conn):
                tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
                for table in tables.all():
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
                conn.execute(text("DROP FUNCTION IF EXISTS rantang_callers_changed() CASCADE"))
                return
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.metadata.drop_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory)},
                     blueprints=BLUEPRINTS)
    with app.app_context():
        drop_everything()
        # The schema comes from the migrations, through the command an operator runs.
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    # On PostgreSQL, requests remember callers once the process listens for changes: from the
    # first test on, so that every test meets what production does.
    app.extensions["rantang_callers"].wait_listening(timeout=10)
    yield app
    app.extensions["rantang_callers"].stop()
    with app.app_context():
        db.engine.dispose()  # close the pool's connections, not leave them to the garbage collector


def _request_or_app_ctx_id() -> int:
    """A session per request, as in production: the test's app context is still active while the
    test client serves a request (Flask reuses it), so keying on it alone would give every request
    of a test one session, and with it whatever the previous request left in the identity map."""
    request_ctx = _cv_request.get(None)
    return id(request_ctx) if request_ctx is not None else _app_ctx_id()


@request_tearing_down.connect
def _end_request_session(sender, **extra) -> None:
    db.session.remove()
    # Each test's app context outlives its requests (a real server's does not): what Flask-WTF and
    # Flask-Babel keep in ``g`` for one request (the CSRF token, the language) must not reach the next.
    g.pop("csrf_token", None)
    g.pop("_flask_babel", None)


@pytest.fixture(autouse=True)
def transaction(app):
    """Each test runs inside one outer transaction, rolled back at its end; commits in the code
    under test release savepoints."""
    with app.app_context():
        # Deferred on SQLite, as before transactions took the write lock at once: other
        # processes a test starts may write while the test has not.
        connection = db.engine.connect().execution_options(**{BEGIN_DEFERRED: True})
        outer = connection.begin()
        original = db.session
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False, class_=Session)
        db.session = scoped_session(factory, scopefunc=_request_or_app_ctx_id)
        limiter.reset()
        try:
            yield connection
        finally:
            app.extensions["rantang_callers"].forget()  # what the rolled-back test changed is gone
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def statements(transaction):
    """``with statements() as seen:`` the (SQL, parameters) run inside the block (parameters are a
    list for an executemany)."""

    class Capture:
        def __enter__(self):
            self.seen: list[tuple[str, object]] = []
            event.listen(transaction, "before_cursor_execute", self.before)
            return self.seen

        def before(self, conn, cursor, statement, parameters, *args):
            self.seen.append((statement, parameters))

        def __exit__(self, *exc):
            event.remove(transaction, "before_cursor_execute", self.before)

    return Capture


@pytest.fixture
def query_count(transaction):
    """``with query_count() as statements:`` lists the SQL statements run inside the block."""

    class Counter:
        def __enter__(self):
            self.statements: list[str] = []
            event.listen(transaction, "before_cursor_execute", self.before)
            return self.statements

        def before(self, conn, cursor, statement, *args):
            if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                self.statements.append(statement)

        def __exit__(self, *exc):
            event.remove(transaction, "before_cursor_execute", self.before)

    return Counter


@pytest.fixture
def areas():
    """Two real districts of Banyuwangi and some of their villages (GeoNames coordinates)."""
    genteng = program_service.create_area("Genteng", "district", -8.3662, 114.1526, code="35.10.09")
    muncar = program_service.create_area("Muncar", "district", -8.4344, 114.3331, code="35.10.05")
    villages = {
        "Kaliasin": program_service.create_area("Kaliasin", "village", -8.3538, 114.1668, genteng.id, "35.10.09.2001"),
        "Kembiritan": program_service.create_area("Kembiritan", "village", -8.3906, 114.1514, genteng.id,
                                                  "35.10.09.2002"),
        "Tembokrejo": program_service.create_area("Tembokrejo", "village", -8.4367, 114.3226, muncar.id,
                                                  "35.10.05.2001"),
    }
    db.session.commit()
    return {"genteng": genteng, "muncar": muncar, **villages}


_serial = itertools.count(1)


def _lone_stall(n: int):
    """A stall in a district of its own, for tests that need a stall's user and nothing more."""
    district = program_service.create_area(f"District {n}", "district", -8.2, 114.3, code=f"T{n}")
    village = program_service.create_area(f"Village {n}", "village", -8.2, 114.3, district.id, code=f"T{n}.1")
    return vendor_service.register_vendor(name=f"Warung {n}", owner_name="Bu Sri", address="Jl. Raya 1",
                                          village_id=village.id, latitude=-8.2, longitude=114.3, daily_capacity=5)


@pytest.fixture
def make_user():
    """``make_user(role, kind=None)`` -> (user, auth headers). ``kind`` is the agency's kind."""

    def make(role: str = "coordinator", kind: str | None = None, **fields):
        n = next(_serial)
        agency_id = None
        if role == "agency":
            agency_id = accounts.create_agency(name=f"Agency {n}", code=f"AG{n}", kind=kind or "social").id
        if role == "vendor" and "vendor_id" not in fields:
            fields["vendor_id"] = _lone_stall(n).id
        if role == "volunteer":
            fields.setdefault("volunteer_id", n)
        user = accounts.create_user(email=f"user{n}@rantang.example", password="password-1", name=f"User {n}",
                                    role=role, agency_id=agency_id, **fields)
        token, _ = accounts.issue_token(user.email, "password-1")
        db.session.commit()
        return user, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def agencies(make_user):
    """A social, a health, an education and a data agency with one user each:
    ``agencies.<kind>.agency_id``, ``.user`` and ``.headers``."""

    def staff(kind: str) -> SimpleNamespace:
        user, headers = make_user("agency", kind)
        return SimpleNamespace(agency_id=user.agency_id, user=user, headers=headers)

    return SimpleNamespace(**{kind: staff(kind) for kind in ("social", "health", "education", "data")})


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator")[1]


@pytest.fixture
def social(make_user):
    return make_user("agency", "social")[1]


@pytest.fixture
def health(make_user):
    return make_user("agency", "health")[1]


def birth_of_age(years: int, days_more: int = 100) -> dt.date:
    today = dt.date.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=days_more)


@pytest.fixture
def recipient_data(areas):
    """``recipient_data(**overrides)`` -> a valid registration body, with a NIK that agrees."""

    def make(sex: str = "F", age: int = 72, **overrides):
        birth = birth_of_age(age)
        body = {
            "nik": make_nik("35.10.09", birth, sex, next(_serial)),
            "name": "Siti Aminah" if sex == "F" else "Slamet Riyadi",
            "birth_date": birth.isoformat(),
            "sex": sex,
            "address": "Jl. Diponegoro No. 4, RT 02/RW 01",
            "village_id": areas["Kaliasin"].id,
            "latitude": -8.3541,
            "longitude": 114.1672,
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def make_recipient(client, coordinator, recipient_data):
    """``make_recipient(status="enrolled", **fields)`` -> the recipient's JSON, made through the API."""

    def make(status: str = "candidate", **fields):
        response = client.post("/api/v1/recipients", json=recipient_data(**fields), headers=coordinator)
        assert response.status_code == 201, response.json
        rid = response.json["id"]
        steps = {"verified": ["verify"], "rejected": ["reject"], "enrolled": ["verify", "enrol"],
                 "exited": ["verify", "enrol", "exit"]}[status] if status != "candidate" else []
        body = response.json
        for step in steps:
            if step in ("verify", "reject"):
                body = client.post(f"/api/v1/recipients/{rid}/verify", json={"eligible": step == "verify"},
                                   headers=coordinator).json
            elif step == "enrol":
                body = client.post(f"/api/v1/recipients/{rid}/enrol", headers=coordinator).json
            else:
                body = client.post(f"/api/v1/recipients/{rid}/exit", json={"reason": "moved"}, headers=coordinator).json
        assert body["status"] == status
        return body

    return make


HYGIENE_AGE = {"valid": 10, "failed": 10, "expired": 181}  # days since the inspection (validity 180)


@pytest.fixture
def make_vendor(areas):
    """``make_vendor(village="Kaliasin", capacity=30, hygiene="valid"|"expired"|"failed"|None, **fields)``
    -> a stall at the village centre (or ``latitude``/``longitude``), inspected as asked."""

    def make(village: str = "Kaliasin", capacity: int = 30, hygiene: str | None = "valid", **fields):
        n = next(_serial)
        place = areas[village]
        body = {"name": f"Warung {n}", "owner_name": "Bu Sri", "address": "Jl. Raya 1", "village_id": place.id,
                "latitude": place.latitude, "longitude": place.longitude, "daily_capacity": capacity, **fields}
        vendor = vendor_service.register_vendor(**body)
        if hygiene:
            inspected = clock.today() - dt.timedelta(days=HYGIENE_AGE[hygiene])
            vendor_service.record_inspection(vendor.id, "hygiene", inspected, 80 if hygiene != "failed" else 40,
                                             scope=SYSTEM,
                                             passed=hygiene != "failed")
        db.session.commit()
        return vendor

    return make


@pytest.fixture
def photos(app, tmp_path, monkeypatch):
    """Photo evidence kept in a folder of the test's own."""
    monkeypatch.setitem(app.config, "PHOTO_FOLDER", str(tmp_path / "photos"))
    return tmp_path / "photos"


def at_jakarta(monkeypatch, day: dt.date, hour: int = 12, minute: int = 0):
    """Move the program's clock to ``hour:minute`` in Jakarta on ``day``."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone(dt.timedelta(hours=7)))
    monkeypatch.setattr(clock, "now", lambda: moment.astimezone(dt.UTC))


@pytest.fixture
def office_hours(monkeypatch):
    """10:00 in Jakarta on the machine's date, so that ``dt.date.today()`` is the program's today
    whatever the hour the tests run (from 17:00 UTC Jakarta is a day ahead)."""
    at_jakarta(monkeypatch, dt.date.today(), hour=10)


@pytest.fixture
def own_database(tmp_path_factory):
    """The URL of a new, empty database on the test engine; dropped afterwards. For races between
    real transactions, which the shared rolled-back connection cannot have."""
    url = make_url(database_url(tmp_path_factory))
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
        return
    name = f"rantang_race_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_app(own_database, monkeypatch):
    """An app on a migrated database of its own, with real sessions that commit; disposed after."""
    app = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": own_database})
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    yield app
    app.extensions["rantang_callers"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed_stall_and_people(capacity: int, people: int, enrol: bool) -> tuple[int, list[int]]:
    """In Kaliasin: one stall that may cook, with ``capacity``, and ``people`` verified recipients
    near it (enrolled when ``enrol``); committed. The stall's id and the recipients' ids."""
    district = program_service.create_area("Genteng", "district", -8.3662, 114.1526, code="35.10.09")
    village = program_service.create_area("Kaliasin", "village", -8.3538, 114.1668, district.id, "35.10.09.2001")
    stall = vendor_service.register_vendor(name="Warung", owner_name="Sri", address="Jl. Raya 1",
                                           village_id=village.id, latitude=-8.3538, longitude=114.1668,
                                           daily_capacity=capacity)
    vendor_service.record_inspection(stall.id, "hygiene", clock.today(), 90, passed=True, scope=SYSTEM)
    ids = []
    for serial in range(1, people + 1):
        birth = dt.date(1950, 3, serial)
        person = recipient_service.register_recipient(make_nik("35.10.09", birth, "M", serial), "Slamet", birth,
                                                      "M", "Dusun Krajan", village.id, latitude=-8.354,
                                                      longitude=114.167)
        recipient_service.verify_recipient(person.id, eligible=True, scope=SYSTEM)
        if enrol:
            recipient_service.enrol_recipient(person.id)
        ids.append(person.id)
    db.session.commit()
    return stall.id, ids


@pytest.fixture
def loop(monkeypatch, client, coordinator, make_vendor, make_user, make_recipient):
    """The daily loop's stage: 10:00 today in Jakarta; stall A in Kaliasin feeding three
    recipients, stall B 4 km away with room; a phone login for each stall."""
    at_jakarta(monkeypatch, dt.date.today(), hour=10)
    a = make_vendor("Kaliasin", capacity=10)
    b = make_vendor("Kembiritan", capacity=10)
    people = [make_recipient("enrolled") for _ in range(3)]
    assert {p["vendor_id"] for p in people} == {a.id}
    return SimpleNamespace(a=a, b=b, people=people, ids=[p["id"] for p in people],
                           phone_a=make_user("vendor", vendor_id=a.id)[1],
                           phone_b=make_user("vendor", vendor_id=b.id)[1])


def writers_interleave(app) -> bool:
    """Whether two writing transactions can both be under way at once: on PostgreSQL yes; on
    SQLite a writing transaction begins with the write lock, so the second waits, at its first
    statement, for the first to end."""
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def race_twice(app, work) -> tuple[list, list]:
    """Run ``work()`` in two threads at once, each in an app context and a transaction of its own,
    committed at the end; on PostgreSQL both transactions have begun before either writes (a
    barrier). What each returned, and the exceptions raised."""
    start = threading.Barrier(2 if writers_interleave(app) else 1)
    results, failures = [], []

    def runner():
        try:
            with app.app_context():
                program_service.get_program()
                start.wait(timeout=10)
                results.append(work())
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 (reported to the test)
            failures.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, failures
