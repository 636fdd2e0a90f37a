"""A believable demo program in Banyuwangi, built through the same service functions the API uses.

Places: ``banyuwangi_places.csv`` beside this file, from GeoNames (CC BY 4.0, credit: GeoNames).
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from faker import Faker
from geopy.distance import geodesic
from sqlalchemy import func, select

from service.accounts import service as accounts
from service.extensions import db
from service.program import service as program_service
from service.program.models import Area
from service.recipients import service as recipients
from service.recipients.models import Recipient

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
COORDINATOR_EMAIL = "koordinator@rantang.example"
NEEDS = ["soft food", "low salt", "low sugar", "no spicy food", "vegetarian"]


@dataclass
class Credential:
    email: str
    password: str
    role: str


def read_places() -> list[tuple[str, float, float]]:
    with PLACES.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return [(r["name"], float(r["latitude"]), float(r["longitude"])) for r in rows]


def credentials() -> list[Credential]:
    return [Credential(COORDINATOR_EMAIL, DEMO_PASSWORD, "coordinator")] + [
        Credential(f"{login}@rantang.example", DEMO_PASSWORD, f"agency ({kind})")
        for _, _, kind, login in AGENCIES
    ]


def load_areas() -> list[Area]:
    places = read_places()
    districts: dict[str, Area] = {}
    for name, lat, lon in places:
        if name in DISTRICTS and name not in districts:
            districts[name] = program_service.create_area(
                name=name.removesuffix(" Satu"), kind="district", latitude=lat, longitude=lon,
                code=f"35.10.{DISTRICTS[name]}",
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
    day = birth.day + (40 if sex == "F" else 0)
    return f"3510{district_code[-2:]}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def load(recipient_count: int = 300, seed: int = 2026) -> list[Credential]:
    """Areas, the four agencies with a user each, a coordinator, and recipients in every status."""
    rng = random.Random(seed)
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    villages = load_areas()
    for name, code, kind, login in AGENCIES:
        agency = accounts.create_agency(name=name, code=code, kind=kind)
        accounts.create_user(email=f"{login}@rantang.example", password=DEMO_PASSWORD,
                             name=fake.name(), role="agency", agency_id=agency.id)
    accounts.create_user(email=COORDINATOR_EMAIL, password=DEMO_PASSWORD, name="Koordinator Program",
                         role="coordinator")
    today = program_service.today()
    for serial in range(1, recipient_count + 1):
        village = rng.choice(villages)
        sex = rng.choice("FFFM")  # most elderly people living alone are women
        birth = today - dt.timedelta(days=rng.randint(61 * 365, 94 * 365))
        name = fake.name_female() if sex == "F" else fake.name_male()
        gps = rng.random() < 0.7
        recipient = recipients.register_recipient(
            nik=make_nik(village.parent.code, birth, sex, serial), name=name, birth_date=birth, sex=sex,
            address=f"{fake.street_address()}, RT {rng.randint(1, 9):02d}/RW {rng.randint(1, 9):02d}",
            village_id=village.id, phone=fake.phone_number() if rng.random() < 0.5 else None,
            latitude=village.latitude + rng.uniform(-0.01, 0.01) if gps else None,
            longitude=village.longitude + rng.uniform(-0.01, 0.01) if gps else None,
            dietary_needs=rng.sample(NEEDS, k=rng.choice([0, 0, 1, 2])),
        )
        _advance(recipient, rng, today)
    return credentials()


def _advance(recipient: Recipient, rng: random.Random, today: dt.date) -> None:
    """Move a new candidate along the lifecycle: most are enrolled, some wait, a few leave."""
    roll = rng.random()
    if roll < 0.15:
        return  # still a candidate, waiting for the verification visit
    if roll < 0.20:
        recipients.verify_recipient(recipient.id, eligible=False, notes="lives with family who can care for them")
        return
    recipients.verify_recipient(recipient.id, eligible=True, notes="lives alone; verified at home")
    if roll < 0.30:
        return  # verified, waiting to be enrolled
    recipients.enrol_recipient(recipient.id)
    if roll < 0.35:
        recipients.exit_recipient(recipient.id, reason=rng.choice(["deceased", "moved", "declined"]))
    elif roll < 0.42:
        start = today + dt.timedelta(days=rng.randint(0, 5))
        recipients.add_pause(recipient.id, start, start + dt.timedelta(days=rng.randint(2, 14)),
                             reason=rng.choice(["in hospital", "staying with family"]))


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Recipient)) and not db.session.scalar(
        select(func.count()).select_from(Area))
