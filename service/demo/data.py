"""A believable demo program in Banyuwangi, built through the same service functions the API uses.

Places: ``banyuwangi_places.csv`` beside this file, from GeoNames (CC BY 4.0, credit: GeoNames).
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from faker import Faker
from geopy.distance import geodesic
from scipy.spatial import cKDTree
from sqlalchemy import bindparam, func, select, update

from service.accounts import passwords
from service.accounts import service as accounts
from service.accounts.models import Agency, User
from service.accounts.scope import Scope
from service.assignments import rebalance
from service.assignments.models import Assignment
from service.audit.service import creation_changes, record
from service.codes import code
from service.db import bulk_insert, default_region, refresh_statistics
from service.deliveries import coverage, scheduling
from service.deliveries.models import Delivery, DeliveryDay
from service.demo.complaints import load_complaints
from service.extensions import db
from service.geo import distance_m, sphere_xyz
from service.i18n import _
from service.program import clock
from service.program import service as program_service
from service.program.models import Area
from service.recipients import importing
from service.recipients.models import Pause, Recipient
from service.scheduler import jobs
from service.targets import service as targets
from service.tasks import recurring
from service.tasks import service as tasks
from service.tasks.models import Task
from service.vendors import service as vendors
from service.vendors.models import Vendor
from service.volunteers import claims
from service.volunteers import service as volunteer_service
from service.volunteers.models import Claim

PLACES = Path(__file__).with_name("banyuwangi_places.csv")
# Banyuwangi's districts (kecamatan) among the places, with their Kemendagri codes (35.10.xx).
DISTRICTS = {
    "Pesanggaran": "01", "Purwoharjo": "03", "Muncar": "05", "Gambiran Satu": "07", "Srono": "08",
    "Genteng": "09", "Kalibaru": "11", "Singojuruh": "12", "Banyuwangi": "16", "Wongsorejo": "18",
    "Songgon": "19", "Sempu": "20", "Kalipuro": "21", "Siliragung": "22", "Tegalsari": "23",
}
DEMO_PASSWORD = "rantang-demo"
AGENCIES = [
    ("Dinas Sosial Kabupaten Banyuwangi", "DINSOS", "social", "sosial"),
    ("Dinas Komunikasi, Informatika dan Persandian", "DISKOMINFO", "data", "data"),
    ("Dinas Kesehatan Kabupaten Banyuwangi", "DINKES", "health", "kesehatan"),
    ("Dinas Pendidikan Kabupaten Banyuwangi", "DISPENDIK", "education", "pendidikan"),
]
DOMAIN = "rantang.example"  # the default region's logins; another region's are <code>.rantang.example


@dataclass(frozen=True)
class Site:
    """Where a demo region is: its code, its places (name, latitude, longitude) and the districts
    among them (name -> the district's own two digits), and the domain of its logins."""

    code: str
    places: tuple[tuple[str, float, float], ...]
    districts: dict[str, str]
    domain: str
    name: str = "Banyuwangi"

    def email(self, login: str) -> str:
        return f"{login}@{self.domain}"


_site: Site | None = None  # the region being loaded (the default region's Banyuwangi unless said)


def site() -> Site:
    return _site or Site(default_region(), tuple(read_places()), DISTRICTS, DOMAIN)


def email(login: str) -> str:
    return site().email(login)


COORDINATOR = "koordinator"
STALL = "warung"
TEACHER = "guru"  # a second education user: school visits are spread over both
STALL_SHARE_OF_VILLAGES = 0.95  # stalls are recruited until they reach 95% of villages: a few stay unreached
NEEDS = ["makanan lunak", "rendah garam", "rendah gula", "tidak pedas", "vegetarian"]  # as written by Dinsos


DEMO = Scope.system("demo")


def on_behalf_of(user_id: int | None) -> Scope:
    """The demo doing what a member of staff did: the program's reach, the staff member's name."""
    return Scope(role="system", user_id=user_id, label="demo", region_code=site().code)


@dataclass
class Credential:
    email: str
    password: str
    role: str


# Regions a demo of several builds beyond Banyuwangi: a regency or city of a province of the real
# places (``indonesia_places.csv``), by its official code, across the three time zones.
OTHER_REGIONS = [("35.09", "Jember", "East Java", -8.17, 113.70), ("51.71", "Denpasar", "Bali", -8.65, 115.22),
                 ("91.71", "Jayapura", "Papua", -2.53, 140.72), ("32.73", "Bandung", "West Java", -6.91, 107.61),
                 ("53.71", "Kupang", "East Nusa Tenggara", -10.16, 123.60),
                 ("33.74", "Semarang", "Central Java", -6.97, 110.42),
                 ("52.71", "Mataram", "West Nusa Tenggara", -8.58, 116.12),
                 ("36.71", "Tangerang", "Banten", -6.18, 106.63),
                 ("73.71", "Makassar", "South Sulawesi", -5.14, 119.42),
                 ("63.71", "Banjarmasin", "South Kalimantan", -3.32, 114.59),
                 ("12.71", "Medan", "North Sumatra", 3.59, 98.67), ("13.71", "Padang", "West Sumatra", -0.95, 100.35),
                 ("11.71", "Banda Aceh", "Aceh", 5.55, 95.32)]
COUNTRY_PLACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "indonesia_places.csv"
# The places of those regions, taken from COUNTRY_PLACES by ``write_region_places`` and kept beside
# this file (a demo needs no copy of the whole country's): region code, name, latitude, longitude.
REGION_PLACES = Path(__file__).with_name("region_places.csv")
SITE_PLACES = 80  # villages of a demo region: the places nearest its centre, within SITE_KM
SITE_KM = 50
SITE_AT_LEAST = 30


def write_region_places(places_file: Path = COUNTRY_PLACES, out: Path = REGION_PLACES) -> None:
    """For each of ``OTHER_REGIONS``, its province's real places nearest the regency's centre: the
    ``SITE_PLACES`` nearest within ``SITE_KM``, nearest first.
    (``python -c "from service.demo.data import write_region_places; write_region_places()"``.)"""
    with places_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# Source: GeoNames (geonames.org), CC BY 4.0, via ../shared/data/indonesia_places.csv "
                     "(service.demo.data.write_region_places). Credit: GeoNames.\n")
        writer = csv.writer(handle)
        writer.writerow(["region", "timezone", "name", "latitude", "longitude"])
        for region, _name, province, lat, lon in OTHER_REGIONS:
            mine = [(r["name"], float(r["latitude"]), float(r["longitude"])) for r in rows if r["province"] == province]
            zone = next(r["timezone"] for r in rows if r["province"] == province)
            points = sphere_xyz(np.array([p[1] for p in mine]), np.array([p[2] for p in mine]))
            centre = sphere_xyz(np.array([lat]), np.array([lon]))[0]
            distances, near = cKDTree(points).query(centre, k=min(SITE_PLACES, len(mine)))
            # within SITE_KM, but never fewer than SITE_AT_LEAST (where the province has few places)
            near = np.atleast_1d(near)[(np.atleast_1d(distances) <= SITE_KM * 1000.0)
                                       | (np.arange(len(np.atleast_1d(near))) < SITE_AT_LEAST)]
            for i in near.tolist():
                writer.writerow([region, zone, mine[i][0], f"{mine[i][1]:.5f}", f"{mine[i][2]:.5f}"])


def other_sites(count: int) -> list[tuple[Site, str]]:
    """``count`` demo regions beyond the default, each with its time zone, over their real places
    (``REGION_PLACES``), every eighth a district."""
    if count > len(OTHER_REGIONS):
        raise ValueError(f"at most {len(OTHER_REGIONS) + 1} regions")
    with REGION_PLACES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    out = []
    for region, name, *_where in OTHER_REGIONS[:count]:
        chosen = tuple((r["name"], float(r["latitude"]), float(r["longitude"])) for r in rows if r["region"] == region)
        zone = next(r["timezone"] for r in rows if r["region"] == region)
        districts = {chosen[i][0]: f"{n + 1:02d}" for n, i in enumerate(range(0, len(chosen), 8))}
        out.append((Site(region, chosen, districts, f"{region.replace('.', '-')}.{DOMAIN}", name), zone))
    return out


def read_places() -> list[tuple[str, float, float]]:
    with PLACES.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [(r["name"], float(r["latitude"]), float(r["longitude"])) for r in rows]


def credentials(where: Site | None = None) -> list[Credential]:
    where = where or site()
    return [Credential(where.email(COORDINATOR), DEMO_PASSWORD, "coordinator")] + [
        Credential(where.email(login), DEMO_PASSWORD, f"agency ({kind})")
        for _, _, kind, login in AGENCIES
    ] + [Credential(where.email(TEACHER), DEMO_PASSWORD, "agency (education)"),
         Credential(where.email(STALL), DEMO_PASSWORD, "vendor (a food stall)"),
         Credential(where.email(VOLUNTEER), DEMO_PASSWORD, "volunteer (approved)")]


def load_areas() -> list[Area]:
    here = site()
    places = list(here.places)
    districts: dict[str, Area] = {}
    for name, lat, lon in places:
        if name in here.districts and name not in districts:
            districts[name] = program_service.create_area(
                name=name.removesuffix(" Satu"), kind="district", latitude=lat, longitude=lon,
                code=f"{here.code}.{here.districts[name]}",
            )
    villages = []
    for index, (name, lat, lon) in enumerate(places, start=1):
        district = min(districts.values(), key=lambda d: geodesic((lat, lon), (d.latitude, d.longitude)).km)
        villages.append(program_service.create_area(
            name=name, kind="village", latitude=lat, longitude=lon, parent_id=district.id,
            code=f"{district.code}.{2000 + index}",
        ))
    return villages


def make_nik(district_code: str, birth: dt.date, sex: str, serial: int) -> str:
    """A NIK of the district ``district_code`` (35.10.09: province, regency, district), the birth
    date (day + 40 for women) and a serial of four digits, 1 to 9999, that tells apart people of
    one district born on one day."""
    if not 1 <= serial <= 9999:
        raise ValueError(f"a NIK's serial has four digits (1-9999), not {serial}")
    day = birth.day + (40 if sex == "F" else 0)
    place = district_code.replace(".", "")[:6]
    return f"{place}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


class NikSerials:
    """Serials as the civil registry gives them: counted per district and birth date (and sex, which
    the date carries) from ``first``, so any number of people get distinct NIKs that agree with
    their birth."""

    def __init__(self, first: int = 1) -> None:
        self._first = first
        self._taken: Counter[tuple[str, dt.date, str]] = Counter()

    def nik(self, district_code: str, birth: dt.date, sex: str) -> str:
        key = (district_code[-2:], birth, sex)
        serial = self._first + self._taken[key]
        self._taken[key] += 1
        return make_nik(district_code, birth, sex, serial)


def load(recipient_count: int = 300, seed: int = 2026, say: Callable[[str], None] = lambda stage: None,
         where: Site | None = None) -> list[Credential]:
    """Areas, the four agencies with a user each, a coordinator, stalls, recipients in every status
    placed at the stalls, three weeks of meals and the agencies' work, in the region the session
    works in (``where``: its places; Banyuwangi's unless said). ``say`` hears each stage begin (the
    CLI shows them)."""
    global _site
    _site = where
    try:
        with passwords.allowing(DEMO_PASSWORD):  # published in the README: nobody else may choose it
            return _load(recipient_count, seed, say)
    finally:
        _site = None


def _load(recipient_count: int, seed: int, say: Callable[[str], None]) -> list[Credential]:
    rng = random.Random(seed)
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    say(_("areas, agencies and users"))
    villages = load_areas()
    for name, agency_code, kind, login in AGENCIES:
        agency = accounts.create_agency(name=name.replace("Banyuwangi", site().name), code=agency_code, kind=kind)
        accounts.create_user(email=email(login), password=DEMO_PASSWORD,
                             name=fake.name(), role="agency", agency_id=agency.id)
    accounts.create_user(email=email(COORDINATOR), password=DEMO_PASSWORD, name="Koordinator Program",
                         role="coordinator")
    today = clock.today()
    stall_villages, unreached = _stall_villages(villages)
    stalls_needed = math.ceil(STALL_PLACES_PER_RECIPIENT * recipient_count / 20)  # 20 places a stall on average
    say(_("%(count)s food stalls with their inspections", count=format(max(stalls_needed, len(stall_villages)), ",")))
    reached = [v for v in villages if v not in unreached]
    stalls = load_stalls(_stall_sites(stall_villages, reached, stalls_needed), rng, fake, today)
    accounts.create_user(email=email(STALL), password=DEMO_PASSWORD, name=stalls[0].owner_name, role="vendor",
                         vendor_id=stalls[0].id)
    say(_("%(count)s recipients, from candidate to exit", count=format(recipient_count, ",")))
    load_recipients(recipient_count, villages, unreached, rng, fake, today)
    say(_("placing the enrolled at stalls"))
    rebalance.rebalance()
    refresh_statistics(db.session)  # the days below are scheduled on tables just filled in bulk
    # The health agency's latest visit to a stall in a well-served area found it unfit: its
    # recipients move to the stalls around it now, and those that do not fit become uncovered.
    valid = stalls[3:3 + 300]  # among the first few hundred: enough to find a well-served one
    for stall in valid:
        db.session.expire(stall, ["assigned_count"])  # counted afresh, with the recipients just placed

    reach_m = program_service.get_program().max_vendor_distance_km * 1000
    neighbours = (_metres_between(valid) <= reach_m).sum(axis=1) - 1
    failing = max(zip(valid, neighbours.tolist()), key=lambda vn: (vn[1], vn[0].assigned_count, -vn[0].id))[0]
    vendors.record_inspection(failing.id, "hygiene", today - dt.timedelta(days=1), score=41, passed=False, scope=DEMO,
                              findings="tidak ada air mengalir di tempat cuci; nasi matang dibiarkan tanpa tutup")
    say(_("volunteers of the public, from sign-up to vetting, and the people they took on"))
    load_volunteers(rng, fake, villages, unreached, today)
    say(_("three weeks of meals, day by day"))
    load_history(rng, today, say=say)
    say(_("the agencies' work and targets"))
    load_work(rng, fake, today)
    load_volunteer_visits(today)
    _keep_figures_with_the_visits()
    say(_("complaints from the public"))
    load_complaints(fake, unreached, lambda code, born, sex: make_nik(code, born, sex, 9000 + rng.randint(0, 999)))
    return credentials()


VOLUNTEER = "relawan"
# How the demo's volunteers stand: most approved, some waiting for the social agency, a few refused.
VOLUNTEER_STATUSES = ["approved"] * 6 + ["pending"] * 3 + ["rejected", "suspended"]


def load_volunteers(rng: random.Random, fake: Faker, villages: list[Area], unreached: list[Area],
                    today: dt.date) -> None:
    """Volunteers signed up as the public does, in every status, vetted by the social agency; the
    first, approved, lives in a village no stall reaches, signs in as ``relawan@rantang.example``
    and took on two people three weeks ago: one to bring meals to (the history's meals are
    theirs), one to visit."""
    social = db.session.scalar(select(User.id).where(User.email == email("sosial")))
    scope = on_behalf_of(social)
    for index, status in enumerate(VOLUNTEER_STATUSES):
        village = unreached[0] if index == 0 and unreached else rng.choice(villages)
        volunteer = volunteer_service.sign_up(
            name=fake.name(), phone=f"0812{rng.randint(10_000_000, 99_999_999)}", password=DEMO_PASSWORD,
            village_id=village.id, email=email(VOLUNTEER) if index == 0 else None,
            skills=rng.sample(["deliver", "visit", "cook"], rng.randint(1, 2)) if index else ["deliver", "visit"],
            capacity=rng.randint(1, 3) if index else 3, accepts_code_of_conduct=True)
        if status in ("approved", "suspended"):
            volunteer_service.decide(volunteer.id, "approve", scope=scope)
        if status == "suspended":
            volunteer_service.decide(volunteer.id, "suspend", "dua kali tidak datang ke pembekalan", scope=scope)
        if status == "rejected":
            volunteer_service.decide(volunteer.id, "reject", "kepala desa tidak mengenalnya", scope=scope)
        if index == 0:
            _took_on(volunteer.id, today)


def _relawan() -> Scope:
    user = db.session.scalar(select(User).where(User.email == email(VOLUNTEER)))
    return Scope(role="volunteer", user_id=user.id, label=user.email, volunteer_id=user.volunteer_id,
                 region_code=user.region_code)


def _took_on(volunteer_id: int, today: dt.date) -> None:
    """The demo volunteer's claims, opened three weeks ago: the nearest person nobody feeds, and
    the nearest other not visited; never one with a pause to come (a pause ends the claim, and the
    demo would lose what it promises on the day the pause begins)."""
    scope = _relawan()
    opened = dt.datetime.combine(today - dt.timedelta(days=HISTORY_DAYS + 1), dt.time(9), tzinfo=dt.UTC)
    taken = set(db.session.scalars(select(Pause.recipient_id).where(Pause.end_date >= today)))
    for kind in ("deliver", "visit"):
        offered = [o for o in claims.opportunities(kind, claims.MAX_RADIUS_KM, per_page=100, scope=scope).items
                   if o.recipient_id not in taken]
        if offered:
            made = claims.claim(offered[0].recipient_id, kind, scope=scope)
            made.subject.opened_at = opened
            taken.add(offered[0].recipient_id)
    db.session.flush()


def load_volunteer_visits(today: dt.date) -> None:
    """The demo volunteer visited the person they visit a week ago and was worried: the social
    agency has the follow-up."""
    scope = _relawan()
    held = db.session.scalar(select(Claim).where(Claim.volunteer_id == scope.volunteer_id, Claim.kind == "visit",
                                                 Claim.status == "open"))
    if held is not None:
        claims.log_visit(held.recipient_id, today - dt.timedelta(days=7), "concern", hours=1.5,
                         notes="kami mengobrol di teras; beliau belum makan sejak pagi",
                         concern={"reason": "tinggal sendiri dan atapnya bocor di atas tempat tidur"}, scope=scope)


# Places at stalls for each recipient: enough for the enrolled (seven in ten) and a few more,
# so that those a stall cannot reach, not those a full stall turns away, stay uncovered.
STALL_PLACES_PER_RECIPIENT = 0.8


def _stall_sites(chosen: list[Area], reached: list[Area], count: int) -> list[Area]:
    """Where stalls open: one in each village chosen to reach the most; then, until there are
    ``count``, one more in each reached village in turn, so that places follow where people live
    (a big program has several stalls a village)."""
    more = max(count - len(chosen), 0)
    return chosen + [reached[i % len(reached)] for i in range(more)]


def load_recipients(count: int, villages: list[Area], unreached: list[Area], rng: random.Random, fake: Faker,
                    today: dt.date) -> None:
    """Recipients registered through the import the data agency uses (every check, in bulk), then
    taken along the lifecycle as the social agency would: most enrolled, some waiting, a few
    rejected, exited or paused. The changes are written in bulk, each in the audit trail."""
    serials = NikSerials()
    rows = []
    for serial in range(1, count + 1):
        # one in 25 lives in a remote hamlet no stall reaches: the uncovered the volunteers will seek
        village = rng.choice(unreached if serial % 25 == 0 else villages)
        sex = rng.choice("FFFM")  # most elderly people living alone are women
        birth = today - dt.timedelta(days=rng.randint(61 * 365, 94 * 365))
        gps = rng.random() < 0.7
        rows.append({
            "nik": serials.nik(village.parent.code, birth, sex), "birth_date": birth.isoformat(), "sex": sex,
            "name": fake.name_female() if sex == "F" else fake.name_male(),
            "address": f"{fake.street_address()}, RT {rng.randint(1, 9):02d}/RW {rng.randint(1, 9):02d}",
            "village_id": village.id, "phone": fake.phone_number() if rng.random() < 0.5 else None,
            "latitude": village.latitude + rng.uniform(-0.01, 0.01) if gps else None,
            "longitude": village.longitude + rng.uniform(-0.01, 0.01) if gps else None,
            "dietary_needs": rng.sample(NEEDS, k=rng.choice([0, 0, 1, 2])),
        })
    report = importing.import_recipients(rows)
    if report.rejected or report.duplicates:
        raise RuntimeError(f"demo recipients refused: {report.errors[:3]} {report.duplicate_rows[:3]}")
    _advance(report.created_ids, rng, today)


def _advance(ids: list[int], rng: random.Random, today: dt.date) -> None:
    """Move new candidates along the lifecycle: most are enrolled, some wait, a few leave."""
    now = clock.now()
    changes, pauses = [], []
    for recipient_id in ids:
        roll = rng.random()
        if roll < 0.15:
            continue  # still a candidate, waiting for the verification visit
        change = {"_id": recipient_id, "status": "verified", "verified_at": now, "enrolled_at": None,
                  "exited_at": None, "exit_reason": None,
                  "verification_notes": "tinggal sendiri; diverifikasi di rumah"}
        if roll < 0.20:
            change.update(status="rejected", verification_notes="tinggal bersama keluarga yang dapat merawatnya")
        elif roll >= 0.30:
            # in the program for a while: eligible on every day of the history
            change.update(status="enrolled", enrolled_at=now - dt.timedelta(days=rng.randint(HISTORY_DAYS + 7, 180)))
            if roll < 0.35:
                change.update(status="exited", exited_at=now, exit_reason=rng.choice(["deceased", "moved", "declined"]))
            elif roll < 0.42:
                start = today + dt.timedelta(days=rng.randint(0, 5))
                pauses.append({"recipient_id": recipient_id, "start_date": start,
                               "end_date": start + dt.timedelta(days=rng.randint(2, 14)),
                               "reason": rng.choice(["dirawat di rumah sakit", "menginap di rumah keluarga"]),
                               "created_at": now})
        changes.append(change)
    table = Recipient.__table__
    for first in range(0, len(changes), 5000):
        chunk = changes[first:first + 5000]
        db.session.execute(update(table).where(table.c.id == bindparam("_id")).values(
            status=bindparam("status"), verified_at=bindparam("verified_at"), enrolled_at=bindparam("enrolled_at"),
            exited_at=bindparam("exited_at"), exit_reason=bindparam("exit_reason"),
            verification_notes=bindparam("verification_notes"), version=table.c.version + 1,
            updated_at=now), chunk)
        record(db.session, [("update", "recipient", c["_id"], {"status": ["candidate", c["status"]]}) for c in chunk])
    pause_ids = bulk_insert(db.session, Pause.__table__, pauses)
    record(db.session, [("create", "pause", pid, creation_changes(p)) for pid, p in zip(pause_ids, pauses)])


def _metres_between(places: list) -> np.ndarray:
    """Distances in metres between every two of ``places`` (anything with latitude, longitude)."""
    lat = np.array([p.latitude for p in places])
    lon = np.array([p.longitude for p in places])
    return distance_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def _stall_villages(villages: list[Area]) -> tuple[list[Area], list[Area]]:
    """Where the program office recruits stalls: each time the village whose stall would reach the
    most villages not yet reached, until 95% are. Also the villages left unreached. A village
    counts as reached 1 km inside the program's reach: its people live around its centre."""
    reach_m = (program_service.get_program().max_vendor_distance_km - 1) * 1000
    within = _metres_between(villages) <= reach_m
    reach = {v.id: {villages[j].id for j in np.flatnonzero(within[i])} for i, v in enumerate(villages)}
    chosen: list[Area] = []
    reached: set[int] = set()
    while len(reached) < STALL_SHARE_OF_VILLAGES * len(villages):
        best = max(villages, key=lambda v: (len(reach[v.id] - reached), -v.id))
        chosen.append(best)
        reached |= reach[best.id]
    return chosen, [v for v in villages if v.id not in reached]


def load_stalls(places: list[Area], rng: random.Random, fake: Faker, today: dt.date) -> list[Vendor]:
    """Partner stalls with inspection histories: the first (the demo stall login's) and most hold a
    valid certificate, the second was never inspected, the third's certificate has expired (and
    one more fails after recipients are placed, at the end of ``load``)."""
    stalls = []
    for index, village in enumerate(places):
        owner = fake.name_female() if rng.random() < 0.8 else fake.name_male()
        stall = vendors.register_vendor(
            name=f"Warung {owner.split()[0]}", owner_name=owner, phone=fake.phone_number(),
            address=f"{fake.street_address()}, {village.name}", village_id=village.id,
            latitude=village.latitude + rng.uniform(-0.004, 0.004),
            longitude=village.longitude + rng.uniform(-0.004, 0.004), daily_capacity=rng.choice([15, 20, 25]),
        ).subject
        stalls.append(stall)
        if index == 1:
            continue  # registered last week, waiting for its first inspection
        latest = today - dt.timedelta(days=rng.randint(7, 150) if index != 2 else 200)  # index 2: expired
        for inspected in (latest - dt.timedelta(days=180), latest):
            vendors.record_inspection(stall.id, "hygiene", inspected, score=rng.randint(72, 95), passed=True,
                                      scope=DEMO,
                                      findings="dapur bersih; air aman; makanan tertutup")
        score = rng.randint(60, 95)
        vendors.record_inspection(stall.id, "nutrition", latest, score=score, scope=DEMO, passed=score >= 70,
                                  findings="ukuran porsi dan protein diperiksa")
    return stalls


HISTORY_DAYS = 21
FAILURE_REASONS = ["tidak di rumah", "rumah terkunci, kata tetangga sedang ke pasar", "menolak makanan",
                   "jalan banjir", "motor mogok"]


def load_history(rng: random.Random, today: dt.date, days: int = HISTORY_DAYS,
                 say: Callable[[str], None] = lambda stage: None) -> None:
    """Three weeks of the daily loop before today, closed as the cut-off closes them: most meals
    delivered (most with the phone's GPS), some failed with a reason, some missed; one stall has
    a bad week; one recipient went unfed the last three days and is flagged. Then today and, after
    the evening's scheduling time, tomorrow are scheduled as the job runner's catch-up would."""
    program = program_service.get_program()
    hours = {slot: 11 + 6 * i for i, slot in enumerate(program.meal_slots)}  # 11:00 lunch, 17:00 dinner
    fed = db.session.execute(
        select(Assignment.recipient_id, Assignment.vendor_id).join(Recipient, Recipient.id == Assignment.recipient_id)
        .where(Recipient.status == "enrolled", Assignment.vendor_id.is_not(None)).order_by(Assignment.recipient_id)
    ).all()
    stalls = sorted({vendor_id for _, vendor_id in fed})
    bad_stall = stalls[len(stalls) // 2] if stalls else None
    unfed = fed[-1].recipient_id if fed else None
    # Today belongs to the history too once its cut-off has passed (a demo loaded in the evening).
    last = 0 if scheduling.first_open_day(program) > today else 1
    for back in range(days - 1 + last, last - 1, -1):
        day = today - dt.timedelta(days=back)
        scheduling.insert_due(day)
        db.session.add(DeliveryDay(date=day, scheduled_at=clock.at(day - dt.timedelta(days=1), program.schedule_time,
                                                                    program)))
        _confirm_as_stalls_would(rng, day, program, hours, bad_stall if back < last + 7 else None,
                                 unfed if back < last + 3 else None)
        scheduling.close_day(day)
        say("  " + _("%(day)s: meals confirmed, the day closed", day=day))
    jobs.catch_up()
    # Today so far, if still open: the meals whose round has passed are confirmed.
    _confirm_as_stalls_would(rng, today, program, hours, None, None, until=clock.now())


def _keep_figures_with_the_visits() -> None:
    """The days of the history were closed before the agencies' work above was written, so their
    cut-offs kept no visit: they keep now what they would have kept had the visits been made by
    then (``visit_rate`` is read from the last day closed)."""
    for row in db.session.scalars(select(DeliveryDay).where(DeliveryDay.closed_at.is_not(None))):
        coverage.keep_day_figures(row)
    db.session.flush()


def _confirm_as_stalls_would(rng: random.Random, day: dt.date, program: clock.Located, hours: dict[str, int],
                             bad_stall: int | None, unfed: int | None, until: dt.datetime | None = None) -> None:
    """Confirm ``day``'s meals as phones would (handed over before ``until``, if given): most
    delivered, most of those with GPS; some failed with a reason; the rest left to be missed (a
    volunteer's, all delivered)."""
    rows = db.session.execute(
        select(Delivery.id, Delivery.vendor_id, Delivery.recipient_id, Delivery.meal, Recipient.latitude,
               Recipient.longitude).join(Recipient, Recipient.id == Delivery.recipient_id)
        .where(Delivery.date == day, Delivery.status == "scheduled").order_by(Delivery.id)
    ).all()
    outcomes = []
    for delivery_id, vendor_id, recipient_id, meal, lat, lon in rows:
        handed = clock.at(day, dt.time(hours.get(meal, 12), rng.randint(0, 59)), program)
        confirmed = handed + dt.timedelta(minutes=rng.randint(1, 90))
        if until is not None and confirmed > until:
            continue
        # A volunteer's meals are all delivered: two misses running would end their claim (no_show),
        # and the demo promises a volunteer who fed someone through the whole history, whatever the day.
        roll = 1.0 if recipient_id == unfed else 0.0 if vendor_id is None else rng.random()
        bad = vendor_id == bad_stall
        if roll < (0.75 if bad else 0.95):
            gps = rng.random() < 0.8
            outcomes.append({"_id": delivery_id, "status": "delivered", "reason": None, "delivered_at": handed,
                             "latitude": lat + rng.uniform(-0.0003, 0.0003) if gps else None,
                             "longitude": lon + rng.uniform(-0.0003, 0.0003) if gps else None,
                             "confirmed_at": confirmed})
        elif roll < (0.9 if bad else 0.98):
            outcomes.append({"_id": delivery_id, "status": "failed", "reason": rng.choice(FAILURE_REASONS),
                             "delivered_at": None, "latitude": None, "longitude": None, "confirmed_at": confirmed})
    if outcomes:
        table = Delivery.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("_id")).values(
                status=bindparam("status"), reason=bindparam("reason"), delivered_at=bindparam("delivered_at"),
                latitude=bindparam("latitude"), longitude=bindparam("longitude"),
                confirmed_at=bindparam("confirmed_at")),
            outcomes,
        )


CONCERNS = [  # what students saw, and who can act on it
    ("health", "batuk dua minggu dan tampak lebih kurus",
     "batuk berkepanjangan dan berat badan turun: mohon diperiksa"),
    ("social", "atap bocor di atas tempat tidur; tidur di kamar basah", "program bedah rumah"),
    ("health", "kaki bengkak, katanya tidak kuat berjalan ke sumur", "periksa kakinya; mungkin perlu alat bantu jalan"),
]


@dataclass
class _Work:
    """The agencies' work as the demo writes it: tasks opened and done by their staff, on days before today."""

    agency: dict[str, Agency]
    staff: dict[str, int]
    today: dt.date

    def task(self, kind: str, type_: str, opened: int, due: int, by: int | None = None, **fields) -> Task:
        return tasks.create_task(type_, self.today + dt.timedelta(days=due), agency_id=self.agency[kind].id,
                                 scope=on_behalf_of(by or self.staff[kind]),
                                 opened_on=self.today - dt.timedelta(days=opened), **fields)

    def done(self, made: Task, outcome: str, days_ago: int, by: int, **fields) -> Task:
        return tasks.complete_task(made.id, outcome, completed_on=self.today - dt.timedelta(days=days_ago),
                                   scope=on_behalf_of(by), **fields)


def load_work(rng: random.Random, fake: Faker, today: dt.date) -> None:
    """The agencies' work on the program: a month of school visits done on time or late, a few
    with concerns referred onward (one passed on again), inspections and nutrition checks,
    complaints, verification visits, the job runner's recurring work (some of it overdue), a
    cancelled task, and targets: in force, partly signed, one still a draft."""
    agency = {a.kind: a for a in db.session.scalars(select(Agency))}
    staff = {kind: db.session.scalars(select(User.id).where(User.agency_id == a.id).order_by(User.id)).first()
             for kind, a in agency.items()}
    teacher = accounts.create_user(email=email(TEACHER), password=DEMO_PASSWORD, name=fake.name_female(),
                                   role="agency", agency_id=agency["education"].id).id
    coordinator = db.session.scalar(select(User.id).where(User.email == email(COORDINATOR)))
    work = _Work(agency, staff, today)
    enrolled = db.session.execute(select(Recipient.id, Recipient.name).where(Recipient.status == "enrolled")
                                  .order_by(Recipient.id)).all()
    visitors = [staff["education"], teacher]
    _concerns(work, enrolled[:len(CONCERNS)], visitors)
    _school_visits_a_month_ago(enrolled[len(CONCERNS):], agency["education"].id, visitors, rng, today)
    valid = [v for v in db.session.scalars(select(Vendor).order_by(Vendor.id)) if v.may_cook_on(today)]
    _stalls_work(work, valid)
    _offices_work(work, enrolled[-1].id)
    _this_morning(work, valid)
    _targets(agency, staff, coordinator, today)
    db.session.flush()


def _concerns(work: _Work, people, visitors: list[int]) -> None:
    """A month ago three school visits found a concern, referred as a school would: one examined and
    passed on again, one waiting past its due date."""
    for n, person in enumerate(people):
        by = visitors[n % 2]
        visit = work.task("education", "school_visit", 24, -17, by=by, recipient_id=person.id, assignee_id=by)
        kind, seen, reason = CONCERNS[n]
        visited = work.done(visit, "concern", 20, by, notes=seen, referral={"agency_id": work.agency[kind].id,
                                                                            "reason": reason})
        follow_up = db.session.get(Task, visited.referral_ids[0])  # opened the day of the visit
        if n == 0:  # examined; passed on to the social agency for help at home
            work.done(follow_up, "resolved", 15, work.staff["health"], notes="bukan TBC; vitamin dan rencana makan",
                      referral={"agency_id": work.agency["social"].id, "reason": "perlu ada yang menengok setiap hari"})
        elif n == 1:
            follow_up.due_date = work.today - dt.timedelta(days=2)  # overdue: the repair is waiting


def _stalls_work(work: _Work, valid: list[Vendor]) -> None:
    """The health agency's nutrition checks and a complaint about a stall."""
    if not valid:
        return
    check = work.task("health", "nutrition_check", 12, -5, vendor_id=valid[0].id)
    work.done(check, "passed", 6, work.staff["health"], score=84, notes="porsi sesuai; diminta lebih banyak sayur")
    work.task("health", "nutrition_check", 3, 10, vendor_id=valid[-1].id)
    complaint = work.task("health", "complaint", 9, -4, vendor_id=valid[-1].id,
                          notes="sebuah keluarga bilang nasinya berbau asam hari Selasa")
    work.done(complaint, "unfounded", 7, work.staff["health"],
              notes="dapur diperiksa; nasi dimasak baru dua kali sehari")


def _offices_work(work: _Work, complained_of: int) -> None:
    """The offices' own work: a complaint, lists to digitise, a visit no longer needed."""
    work.task("social", "complaint", 2, 3, recipient_id=complained_of,
              title="Pengaduan: makanan datang dingin dua kali",
              notes="dilaporkan anaknya lewat telepon")
    work.task("data", "other", 14, -7, title="Digitalkan daftar calon Muncar dari kertas")
    work.done(work.task("data", "other", 30, -20, title="Cocokkan daftar penerima dengan data Dukcapil"),
              "done", 21, work.staff["data"], notes="NIK diperiksa: 3 diperbaiki")
    cancelled = work.task("social", "other", 10, -3, title="Kunjungan rumah bersama kepala desa")
    tasks.cancel_task(cancelled.id, "the village head came to the office instead",
                      scope=on_behalf_of(work.staff["social"]))


def _this_morning(work: _Work, valid: list[Vendor]) -> None:
    """Today's recurring work, as the job runner opens it every morning; a few already done."""
    recurring.open_recurring(work.today)
    if len(valid) > 1:  # a routine re-inspection, done this morning (the stalls the job asked for still wait)
        work.done(work.task("health", "hygiene_inspection", 5, 2, vendor_id=valid[1].id), "passed", 0,
                  work.staff["health"], score=86, notes="bersih; air diuji aman")
    candidates = db.session.scalars(select(Task).where(Task.type == "verification_visit", Task.status == "open")
                                    .order_by(Task.id)).all()
    notes = {"verified": "tinggal sendiri; diverifikasi di rumah",
             "rejected": "tinggal bersama putrinya yang merawatnya",
             "not_found": "tidak ada orang di alamat itu"}
    for visit, outcome in zip(candidates, ("verified", "rejected", "not_found")):
        work.done(visit, outcome, 0, work.staff["social"], notes=notes[outcome])


def _school_visits_a_month_ago(people, agency_id: int, visitors: list[int], rng: random.Random,
                               today: dt.date) -> None:
    """The month's school visits of ``people`` (id, name), as the job runner opened them 24 days
    ago and the students did them, in bulk (tens of thousands at scale), each in the audit trail."""
    opened, due, now = today - dt.timedelta(days=24), today - dt.timedelta(days=17), clock.now()
    rows = []
    for n, person in enumerate(people):
        by = visitors[n % 2]
        roll = rng.random()
        outcome, days_ago, notes = (
            ("visited", rng.randint(18, 23), "sehat; bercerita tentang keluarga dan makanannya") if roll < 0.75 else
            ("visited", rng.randint(8, 16), "dikunjungi terlambat: ujian di sekolah") if roll < 0.88 else
            ("not_at_home", rng.randint(18, 23), "kata tetangga sedang ke pasar") if roll < 0.94 else
            (None, None, None))  # still open, overdue
        done_on = today - dt.timedelta(days=days_ago) if days_ago is not None else None
        rows.append({
            "type": "school_visit", "agency_id": agency_id, "title_code": code("task_title", type="school_visit",
                                                                              subject=person.name),
            "status": "done" if outcome else "open", "opened_on": opened, "due_date": due,
            "recipient_id": person.id, "origin": "recurring", "dedupe_key": f"school_visit:{person.id}",
            "assignee_id": by, "outcome": outcome, "outcome_notes": notes, "completed_on": done_on,
            "completed_at": now if outcome else None, "completed_by": by if outcome else None,
            "version": 1, "created_at": now, "updated_at": now,
        })
    ids = bulk_insert(db.session, Task.__table__, rows)
    record(db.session, [("create", "task", task_id, creation_changes(row)) for task_id, row in zip(ids, rows)])


def _targets(agency: dict[str, Agency], staff: dict[str, int], coordinator: int, today: dt.date) -> None:
    """The program's targets: four in force, one waiting for the education agency's signature."""
    everyone = [agency[k].id for k in ("social", "data", "health", "education")]
    plans = [
        ("Setiap lansia terdaftar mendapat makanan setiap hari", "coverage_rate", 0.95, 38, "social", everyone),
        ("Makanan yang keluar dari dapur sampai ke penerima", "delivery_rate", 0.9, 38, "social",
         [agency["social"].id]),
        ("Setiap warung memasak dengan sertifikat higiene yang berlaku", "hygiene_valid_rate", 0.9, 30, "health",
         [agency["health"].id, agency["social"].id]),
        ("Setiap lansia dikunjungi pelajar setiap bulan", "visit_rate", 0.8, 60, "education",
         [agency["education"].id, agency["social"].id]),
        ("Menjangkau 250 lansia yang hidup sendiri", "enrolled_count", 250, 90, "social",
         [agency["social"].id, agency["data"].id]),
    ]
    for title, indicator, threshold, days, owner, signatories in plans:
        target = targets.create_target(title, indicator, threshold, today + dt.timedelta(days=days),
                                       agency[owner].id, signatories, scope=on_behalf_of(coordinator))
        unsigned = {agency["education"].id} if indicator == "visit_rate" else set()  # still a draft
        for agency_id in signatories:
            if agency_id not in unsigned:
                kind = next(k for k, a in agency.items() if a.id == agency_id)
                targets.sign_target(target.id, scope=Scope(role="agency", user_id=staff[kind], label="demo",
                                                           agency_id=agency_id, agency_kind=kind))


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Recipient)) and not db.session.scalar(
        select(func.count()).select_from(Area))
