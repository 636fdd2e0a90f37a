"""A province in one service: East Java's 38 regencies and cities over its real places, 500,000
enrolled recipients and 20,000 stalls, on plain PostgreSQL and on a Citus cluster, side by side
with one region's figures measured in the same run.

Each region is one of the 38 (Kemendagri's codes 35.01-35.29 and 35.71-35.79), its villages the
real places of East Java (../shared/data/indonesia_places.csv) nearest its seat; recipients and
stalls are spread around them in proportion, with jitter. The three steps, as the service runs
them:

1. the assignment: each region its own problem (``rebalance`` in the region, writes and audit
   included), the regions shared among parallel processes (one per core);
2. one evening's scheduling: every region's day (``scheduling.schedule_day``), the regions shared
   among the same processes; here the day scheduled is today, so that step 3 can confirm it
   (the statements are the evening's);
3. a confirmation load: stalls of every region confirm their meals with their own tokens against
   the service under gunicorn (4 workers), one request in ten retried with the same key; half of
   the meals as fast as 8 connections send them (the service's throughput: there each answer waits
   for those before it, so its p99 is the queue's, 8 / throughput), the other half at the
   province's peak rate, each request sent when it is due whatever the others are doing, as phones
   do: one meal round of the whole province (the day's meals over its meal slots) confirmed within
   one hour, 10% more retried, Poisson arrivals. The p99 a stall's phone waits is the latter's.

Beside each, one region: the largest region's own assignment (in the parallel run), the default
region's day scheduled alone (rows/s), and the confirmations of one region's stalls alone.

Goals (issue 25): the whole province's assignment under 60 s; scheduling rows/s on Citus at least
that of plain PostgreSQL on the same machine; confirmation p99 under 25 ms on both (at the peak).

    .venv/bin/python bench/province.py [--recipients 500000] [--stalls 20000] [--regions 38]
        [--engine postgresql|citus|both] [--confirm-stalls 400] [--processes 2]
    Citus: a coordinator at 127.0.0.1:5601 and workers at 5602 and 5603 (BENCH_CITUS_NODES), as
    ../shared/tools/citus-cluster.sh starts them; its database is made on every node.
    With BENCH_SMOKE=1 the defaults are small (3 regions, 3,000 recipients, 120 stalls, PostgreSQL).
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import psycopg
from common import PG_ADMIN, PG_DB, SMOKE, percentile, size
from confirm_load import SOCKET_DIR, load, paced, serve
from sqlalchemy import URL, func, make_url, select, text

from blueprints import create_web_app
from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.assignments import rebalance as rebalancing
from service.assignments.models import Assignment
from service.db import bulk_insert, default_region, refresh_statistics, utcnow
from service.deliveries import scheduling
from service.deliveries.models import Delivery
from service.demo.data import COUNTRY_PLACES
from service.extensions import db
from service.program import regions
from service.program.clock import today
from service.program.models import Area, Region
from service.program.service import settings
from service.recipients.models import NikHolder, Recipient
from service.vendors.models import Vendor

# East Java's 29 regencies and 9 cities (Kemendagri's codes) and where each has its seat.
EAST_JAVA = [
    ("35.01", "Pacitan", -8.19, 111.10), ("35.02", "Ponorogo", -7.87, 111.46),
    ("35.03", "Trenggalek", -8.05, 111.71), ("35.04", "Tulungagung", -8.07, 111.90),
    ("35.05", "Blitar", -8.13, 112.22), ("35.06", "Kediri", -7.77, 112.20), ("35.07", "Malang", -8.13, 112.57),
    ("35.08", "Lumajang", -8.13, 113.22), ("35.09", "Jember", -8.17, 113.70), ("35.10", "Banyuwangi", -8.22, 114.37),
    ("35.11", "Bondowoso", -7.91, 113.82), ("35.12", "Situbondo", -7.71, 114.01),
    ("35.13", "Probolinggo", -7.76, 113.41), ("35.14", "Pasuruan", -7.60, 112.78), ("35.15", "Sidoarjo", -7.45, 112.72),
    ("35.16", "Mojokerto", -7.56, 112.48), ("35.17", "Jombang", -7.55, 112.23), ("35.18", "Nganjuk", -7.60, 111.90),
    ("35.19", "Madiun", -7.55, 111.65), ("35.20", "Magetan", -7.65, 111.33), ("35.21", "Ngawi", -7.40, 111.45),
    ("35.22", "Bojonegoro", -7.15, 111.88), ("35.23", "Tuban", -6.90, 112.05), ("35.24", "Lamongan", -7.12, 112.42),
    ("35.25", "Gresik", -7.16, 112.65), ("35.26", "Bangkalan", -7.05, 112.74), ("35.27", "Sampang", -7.19, 113.24),
    ("35.28", "Pamekasan", -7.16, 113.48), ("35.29", "Sumenep", -7.01, 113.86),
    ("35.71", "Kota Kediri", -7.82, 112.01), ("35.72", "Kota Blitar", -8.10, 112.17),
    ("35.73", "Kota Malang", -7.98, 112.63), ("35.74", "Kota Probolinggo", -7.75, 113.22),
    ("35.75", "Kota Pasuruan", -7.65, 112.91), ("35.76", "Kota Mojokerto", -7.47, 112.43),
    ("35.77", "Kota Madiun", -7.63, 111.52), ("35.78", "Kota Surabaya", -7.26, 112.75),
    ("35.79", "Kota Batu", -7.87, 112.52),
]
CITUS_NODES = [int(p) for p in os.environ.get("BENCH_CITUS_NODES", "5601 5602 5603").split()]
JITTER = 0.03  # degrees around each place (3.3 km)
CAPACITY = 30
MIN_PLACES = 8  # villages of a region at least
OPEN_ALL_DAY = dt.time(23, 59, 59)  # the cut-off, so that the confirmations are taken whenever the bench runs


def sites(count: int) -> list[tuple[str, str, list[tuple[str, float, float]]]]:
    """``count`` of East Java's regions (Banyuwangi, the default, first), each with the real places
    of the province nearest its seat (every place goes to its nearest seat among those taken), at
    least ``MIN_PLACES``."""
    chosen = sorted(EAST_JAVA, key=lambda r: (r[0] != default_region(), r[0]))[:count]
    with open(COUNTRY_PLACES, newline="", encoding="utf-8") as f:
        places = [(r["name"], float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)
                  if r["province"] == "East Java"]
    seats = np.array([(lat, lon) for _, _, lat, lon in chosen])
    points = np.array([(lat, lon) for _, lat, lon in places])
    owner = np.argmin(((points[:, None, :] - seats[None, :, :]) ** 2).sum(axis=2), axis=1)
    # A city inside a regency may be nearest to none of the places: it takes the places nearest
    # its seat from a region that has plenty.
    for region in range(len(chosen)):
        near = np.argsort(((points - seats[region]) ** 2).sum(axis=1))
        for place in near:
            if np.count_nonzero(owner == region) >= MIN_PLACES:
                break
            if np.count_nonzero(owner == owner[place]) > 2 * MIN_PLACES:
                owner[place] = region
    return [(code, name, [places[i] for i in np.flatnonzero(owner == region)])
            for region, (code, name, _, _) in enumerate(chosen)]


def database(engine: str, name: str) -> str:
    """A new, empty database for the run (on every node of the Citus cluster, with the extension
    and the workers added), and its URL."""
    if engine == "postgresql":
        nodes, host = [None], PG_ADMIN.rsplit("/", 1)[0]
    else:
        nodes, host = CITUS_NODES, "postgresql://postgres@127.0.0.1"
    for port in nodes:
        admin = f"{host}:{port}/postgres" if port else f"{host}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        if port:
            with psycopg.connect(f"{host}:{port}/{name}", autocommit=True) as conn:
                conn.execute("CREATE EXTENSION citus")
    if engine == "citus":
        with psycopg.connect(f"{host}:{CITUS_NODES[0]}/{name}", autocommit=True) as conn:
            conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (CITUS_NODES[0],))
            for port in CITUS_NODES[1:]:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (port,))
        return f"postgresql+psycopg://postgres@127.0.0.1:{CITUS_NODES[0]}/{name}"
    return host.replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def beside(url: str) -> str:
    """The URL of the service beside its database, as on one machine: over the Unix socket (a
    round trip costs half the TCP one), as bench/confirm_load.py reaches it."""
    if not os.path.isdir(SOCKET_DIR):
        return url
    parsed = make_url(url)
    socket = URL.create(parsed.drivername, parsed.username, parsed.password, database=parsed.database,
                        query={"host": SOCKET_DIR, "port": str(parsed.port or 5432)})
    return socket.render_as_string(hide_password=False)


def make_app(url: str):
    return create_web_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                           "RATELIMIT_ENABLED": False})


def set_up_regions(app, chosen) -> None:
    import flask_migrate

    with app.app_context():
        flask_migrate.upgrade()
        Scope.system("bench", region=None).act_in(db.session)
        for code, name, _ in chosen:
            region = db.session.get(Region, code) or regions.create(code, name, "Asia/Jakarta")
            region.delivery_cutoff = OPEN_ALL_DAY
        db.session.commit()


# -- work done in the processes: each builds its own app on the database ------------------------

_app = None


def _start(url: str) -> None:
    global _app
    _app = make_app(url)


def _in_region(code: str):
    Scope.system("bench", region=code).act_in(db.session)


def _load(job) -> tuple[str, int, int]:
    """One region's villages, stalls (all may cook) and enrolled recipients without a stall."""
    code, places, recipients, stalls, first_serial = job
    rng = np.random.default_rng(int(code.replace(".", "")))
    with _app.app_context():
        _in_region(code)
        district = bulk_insert(db.session, Area.__table__, [
            {"name": f"Kecamatan {places[0][0]}", "kind": "district", "latitude": places[0][1],
             "longitude": places[0][2], "code": f"{code}.01"}])[0]
        villages = bulk_insert(db.session, Area.__table__, [
            {"name": name, "kind": "village", "latitude": lat, "longitude": lon, "parent_id": district,
             "code": f"{code}.01.{2001 + i}"} for i, (name, lat, lon) in enumerate(places)])
        now, day = utcnow(), today()
        valid_until = day + dt.timedelta(days=settings().hygiene_validity_days - 10)

        def spread(count):
            index = rng.integers(0, len(places), count)
            return (index, np.array([places[i][1] for i in index]) + rng.uniform(-JITTER, JITTER, count),
                    np.array([places[i][2] for i in index]) + rng.uniform(-JITTER, JITTER, count))

        index, lat, lon = spread(stalls)
        bulk_insert(db.session, Vendor.__table__, [
            {"name": f"Warung {code} {i}", "owner_name": "Pemilik", "address": "Jl. Raya", "village_id": villages[p],
             "latitude": float(a), "longitude": float(o), "daily_capacity": CAPACITY, "status": "active",
             "hygiene_inspected_on": day - dt.timedelta(days=10), "hygiene_passed": True,
             "hygiene_valid_until": valid_until, "version": 1, "created_at": now, "updated_at": now}
            for i, (p, a, o) in enumerate(zip(index, lat, lon))])
        index, lat, lon = spread(recipients)
        niks = [f"{code.replace('.', '')}{first_serial + i:012d}" for i in range(recipients)]
        ids = bulk_insert(db.session, Recipient.__table__, [
            {"nik": nik, "name": f"Warga {nik}", "birth_date": dt.date(1950, 1, 1), "sex": "F",
             "address": "Dusun Krajan", "village_id": villages[p], "latitude": float(a), "longitude": float(o),
             "location_source": "gps", "dietary_needs": [], "status": "enrolled", "enrolled_at": now,
             "version": 1, "created_at": now, "updated_at": now}
            for nik, p, a, o in zip(niks, index, lat, lon)])
        bulk_insert(db.session, NikHolder.__table__, [
            {"nik": nik, "recipient_id": rid} for nik, rid in zip(niks, ids)])
        bulk_insert(db.session, Assignment.__table__, [
            {"recipient_id": rid, "vendor_id": None, "distance_km": None, "since": now,
             "reason": {"code": "text", "text": "enrolled before any stall was registered"}} for rid in ids])
        db.session.commit()
        db.session.remove()
    return code, recipients, stalls


def _rebalance(code: str) -> tuple[str, float, int, int]:
    with _app.app_context():
        _in_region(code)
        started = time.perf_counter()
        report = rebalancing.rebalance()
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.remove()
    return code, seconds, report.enrolled, report.covered


def _schedule(code: str) -> tuple[str, float, int]:
    with _app.app_context():
        _in_region(code)
        started = time.perf_counter()
        report = scheduling.schedule_day(today())
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.remove()
    return code, seconds, report.created


def in_parallel(pool, work, jobs) -> tuple[float, list]:
    started = time.perf_counter()
    done = pool.map(work, jobs, chunksize=1)
    return time.perf_counter() - started, done


# -- the run on one engine ------------------------------------------------------------------------

def run(engine: str, args) -> dict:
    url = database(engine, f"{PG_DB}_province")
    chosen = sites(args.regions)
    weights = np.array([len(places) for _, _, places in chosen], dtype=float)
    weights /= weights.sum()
    people = np.maximum(1, np.rint(weights * args.recipients)).astype(int)
    stalls = np.maximum(1, np.rint(weights * args.stalls)).astype(int)
    app = make_app(url)
    set_up_regions(app, chosen)
    with app.app_context():
        db.engine.dispose()
    name = "Citus (coordinator and 2 workers)" if engine == "citus" else "PostgreSQL"
    print(f"\n== {name}: {len(chosen)} regions of East Java, {people.sum():,} enrolled recipients, "
          f"{stalls.sum():,} stalls, {args.processes} processes ==", flush=True)
    context = multiprocessing.get_context("fork")
    figures: dict = {"engine": name}
    with context.Pool(args.processes, initializer=_start, initargs=(url,)) as pool:
        serials = np.concatenate(([1], np.cumsum(people)[:-1] + 1))
        order = np.argsort(-people)  # the largest regions first: the processes end together
        took, _ = in_parallel(pool, _load, [
            (chosen[i][0], chosen[i][2], int(people[i]), int(stalls[i]), int(serials[i])) for i in order])
        with app.app_context():
            refresh_statistics(db.session)  # as autovacuum would have them after the load
            db.session.commit()
            db.engine.dispose()
        print(f"loaded in {took:.0f} s", flush=True)
        codes = [chosen[i][0] for i in order]

        took, done = in_parallel(pool, _rebalance, codes)
        enrolled, covered = sum(d[2] for d in done), sum(d[3] for d in done)
        figures["assign"] = (took, enrolled, covered, done[0])  # the largest region's is first

        # one region's day alone first (the default region), then every other region's in parallel
        one = pool.apply(_schedule, (default_region(),))
        took, done = in_parallel(pool, _schedule, [c for c in codes if c != default_region()])
        rows = sum(d[2] for d in done)
        figures["schedule"] = (took, rows, one)
    with app.app_context():
        stored = db.session.scalar(text("SELECT count(*) FROM deliveries"))
        assert stored == rows + one[2], (stored, rows, one)
        db.engine.dispose()
    # The stalls confirm the next day, after autovacuum has been through the evening's writes: here
    # at once, rather than beside the load.
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) deliveries, assignments, audit_events, recipients, nik_holders")
    with app.app_context():
        figures["rounds"] = len(settings().meal_slots)
        db.engine.dispose()
    figures["peak"] = (rows + one[2]) / figures["rounds"] / 3600
    if SMOKE:  # a small province's peak is a request every second or so: the smoke run would idle
        figures["peak"] = max(figures["peak"], 50.0)
    figures["confirm"] = confirm(app, url, chosen, args, figures["peak"])
    figures["confirm_one"] = confirm(app, url, chosen[:1], args, figures["peak"], per_region=args.confirm_stalls)
    report(figures, people, stalls)
    return figures


def confirm(app, url: str, chosen, args, peak: float, per_region: int | None = None) -> tuple:
    """Stalls of each of ``chosen`` regions (``--confirm-stalls`` in all, or ``per_region`` each)
    confirm today's meals through the API, one request in ten retried with the same key: half of
    the meals as fast as 8 connections can send them (the most the service answers: its
    throughput, each answer waiting its turn), the other half at the province's ``peak`` rate,
    each request when it is due (what a stall's phone waits at the busiest hour)."""
    rng = random.Random(5)
    meals = []
    with app.app_context():
        for code, _, _ in chosen:
            _in_region(code)
            take = per_region or max(1, args.confirm_stalls // len(chosen))
            vendor_ids = db.session.scalars(
                select(Delivery.vendor_id).where(Delivery.status == "scheduled", Delivery.vendor_id.is_not(None))
                .group_by(Delivery.vendor_id).order_by(func.random()).limit(take)).all()
            for vendor_id in vendor_ids:
                # a login of this pass's own: a stall of the first pass may be drawn again when
                # some of its meals were left unconfirmed (refused at the peak)
                login = f"stall{vendor_id}.{len(chosen)}@{code.replace('.', '-')}.bench.example"
                user = accounts.create_user(email=login, password="bench-password", name="Stall", role="vendor",
                                            vendor_id=vendor_id)
                token = accounts.issue_token(user.email, "bench-password")[0]
                db.session.commit()
                for (delivery_id,) in db.session.execute(select(Delivery.id).where(
                        Delivery.vendor_id == vendor_id, Delivery.status == "scheduled")).all():
                    body = json.dumps({"status": "delivered", "latitude": -8.0, "longitude": 112.6})
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"confirm-{code}-{delivery_id}",
                               "Content-Type": "application/json"}
                    meals.append(("POST", f"/api/v1/deliveries/{delivery_id}/confirm", headers, body))
        db.session.remove()
        db.engine.dispose()
    rng.shuffle(meals)
    halves = []
    for half in (meals[: len(meals) // 2], meals[len(meals) // 2:]):
        requests = half + rng.sample(half, len(half) // 10)
        rng.shuffle(requests)
        halves.append(requests)
    server = serve(beside(url), "sync", 1)
    try:
        asyncio.run(load([("GET", "/api/v1/openapi.json", {}, "")] * 50, 8))  # warm the workers
        most = asyncio.run(load(halves[0], 8))
        at_peak = asyncio.run(paced(halves[1], peak * 1.1))  # the retries come on top
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    figures = []
    for seconds, results in (most, at_peak):
        times = [r[1] for r in results]
        errors = sum(1 for r in results if r[0] != 200)
        figures.append((len(results), len(results) / seconds, percentile(times, 50), percentile(times, 99), errors))
    return len(chosen), len(meals), *figures


def report(figures: dict, people, stalls) -> None:
    took, enrolled, covered, largest = figures["assign"]
    print(f"{'step':<58} {'province':>14} {'one region':>14}")
    print(f"{'assignment: seconds (all regions in parallel | the largest)':<58} {took:>14.1f} {largest[1]:>14.1f}")
    print(f"{'  recipients placed of enrolled':<58} {f'{covered:,}/{enrolled:,}':>14} "
          f"{f'{largest[3]:,}/{largest[2]:,}':>14}")
    took, rows, one = figures["schedule"]
    print(f"{'scheduling: meals written (others parallel | default alone)':<58} {rows:>14,} {one[2]:>14,}")
    print(f"{'scheduling: rows/s':<58} {rows / took:>14,.0f} {one[2] / one[1]:>14,.0f}")
    print(f"confirmations at the peak: {figures['peak']:,.0f} meals/s, one meal round of the whole province "
          f"(the day's meals over its {figures['rounds']} meal slots) confirmed within one hour; 10% more "
          f"retried; Poisson arrivals")
    for key, label in (("confirm", "all regions"), ("confirm_one", "one region")):
        regions_, meals, most, at_peak = figures[key]
        where = f"{regions_} regions" if regions_ > 1 else "1 region"
        print(f"confirmations ({label}: stalls of {where}, {meals:,} meals, half each way):")
        print(f"  {'as fast as 8 connections send them':<40} {most[0]:>6,} requests {most[1]:>6,.0f} req/s  "
              f"p50 {most[2]:>5.1f} ms  p99 {most[3]:>6.1f} ms  {most[4]} errors")
        print(f"  {'at the peak, each when it is due':<40} {at_peak[0]:>6,} requests {at_peak[1]:>6,.0f} req/s  "
              f"p50 {at_peak[2]:>5.1f} ms  p99 {at_peak[3]:>6.1f} ms  {at_peak[4]} errors")
    goal = (figures["assign"][0] < 60 and figures["confirm"][3][3] < 25
            and figures["confirm"][2][4] == figures["confirm"][3][4] == 0)
    print(f"goals here (assignment < 60 s, confirmation p99 at the peak < 25 ms, no errors): "
          f"{'met' if goal else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=size(38, 3))
    parser.add_argument("--recipients", type=int, default=size(500_000, 3_000))
    parser.add_argument("--stalls", type=int, default=size(20_000, 120))
    parser.add_argument("--confirm-stalls", type=int, default=size(400, 6))
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--engine", choices=("postgresql", "citus", "both"), default="postgresql" if SMOKE else "both")
    args = parser.parse_args()
    results = []
    for engine in (("postgresql", "citus") if args.engine == "both" else (args.engine,)):
        if engine == "citus" and not _citus_up():
            print(f"\n== Citus: no coordinator at 127.0.0.1:{CITUS_NODES[0]} "
                  "(../shared/tools/citus-cluster.sh starts one): not run ==")
            continue
        results.append(run(engine, args))
    if len(results) == 2:
        pg, citus = results
        ratio = (citus["schedule"][1] / citus["schedule"][0]) / (pg["schedule"][1] / pg["schedule"][0])
        print(f"\nscheduling rows/s, Citus / PostgreSQL: {ratio:.2f}  goal (>= 1): "
              f"{'met' if ratio >= 1 else 'NOT met'}")
        for figures in results:
            print(f"{figures['engine']:<36} assignment {figures['assign'][0]:>6.1f} s   confirmation p99 "
                  f"{figures['confirm'][3][3]:>5.1f} ms at the peak, {figures['confirm'][2][3]:>5.1f} ms flat out")


def _citus_up() -> bool:
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{CITUS_NODES[0]}/postgres", connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


if __name__ == "__main__":
    main()
