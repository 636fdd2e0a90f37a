"""Shared set-up for the benchmarks: databases, a migrated app, realistic recipient rows, a
coordinator's token, and the sizes they run at.

Every benchmark takes its sizes as flags (see each docstring); their defaults are the sizes of the
figures in the README. With ``BENCH_SMOKE=1`` in the environment the defaults are small instead:
a smoke run (``bench/smoke.py``, ``make bench-smoke``, CI) that checks each benchmark completes
and prints its figures, which at that size mean nothing. Flags given still win."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from blueprints import create_web_app  # noqa: E402
from service.accounts import service as accounts  # noqa: E402
from service.demo.data import NikSerials, load_areas  # noqa: E402
from service.extensions import db  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "rantang_bench")
SMOKE = os.environ.get("BENCH_SMOKE", "") not in ("", "0")
# The coordinator the benchmarks call the API as. The password must pass the service's own rules
# (not common, not holding the email): "bench-password" for "bench@..." stopped them once.
COORDINATOR_EMAIL = "coordinator@bench.example"
BENCH_PASSWORD = "kopi-tubruk-2026"


def size(full: int, smoke: int) -> int:
    """A default size: ``full`` for the figures, ``smoke`` in a smoke run (``BENCH_SMOKE=1``)."""
    return smoke if SMOKE else full


def postgres_url(name: str = PG_DB) -> str:
    """A database of its own for the benchmarks, made if missing."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def sqlite_url() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='rantang-bench-')}/bench.db"


def fresh_app(url: str):
    """An app on an empty, migrated database holding Banyuwangi's districts and villages."""
    app = create_web_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        load_areas()
        db.session.commit()
    return app


def coordinator():
    """A coordinator and their bearer token, in the caller's app context (not committed yet)."""
    user = accounts.create_user(email=COORDINATOR_EMAIL, password=BENCH_PASSWORD, name="Bench", role="coordinator")
    return user, accounts.issue_token(COORDINATOR_EMAIL, BENCH_PASSWORD)[0]


def recipient_rows(count: int, villages: list, seed: int = 7, start_serial: int = 1) -> list[dict[str, str]]:
    """CSV-like rows (strings) with valid NIKs; a third without coordinates."""
    rng = random.Random(seed)
    today = dt.date.today()
    rows = []
    serials = NikSerials(first=start_serial)
    for i in range(count):
        village = villages[rng.randrange(len(villages))]
        sex = rng.choice("FFM")
        birth = today - dt.timedelta(days=rng.randint(61 * 365, 94 * 365))
        gps = rng.random() < 0.67
        rows.append({
            "nik": serials.nik(village.parent.code, birth, sex),
            "name": f"Warga {start_serial + i}", "birth_date": birth.isoformat(), "sex": sex,
            "address": f"Dusun Krajan RT {rng.randint(1, 9):02d}/RW {rng.randint(1, 9):02d}",
            "village_code": village.code,
            "latitude": f"{village.latitude + rng.uniform(-0.01, 0.01):.6f}" if gps else "",
            "longitude": f"{village.longitude + rng.uniform(-0.01, 0.01):.6f}" if gps else "",
            "dietary_needs": rng.choice(["", "", "soft food", "low salt;low sugar"]),
        })
    return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def history_main(doc: str, run, days: int) -> None:
    """The command line of a benchmark over recipients and days of history (coverage, targets,
    dashboard): ``--recipients``, ``--days`` (``days`` by default), ``--engine``; ``run(engine,
    url, recipients, days)`` on each engine asked for."""
    from service.program import clock

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=size(100_000, 500))
    parser.add_argument("--days", type=int, default=size(days, 3))
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="both")
    args = parser.parse_args()
    real_now = clock.now  # a run may set the clock (today at noon): each engine starts from the real one
    if args.engine in ("postgresql", "both"):
        run("PostgreSQL", postgres_url(), args.recipients, args.days)
        clock.now = real_now
    if args.engine in ("sqlite", "both"):
        run("SQLite", sqlite_url(), args.recipients, args.days)
