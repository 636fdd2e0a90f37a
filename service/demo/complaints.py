"""The demo's complaints from the public: one in every status, one past its deadlines (escalated
to the coordinator), an anonymous and a confidential one, a dirty stall reported through Open311
from a phone (the stall found by its point), and a report of an elderly person nobody feeds who
became a candidate with a verification visit for the social agency."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from faker import Faker
from sqlalchemy import select

from service.accounts.models import Agency, User
from service.accounts.scope import Scope
from service.complaints import service as complaints
from service.complaints.models import FORWARD_WORKING_DAYS, RESPOND_WORKING_DAYS, Complaint
from service.extensions import db
from service.program import calendar, clock
from service.program.models import Area
from service.recipients.models import Recipient
from service.vendors.models import Vendor

DEMO = Scope.system("demo")


def _staff(kind: str) -> Scope:
    agency = db.session.scalar(select(Agency).where(Agency.kind == kind).order_by(Agency.id))
    user = db.session.scalar(select(User.id).where(User.agency_id == agency.id).order_by(User.id))
    return Scope(role="agency", user_id=user, label="demo", agency_id=agency.id, agency_kind=kind)


def _filed(days_ago: int, category: str, description: str, **fields) -> Complaint:
    """A complaint as if filed ``days_ago`` days ago at 09:30, its deadlines counted from then."""
    complaint = complaints.file_complaint(category, description, **fields)
    moment = clock.now().replace(hour=2, minute=30) - dt.timedelta(days=days_ago)  # 09:30 in Jakarta
    complaint.received_at, complaint.received_on = moment, complaint.received_on - dt.timedelta(days=days_ago)
    complaint.counts_from, (complaint.forward_by, complaint.respond_by) = calendar.deadlines(
        moment, FORWARD_WORKING_DAYS, RESPOND_WORKING_DAYS)
    for step in complaint.history:
        step.at = moment
    if complaint.forwarded_at is not None:
        complaint.forwarded_at = moment
    db.session.flush()
    return complaint


def _backdate_last(complaint: Complaint, days_ago: int) -> None:
    moment = clock.now() - dt.timedelta(days=days_ago)
    complaint.history[-1].at = moment
    if complaint.status == "answered" and complaint.answered_at is not None:
        complaint.answered_at, complaint.answered_on = moment, clock.today() - dt.timedelta(days=days_ago)
    db.session.flush()


def load_complaints(fake: Faker, unreached: list[Area], nik_of: Callable[[str, dt.date, str], str]) -> None:
    """``nik_of(district_code, birth, sex)``: a NIK for the reported person."""
    social, health = _staff("social"), _staff("health")
    stall = db.session.scalar(select(Vendor.id).order_by(Vendor.id))
    person = db.session.scalar(select(Recipient).where(Recipient.status == "enrolled").order_by(Recipient.id))
    village = person.village_id

    # received: "other", waiting for the coordinator's triage since this morning
    complaints.file_complaint("other", "Apakah program ini juga menerima lansia yang tinggal bersama cucunya?",
                              contact_name=fake.name(), contact_phone="0812 3300 1122", village_id=village)
    # past its deadlines: nobody triaged it for nine days (the job runner escalates it)
    _filed(9, "other", "Sudah dua minggu tidak ada yang datang ke rumah kakek saya di dusun sebelah.",
           contact_name=fake.name(), contact_phone="0813 4455 6677", village_id=village)
    # forwarded: a missed meal, with the social agency since yesterday
    _filed(1, "missed_meal", "Ibu saya tidak menerima makanan kemarin siang, rantangnya tidak datang.",
           contact_name=fake.name(), contact_phone="0857 1234 5678", village_id=village, recipient_id=person.id)
    # in progress: food quality, the health agency is looking into it (confidential: the reporter
    # works at the stall)
    quality = _filed(2, "food_quality", "Nasi yang diantar sudah basi dan sayurnya asam, dua hari berturut-turut.",
                     contact_name=fake.name(), contact_phone="0821 9876 5432", confidential=True, vendor_id=stall)
    complaints.start(quality.id, scope=health)
    _backdate_last(quality, 1)
    # forwarded: a dirty stall reported through Open311 from a phone some 20 m from it, naming none:
    # the health agency is shown the stall nearest the point, the address and the picture's link
    near = db.session.get(Vendor, stall)
    _filed(0, "hygiene", "Warung dekat pasar membuang sisa masakan ke selokan, baunya sampai ke jalan.",
           contact_email="warga.peduli@example.com", latitude=round(near.latitude + 0.0002, 6),
           longitude=near.longitude, address="Depan pasar, sebelah toko kelontong",
           media_url="https://example.com/foto/selokan.jpg", channel="open311")
    # answered: a dirty stall, anonymous, inspected and answered
    dirty = _filed(4, "hygiene", "Dapur warung penuh lalat dan tempat cuci piring tidak ada air mengalir.",
                   anonymous=True, vendor_id=stall)
    complaints.start(dirty.id, scope=health)
    _backdate_last(dirty, 2)
    complaints.answer(dirty.id, "Warung sudah diperiksa Dinas Kesehatan; pemiliknya diminta memperbaiki tempat "
                                "cuci dalam tiga hari dan akan diperiksa ulang.",
                      "Inspeksi ulang dijadwalkan; skor sementara 62.", scope=health)
    _backdate_last(dirty, 1)
    # closed: a rude courier, answered long ago, and the ten days to question it over
    rude = _filed(20, "behaviour", "Kurir yang mengantar membentak nenek saya karena lama membuka pintu.",
                  contact_name=fake.name(), contact_phone="0852 1111 3333", village_id=village)
    complaints.answer(rude.id, "Kami sudah berbicara dengan kurir dan warungnya; kurir meminta maaf.",
                      "Kurir diganti untuk rute ini.", scope=social)
    _backdate_last(rude, 16)
    # rejected: not about the program
    spam = _filed(3, "other", "Jual pulsa dan paket data murah, hubungi nomor ini sekarang juga!")
    complaints.reject(spam.id, "spam", scope=DEMO)
    _backdate_last(spam, 2)
    # a report of an elderly man nobody feeds, in a village no stall reaches: a candidate now
    where = unreached[0] if unreached else person.village
    born = dt.date(1944, 8, 17)
    _filed(1, "unreached_elderly", "Mbah Karto tinggal sendiri di gubuk dekat sawah, sering tidak makan.",
           contact_name=fake.name(), contact_phone="0878 2222 4444", village_id=where.id,
           elderly={"name": "Karto Wiryo", "village_id": where.id, "address": "Dusun Krajan, dekat sawah",
                    "nik": nik_of(where.code[:8] if where.code else "35.10.01", born, "M")})
    complaints.watch_deadlines()
    db.session.flush()
