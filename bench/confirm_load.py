"""Many stalls confirming their meals at once, against the service under gunicorn (4 workers) on
PostgreSQL; beside it, the same load on a bare endpoint of the same app that reads one row by
primary key.

Each stall confirms each of its meals once with its own token and an Idempotency-Key; one
request in ten is sent a second time with the same key, as a phone on a bad network retries.
Afterwards the database must show every delivery confirmed exactly once. The two loads run in
alternating rounds, so that both meet the host in the same state (its speed drifts over minutes).

Goal: confirmations at no less than 40% of the bare endpoint's rate, p99 under 50 ms, no errors.

    .venv/bin/python bench/confirm_load.py [--stalls 400] [--per-stall 25] [--concurrency 8]
        [--rounds 4] [--worker-class sync|gthread --threads N] [--tcp]
    With BENCH_SMOKE=1 the defaults are small (20 stalls of 5 meals, 2 rounds): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from api_latency import free_port
from common import PG_DB, fresh_app, percentile, postgres_url, size
from sqlalchemy import func, select, text

from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.app import create_app
from service.assignments.models import Assignment
from service.db import bulk_insert, utcnow
from service.deliveries import scheduling
from service.deliveries.models import Delivery
from service.extensions import db
from service.idempotency.models import IdempotencyRecord
from service.program.clock import today
from service.program.models import Area
from service.program.service import get_program
from service.recipients.models import Recipient
from service.vendors.models import Vendor

HERE = Path(__file__).resolve().parent
# A port of its own (BENCH_PORT, else a free one): another run on the machine may hold any fixed one.
PORT = int(os.environ.get("BENCH_PORT") or free_port())
SOCKET_DIR = "/var/run/postgresql"


def set_up(url: str, stalls: int, per_stall: int) -> tuple[list[tuple[str, dict, str]], list[int]]:
    """Stalls with recipients placed and today's meals scheduled; the requests each stall's phone
    will send: (path, headers, body)."""
    app = fresh_app(url)
    rng = random.Random(5)
    with app.app_context():
        Scope.system("bench").act_in(db.session)
        program = get_program()
        program.delivery_cutoff = dt.time(23, 59, 59)  # open all day, whenever the bench runs
        villages = db.session.scalars(select(Area).where(Area.kind == "village").order_by(Area.id)).all()
        now, day = utcnow(), today()
        vendor_ids = bulk_insert(db.session, Vendor.__table__, [
            {"name": f"Warung {i}", "owner_name": "Pemilik", "address": "Jl. Raya", "village_id": v.id,
             "latitude": v.latitude, "longitude": v.longitude, "daily_capacity": per_stall, "status": "active",
             "hygiene_inspected_on": day, "hygiene_passed": True, "hygiene_valid_until": day + dt.timedelta(days=90),
             "version": 1, "created_at": now, "updated_at": now}
            for i, v in enumerate(villages[i % len(villages)] for i in range(stalls))])
        people = []
        for n, vendor_id in enumerate(vendor_ids):
            v = villages[n % len(villages)]
            for k in range(per_stall):
                people.append({"nik": f"3510{n:06d}{k:06d}", "name": f"Warga {n}-{k}",
                               "birth_date": dt.date(1950, 1, 1),
                               "sex": "F", "address": "Dusun Krajan", "village_id": v.id,
                               "latitude": v.latitude + rng.uniform(-0.005, 0.005),
                               "longitude": v.longitude + rng.uniform(-0.005, 0.005), "location_source": "gps",
                               "dietary_needs": [], "status": "enrolled", "enrolled_at": now, "version": 1,
                               "created_at": now, "updated_at": now, "_vendor": vendor_id})
        vendor_of = [p.pop("_vendor") for p in people]
        ids = bulk_insert(db.session, Recipient.__table__, people)
        bulk_insert(db.session, Assignment.__table__, [
            {"recipient_id": rid, "vendor_id": vid, "distance_km": 0.5, "reason": {"code": "text", "text": "bench"},
             "since": now}
            for rid, vid in zip(ids, vendor_of)])
        tokens = {}
        for vendor_id in vendor_ids:
            user = accounts.create_user(email=f"stall{vendor_id}@bench.example", password="bench-password",
                                        name="Stall", role="vendor", vendor_id=vendor_id)
            tokens[vendor_id] = accounts.issue_token(user.email, "bench-password")[0]
        scheduling.schedule_day(day)
        db.session.commit()
        rows = db.session.execute(select(Delivery.id, Delivery.vendor_id).where(Delivery.date == day)).all()
        db.session.remove()
        db.engine.dispose()
    requests = []
    for delivery_id, vendor_id in rows:
        body = json.dumps({"status": "delivered", "latitude": -8.35, "longitude": 114.16})
        headers = {"Authorization": f"Bearer {tokens[vendor_id]}", "Idempotency-Key": f"confirm-{delivery_id}",
                   "Content-Type": "application/json"}
        requests.append((f"/api/v1/deliveries/{delivery_id}/confirm", headers, body))
    retries = rng.sample(requests, len(requests) // 10)
    mixed = requests + retries
    rng.shuffle(mixed)
    return mixed, [r[0] for r in rows]


async def one(method: str, path: str, headers: dict, body: str) -> tuple[int, float, bool]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    payload = body.encode()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(payload)}", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    response = await reader.read()
    writer.close()
    status = int(response[9:12])
    return status, (time.perf_counter() - started) * 1000, b"Idempotent-Replayed" in response


async def load(requests: list, concurrency: int) -> tuple[float, list]:
    queue = list(reversed(requests))
    results = []

    async def worker():
        while queue:
            method, path, headers, body = queue.pop()
            results.append(await one(method, path, headers, body))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, results


async def paced(requests: list, rate: float, seed: int = 11) -> tuple[float, list]:
    """The requests sent at ``rate`` a second on average, each at its own moment (Poisson
    arrivals: phones do not wait for each other), whatever those before it are doing: an open
    load, as the stalls' phones make, rather than ``load``'s few clients each waiting for its
    answer. Each time counts from the moment its request was due, so a generator running late
    makes the figures worse, never better."""
    rng = random.Random(seed)
    started = time.perf_counter()
    due, tasks = 0.0, []

    async def timed(request, at: float):
        try:
            status, _, replayed = await one(*request)
        except (OSError, ValueError):  # refused, reset or no answer: more than the server's queue holds
            status, replayed = 0, False
        return status, (time.perf_counter() - at) * 1000, replayed

    for request in requests:
        due += rng.expovariate(rate)
        wait = started + due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(timed(request, started + due)))
    results = await asyncio.gather(*tasks)
    return time.perf_counter() - started, list(results)


def report(name: str, seconds: float, results: list) -> float:
    times = [r[1] for r in results]
    errors = sum(1 for r in results if r[0] != 200)
    rate = len(results) / seconds
    print(f"{name:<34} {len(results):>7,} {rate:>8,.0f} {percentile(times, 50):>7.1f} {percentile(times, 99):>7.1f} "
          f"{errors:>7}")
    return rate


def serve(url: str, worker_class: str, threads: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "RANTANG_RATELIMIT_ENABLED": "false", "RANTANG_ENV": "development"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", "4", "--worker-class", worker_class, "--threads", str(threads),
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning", "confirm_app:app"],
        cwd=HERE, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status = asyncio.run(one("GET", "/api/v1/openapi.json", {}, ""))[0]
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalls", type=int, default=size(400, 20))
    parser.add_argument("--per-stall", type=int, default=size(25, 5))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=size(4, 2), help="alternating rounds of the two loads")
    parser.add_argument("--worker-class", default="sync", help="gunicorn's -k: sync, or gthread with --threads")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--tcp", action="store_true",
                        help="reach PostgreSQL over TCP on 127.0.0.1 rather than its Unix socket")
    args = parser.parse_args()
    url = postgres_url(f"{PG_DB}_confirm")
    if not args.tcp and os.path.isdir(SOCKET_DIR):
        # The service beside its database, as on one machine: a round trip costs half the TCP one.
        url = url.replace("@127.0.0.1:5432/", "@/") + f"?host={SOCKET_DIR}"
    requests, delivery_ids = set_up(url, args.stalls, args.per_stall)
    transport = "TCP 127.0.0.1" if "127.0.0.1" in url else "Unix socket"
    print(f"\n== PostgreSQL over {transport}, gunicorn 4 {args.worker_class} workers x {args.threads} threads: "
          f"{len(delivery_ids):,} meals of {args.stalls} stalls, "
          f"{len(requests) - len(delivery_ids):,} retried with the same key, {args.concurrency} connections ==")
    server = serve(url, args.worker_class, args.threads)
    try:
        bare = [("GET", f"/bench/deliveries/{i}", {}, "") for i in delivery_ids]
        bare = bare + bare[: len(requests) - len(bare)]
        confirms = [("POST", p, h, b) for p, h, b in requests]
        asyncio.run(load(bare[-500:], args.concurrency))  # warm the workers and their pools
        # The two loads in alternating rounds: this host's speed drifts over minutes, and each
        # endpoint should meet the same host.
        bare_seconds = seconds = 0.0
        bare_results, results = [], []
        for r in range(args.rounds):
            chunk = slice(r * len(bare) // args.rounds, (r + 1) * len(bare) // args.rounds)
            took, done = asyncio.run(load(bare[chunk], args.concurrency))
            bare_seconds, bare_results = bare_seconds + took, bare_results + done
            took, done = asyncio.run(load(confirms[chunk], args.concurrency))
            seconds, results = seconds + took, results + done
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"{'endpoint':<34} {'requests':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    bare_rate = report("bare: read one row by key", bare_seconds, bare_results)
    rate = report("POST /deliveries/{id}/confirm", seconds, results)
    replayed = sum(1 for r in results if r[2])

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        confirmed = db.session.execute(
            select(func.count(), func.count(Delivery.confirmed_at)).where(Delivery.status == "delivered")).one()
        keys = db.session.scalar(select(func.count()).select_from(IdempotencyRecord))
        twice = db.session.scalar(text("SELECT count(*) FROM (SELECT recipient_id, date, meal FROM deliveries "
                                       "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"))
        db.engine.dispose()
    once = confirmed[0] == confirmed[1] == len(delivery_ids) == keys and twice == 0
    print(f"retries answered from the stored response: {replayed:,} (the rest raced their original and found "
          f"it confirmed)")
    print(f"every delivery confirmed exactly once: {'yes' if once else 'NO'} ({confirmed[0]:,} delivered, "
          f"{keys:,} keys stored)")
    errors = sum(1 for r in results if r[0] != 200)
    p99 = percentile([r[1] for r in results], 99)
    goal = rate >= 0.4 * bare_rate and p99 < 50 and errors == 0 and once
    print(f"confirm / bare: {rate / bare_rate:.2f}  goal (>= 0.40, p99 < 50 ms, no errors, exactly once): "
          f"{'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
