"""Bulk import of 10,000 recipients on SQLite and PostgreSQL, with every check on.

Prints rows per second for the import (CSV parsed, every row validated, duplicates looked up,
inserted with its audit event, committed) and, beside it, for a bare bulk insert of the same
rows on the same engine. Goal: at least 5,000 rows per second.

    .venv/bin/python bench/import_recipients.py [--rows 10000]
    With BENCH_SMOKE=1 the defaults are small (300 rows): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import csv
import io
import time

from common import fresh_app, postgres_url, recipient_rows, size, sqlite_url
from psycopg.types.json import Jsonb
from sqlalchemy import delete, insert, select

from service.accounts.scope import Scope
from service.audit.models import AuditEvent
from service.db import utcnow
from service.extensions import db
from service.program.models import Area
from service.recipients.importing import import_recipients, read_csv
from service.recipients.models import Recipient


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def bare_insert(rows: list[dict]) -> None:
    """The same rows with no checks: COPY on PostgreSQL, a multi-row INSERT elsewhere."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(Recipient.__table__), rows)
        return
    names = list(rows[0])
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY recipients ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(row[n]) if n == "dietary_needs" else row[n] for n in names])


def run(engine: str, url: str, count: int) -> None:
    app = fresh_app(url)
    with app.app_context():
        villages = db.session.scalars(select(Area).where(Area.kind == "village")).all()
        rows = recipient_rows(count, villages)
        data = to_csv(rows)

        Scope.system("bench").act_in(db.session)
        started = time.perf_counter()
        report = import_recipients(read_csv(data), first_row=2)
        db.session.commit()
        elapsed = time.perf_counter() - started
        assert report.rejected == 0, report.errors[:3]

        stored = db.session.execute(select(Recipient.__table__)).mappings().all()
        plain = [{k: v for k, v in row.items() if k != "id"} for row in stored]
        db.session.execute(delete(AuditEvent))
        db.session.execute(delete(Recipient))
        db.session.commit()
        now = utcnow()
        for row in plain:
            row.update(created_at=now, updated_at=now)
        bare_started = time.perf_counter()
        bare_insert(plain)
        db.session.commit()
        bare = time.perf_counter() - bare_started
        db.engine.dispose()

    created = report.created
    print(f"{engine:<11} import {created:>6} rows in {elapsed:6.2f} s = {created / elapsed:>8,.0f} rows/s"
          f" (duplicates {report.duplicates})   bare bulk insert {len(plain) / bare:>9,.0f} rows/s"
          f"   import/bare {bare / elapsed:5.1%}   "
          f"goal >= 5,000 rows/s: {'met' if created / elapsed >= 5000 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=size(10_000, 300))
    args = parser.parse_args()
    run("SQLite", sqlite_url(), args.rows)
    run("PostgreSQL", postgres_url(), args.rows)


if __name__ == "__main__":
    main()
