"""Latency of the registry's hot paths, one client in a loop against the served app.

PostgreSQL with 50,000 recipients, the app under gunicorn (one worker, one thread, keep-alive) on
127.0.0.1, the client keeping its connection open as an HTTP/1.1 client does.
Prints p50, p90 and p99 for GET /me (the token check and the user: the floor every route stands on),
GET /recipients/{id}, a search by NIK (GET /recipients?q=<nik>)
and POST /recipients. Goal: p90 under 5 ms for the reads, 10 ms for the write. It fails if any request
is answered with an error: a refusal costs less than the work, so its figures would flatter.

    .venv/bin/python bench/api_latency.py [--recipients 50000] [--requests 1000]
    With BENCH_SMOKE=1 the defaults are small (300 recipients, 50 requests per path): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import coordinator, fresh_app, percentile, postgres_url, recipient_rows, size
from sqlalchemy import select, text

from service.accounts.scope import Scope
from service.extensions import db
from service.program.models import Area
from service.recipients.importing import import_recipients
from service.recipients.models import Recipient

ROOT = Path(__file__).resolve().parent.parent


def cpu_times() -> list[int]:
    """The machine's CPU counters (Linux /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal)."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:9]]
    except OSError:
        return [0] * 8


def stolen_share(before: list[int], after: list[int]) -> float:
    spent = [a - b for a, b in zip(after, before, strict=True)]
    busy = sum(spent) - spent[3]
    return spent[7] / busy if busy else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_connections: dict[int, http.client.HTTPConnection] = {}


def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[float, int]:
    """One request on a kept-alive connection, as a phone or an agency's system would send it."""
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn = _connections.get(port) or _connections.setdefault(
        port, http.client.HTTPConnection("127.0.0.1", port, timeout=10))
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        response.read()
    except (http.client.HTTPException, OSError):
        _connections.pop(port).close()
        raise
    return (time.perf_counter() - started) * 1000, response.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=size(50_000, 300))
    parser.add_argument("--requests", type=int, default=size(1000, 50))
    parser.add_argument("--worker-class", default="gthread", help="gunicorn's -k: gthread (keep-alive) or sync")
    args = parser.parse_args()

    url = postgres_url()
    app = fresh_app(url)
    with app.app_context():
        villages = db.session.scalars(select(Area).where(Area.kind == "village")).all()
        Scope.system("bench").act_in(db.session)
        report = import_recipients(recipient_rows(args.recipients, villages))
        _, token = coordinator()
        db.session.commit()
        people = db.session.execute(select(Recipient.id, Recipient.nik)).all()
        new_rows = recipient_rows(args.requests, villages, seed=99, start_serial=9000)
        village_of = {v.code: (v.id, v.latitude, v.longitude) for v in villages}
        # A settled database, as in production: no autovacuum of the fresh rows racing the loop.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    print(f"PostgreSQL, {report.created:,} recipients; {args.requests} requests per path, one client;"
          f" gunicorn -k {args.worker_class}")

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}  # as deployed: rate limiting on
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-k", args.worker_class, "--threads", "1", "--keep-alive", "30",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                call(port, "GET", "/api/v1/me", token)
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(1)
        existing = {nik for _, nik in people}
        bodies = []
        for row in new_rows:
            if row["nik"] in existing:
                continue
            existing.add(row["nik"])
            body = {k: row[k] for k in ("nik", "name", "birth_date", "sex", "address")}
            # Each at a point of their own village (a phone's GPS, else the village's centre): the
            # service refuses a point 15 km or more from the village, as one fixed point for all was.
            village_id, lat, lon = village_of[row["village_code"]]
            body.update(village_id=village_id, latitude=float(row["latitude"] or lat),
                        longitude=float(row["longitude"] or lon))
            bodies.append(body)
        cases = {
            "GET /me (baseline)": lambda i: call(port, "GET", "/api/v1/me", token),
            "GET /recipients/{id}": lambda i: call(port, "GET", f"/api/v1/recipients/{rng.choice(people)[0]}", token),
            "GET /recipients?q=<nik>": lambda i: call(port, "GET", f"/api/v1/recipients?q={rng.choice(people)[1]}",
                                                      token),
            "POST /recipients": lambda i: call(port, "POST", "/api/v1/recipients", token, bodies[i]),
        }
        goals = {"GET /me (baseline)": 5, "GET /recipients/{id}": 5, "GET /recipients?q=<nik>": 5,
                 "POST /recipients": 10}
        for name, run in cases.items():  # warm up: connections, prepared statements, caches
            for i in range(20):
                if not name.startswith("POST"):
                    run(i)
        # One path at a time, as a client working through one kind of request.
        timings: dict[str, list[float]] = {name: [] for name in cases}
        cpu_before = cpu_times()
        errors = dict.fromkeys(cases, 0)
        for name, run in cases.items():
            for i in range(min(args.requests, len(bodies))):
                elapsed, status = run(i)
                timings[name].append(elapsed)
                errors[name] += status >= 400
        print(f"CPU time stolen by the host during the loop: {stolen_share(cpu_before, cpu_times()):.0%}"
              " (figures on a shared virtual machine move with it)")
        for name, values in timings.items():
            p90 = percentile(values, 90)
            print(f"{name:<26} p50 {percentile(values, 50):6.2f} ms   p90 {p90:6.2f} ms   "
                  f"p99 {percentile(values, 99):6.2f} ms   errors {errors[name]}   "
                  f"goal p90 < {goals[name]} ms: {'met' if p90 < goals[name] else 'NOT met'}")
        if any(errors.values()):  # a refusal is cheaper than the work: such figures measure the wrong thing
            sys.exit("requests answered with an error, so the figures above are not the paths' own: "
                     + ", ".join(f"{name} {n}" for name, n in errors.items() if n))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
