"""The daily loop through the API: scheduling, manifests, confirmations from phones, photos, the
cut-off, statements. The program's clock is set in each test (Asia/Jakarta)."""
from __future__ import annotations

import datetime as dt
import io
import itertools

import numpy as np
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from service.extensions import db
from tests.conftest import at_jakarta
from tests.test_vendors import inspect

D = "/api/v1/deliveries"
TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)


def schedule(client, headers, day=TOMORROW):
    return client.post(f"{D}/schedule", json={"date": day.isoformat()}, headers=headers)


def deliveries_of(client, headers, **args):
    response = client.get(D, query_string={"per_page": 500, **args}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def confirm(client, headers, delivery_id, key=None, **body):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"{D}/{delivery_id}/confirm", json={"status": "delivered", **body},
                       headers={**headers, **extra})


def test_scheduling_creates_each_meal_once(client, coordinator, loop, make_recipient, social):
    paused = make_recipient("enrolled")
    client.post(f"/api/v1/recipients/{paused['id']}/pauses", headers=social,
                json={"start_date": TOMORROW.isoformat(), "end_date": TOMORROW.isoformat(), "reason": "hospital"})
    make_recipient("exited")
    make_recipient("verified")

    first = schedule(client, coordinator)
    assert first.status_code == 200, first.json
    assert first.json == {"date": TOMORROW.isoformat(), "created": 6, "existing": 0, "moved": 0}
    again = schedule(client, coordinator)
    assert again.json == {"date": TOMORROW.isoformat(), "created": 0, "existing": 6, "moved": 0}

    rows = deliveries_of(client, coordinator, date=TOMORROW.isoformat())
    assert sorted((r["recipient_id"], r["meal"]) for r in rows) == sorted(
        (rid, meal) for rid in loop.ids for meal in ("lunch", "dinner"))
    assert {(r["vendor_id"], r["status"]) for r in rows} == {(loop.a.id, "scheduled")}


def test_no_meals_from_a_stall_that_may_not_cook_that_day(client, coordinator, health, loop, make_vendor,
                                                          make_recipient, monkeypatch):
    # A stall whose certificate ends today: tomorrow its recipients go to stall B first.
    expiring = make_vendor("Tembokrejo", capacity=5, hygiene=None)
    inspect(client, health, expiring.id, inspected_on=(TODAY - dt.timedelta(days=180)).isoformat())
    person = make_recipient("enrolled", village_id=expiring.village_id, latitude=-8.4367, longitude=114.3226)
    assert person["vendor_id"] == expiring.id
    report = schedule(client, coordinator).json
    assert report["moved"] == 1  # nobody else within reach: uncovered, so no meal
    assert not deliveries_of(client, coordinator, recipient_id=person["id"])


def test_bad_dates_are_refused(client, coordinator, loop, monkeypatch):
    assert schedule(client, coordinator, TODAY - dt.timedelta(days=1)).status_code == 422
    assert schedule(client, coordinator, TODAY + dt.timedelta(days=30)).status_code == 422
    at_jakarta(monkeypatch, TODAY, hour=21, minute=30)  # today's cut-off has passed
    response = schedule(client, coordinator, TODAY)
    assert response.status_code == 422 and "date" in response.json["errors"]
    assert client.post(f"{D}/schedule", json={"date": "tomorrow"}, headers=coordinator).status_code == 422


def test_only_the_coordinator_schedules(client, social, loop):
    assert schedule(client, social).status_code == 403
    assert schedule(client, loop.phone_a).status_code == 403


def test_pause_and_exit_cancel_scheduled_meals_and_a_cancelled_pause_restores_them(client, coordinator, social,
                                                                                     loop):
    schedule(client, coordinator)
    first, second = loop.ids[:2]
    pause = client.post(f"/api/v1/recipients/{first}/pauses", headers=social,
                        json={"start_date": TOMORROW.isoformat(), "end_date": TOMORROW.isoformat(),
                              "reason": "staying with family"})
    assert pause.status_code == 201
    client.post(f"/api/v1/recipients/{second}/exit", json={"reason": "moved"}, headers=social)
    rows = {(r["recipient_id"], r["meal"]): r for r in deliveries_of(client, coordinator, date=TOMORROW.isoformat())}
    assert rows[(first, "lunch")]["status"] == "cancelled" and rows[(first, "lunch")]["reason"] == "recipient paused"
    assert (rows[(second, "dinner")]["status"], rows[(second, "dinner")]["reason"]) == ("cancelled", "recipient exited")
    assert rows[(loop.ids[2], "lunch")]["status"] == "scheduled"

    client.delete(f"/api/v1/recipients/{first}/pauses/{pause.json['id']}", headers=social)
    after = {(r["recipient_id"], r["meal"]): r["status"]
             for r in deliveries_of(client, coordinator, recipient_id=first)}
    assert after == {(first, "lunch"): "scheduled", (first, "dinner"): "scheduled"}
    assert schedule(client, coordinator).json["created"] == 0  # and scheduling again adds nothing


def test_a_failed_stall_hands_its_meals_to_the_recipients_new_stall(client, coordinator, health, loop):
    schedule(client, coordinator, TODAY)
    schedule(client, coordinator, TOMORROW)
    done = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), meal="lunch")[0]
    assert confirm(client, loop.phone_a, done["id"]).status_code == 200

    failed = inspect(client, health, loop.a.id, passed=False, score=30)
    assert failed.json["recipients_moved"] == 3

    today_rows = deliveries_of(client, coordinator, date=TODAY.isoformat())
    assert {r["vendor_id"] for r in today_rows if r["id"] != done["id"]} == {loop.b.id}
    assert next(r for r in today_rows if r["id"] == done["id"])["vendor_id"] == loop.a.id  # history stays
    assert {r["vendor_id"] for r in deliveries_of(client, coordinator, date=TOMORROW.isoformat())} == {loop.b.id}
    assert len(deliveries_of(client, loop.phone_b, date=TOMORROW.isoformat())) == 6


def test_a_recipient_enrolled_after_the_evening_run_gets_tomorrows_meals(client, coordinator, loop,
                                                                           make_recipient):
    schedule(client, coordinator)
    late = make_recipient("enrolled")
    assert {r["meal"] for r in deliveries_of(client, coordinator, recipient_id=late["id"])} == {"lunch", "dinner"}


def test_the_manifest_lists_the_stalls_meals_with_what_the_rider_needs(client, coordinator, loop, query_count):
    schedule(client, coordinator, TODAY)
    with query_count() as statements:
        response = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a)
    assert response.status_code == 200
    body = response.json
    assert body["date"] == TODAY.isoformat() and body["vendor_id"] == loop.a.id
    assert [d["meal"] for d in body["deliveries"]] == ["lunch"] * 3 + ["dinner"] * 3
    assert set(body["deliveries"][0]) == {"id", "meal", "status", "recipient_id", "name", "address", "latitude",
                                          "longitude", "phone", "dietary_needs"}  # no NIK, nothing it does not need
    assert len(statements) <= 3  # the token, the settings, the manifest

    assert client.get("/api/v1/vendors/me/manifest", headers=loop.phone_b).json["deliveries"] == []
    tomorrow = client.get("/api/v1/vendors/me/manifest", query_string={"date": TOMORROW.isoformat()},
                          headers=loop.phone_a)
    assert tomorrow.json["deliveries"] == []
    assert client.get("/api/v1/vendors/me/manifest", headers=coordinator).status_code == 403


def test_confirming_a_delivery(client, coordinator, loop):
    schedule(client, coordinator, TODAY)
    lunch, dinner = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), recipient_id=loop.ids[0])
    ok = confirm(client, loop.phone_a, lunch["id"], latitude=-8.3541, longitude=114.1672,
                 delivered_at=f"{TODAY.isoformat()}T09:45:00+07:00")
    assert ok.status_code == 200, ok.json
    assert ok.json["status"] == "delivered" and ok.json["has_evidence"] is True
    assert dt.datetime.fromisoformat(ok.json["delivered_at"]) == dt.datetime.combine(
        TODAY, dt.time(2, 45), tzinfo=dt.UTC)
    # a retry without a key: the same outcome changes nothing
    again = confirm(client, loop.phone_a, lunch["id"])
    assert again.status_code == 200 and again.json["confirmed_at"] == ok.json["confirmed_at"]
    assert again.json["latitude"] == -8.3541
    # another outcome
    clash = confirm(client, loop.phone_a, lunch["id"], status="failed", reason="not at home")
    assert clash.status_code == 409 and clash.json["status"] == 409

    no_reason = confirm(client, loop.phone_a, dinner["id"], status="failed")
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    failed = confirm(client, loop.phone_a, dinner["id"], status="failed",
                     reason="not at home, neighbour says at market")
    assert failed.status_code == 200 and failed.json["reason"].startswith("not at home")


def test_a_stall_cannot_see_or_confirm_anothers_delivery(client, coordinator, loop):
    schedule(client, coordinator, TODAY)
    theirs = deliveries_of(client, coordinator, vendor_id=loop.a.id)[0]
    assert confirm(client, loop.phone_b, theirs["id"]).status_code == 404
    assert client.get(f"{D}/{theirs['id']}", headers=loop.phone_b).status_code == 404
    assert deliveries_of(client, loop.phone_b, vendor_id=loop.a.id) == []
    assert confirm(client, coordinator, theirs["id"]).status_code == 403  # only the stall confirms
    assert confirm(client, loop.phone_a, 10**9).status_code == 404


PERSON = {"recipient_id", "latitude", "longitude", "reason", "photo_sha256"}


def test_only_the_registry_and_the_stall_see_whom_a_meal_fed_and_where(client, coordinator, loop, make_user):
    """A meal's GPS point is within metres of a home: the coordinator, the social and data agencies
    and the stall that made the delivery see it and the recipient; other agencies see the meal
    without them, and cannot follow one recipient day by day."""
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), recipient_id=loop.ids[0])[0]
    assert confirm(client, loop.phone_a, lunch["id"], latitude=-8.3541, longitude=114.1672).status_code == 200
    for role, kind in (("coordinator", None), ("agency", "social"), ("agency", "data")):
        headers = make_user(role, kind)[1]
        shown = client.get(f"{D}/{lunch['id']}", headers=headers).json
        assert (shown["recipient_id"], shown["latitude"]) == (loop.ids[0], -8.3541), (role, kind)
        assert len(deliveries_of(client, headers, recipient_id=loop.ids[0])) == 2
    assert client.get(f"{D}/{lunch['id']}", headers=loop.phone_a).json["latitude"] == -8.3541
    for kind in ("health", "education", "other"):
        headers = make_user("agency", kind)[1]
        one = client.get(f"{D}/{lunch['id']}", headers=headers)
        assert one.status_code == 200 and not PERSON & one.json.keys(), kind
        assert (one.json["status"], one.json["vendor_id"], one.json["has_evidence"]) == ("delivered", loop.a.id, True)
        listed = deliveries_of(client, headers, date=TODAY.isoformat())
        assert len(listed) == 6 and not any(PERSON & item.keys() for item in listed), kind
        followed = client.get(D, query_string={"recipient_id": loop.ids[0]}, headers=headers)
        assert followed.status_code == 403 and followed.mimetype == "application/problem+json"
        assert client.get(f"{D}/{10**9}", headers=headers).status_code == 404


def test_bad_confirmations_are_refused_with_reasons(client, coordinator, loop):
    schedule(client, coordinator, TODAY)
    schedule(client, coordinator, TOMORROW)
    today_id = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]["id"]
    tomorrow_id = deliveries_of(client, loop.phone_a, date=TOMORROW.isoformat())[0]["id"]
    assert confirm(client, loop.phone_a, tomorrow_id).status_code == 409  # not today yet
    for body, field in (({"status": "eaten"}, "status"), ({"latitude": -8.35}, "latitude"),
                        ({"delivered_at": f"{TOMORROW.isoformat()}T09:00:00+07:00"}, "delivered_at"),
                        ({"delivered_at": "2026-11-23T09:00:00"}, "delivered_at"), ({"colour": "red"}, "colour")):
        response = confirm(client, loop.phone_a, today_id, **body)
        assert response.status_code == 422 and field in response.json["errors"], (body, response.json)
    response = client.post(f"{D}/{today_id}/confirm", data="{",
                           headers={**loop.phone_a, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_after_the_cut_off_confirming_is_too_late(client, coordinator, loop, monkeypatch):
    schedule(client, coordinator, TODAY)
    first, second = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[:2]
    at_jakarta(monkeypatch, TODAY, hour=21, minute=5)  # past 21:00, before the job has run
    late = confirm(client, loop.phone_a, first["id"])
    assert late.status_code == 409 and "too late" in late.json["detail"]
    # A newcomer trying at 21:05 WIB learns why: the cut-off and the program's own clock, said and as fields.
    assert f"cut-off, 21:00 WIB (Asia/Jakarta), and it is {TODAY} 21:05 WIB there now" in late.json["detail"]
    assert (late.json["cutoff_at"], late.json["local_time"]) == (f"{TODAY}T21:00:00+07:00", f"{TODAY}T21:05:00+07:00")
    closed = client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    assert closed.status_code == 200 and closed.json["missed"] == 6
    at_jakarta(monkeypatch, TODAY, hour=23, minute=40)
    missed = confirm(client, loop.phone_a, second["id"])
    assert missed.status_code == 409 and "missed" in missed.json["detail"]
    assert "21:00 WIB" in missed.json["detail"] and f"{TODAY} 23:40 WIB" in missed.json["detail"]
    # tomorrow's meals wait for tomorrow, in the program's timezone
    schedule(client, coordinator, TOMORROW)
    ahead = confirm(client, loop.phone_a, deliveries_of(client, loop.phone_a, date=TOMORROW.isoformat())[0]["id"])
    assert ahead.status_code == 409 and f"not today ({TODAY}, 23:40 WIB in Asia/Jakarta)" in ahead.json["detail"]


def test_idempotency_key_replays_the_first_answer(client, coordinator, loop):
    schedule(client, coordinator, TODAY)
    lunch, dinner = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), recipient_id=loop.ids[0])
    first = confirm(client, loop.phone_a, lunch["id"], key="phone-1-abc", latitude=-8.35, longitude=114.16)
    replay = client.post(f"{D}/{lunch['id']}/confirm", headers={**loop.phone_a, "Idempotency-Key": "phone-1-abc"},
                         json={"longitude": 114.16, "latitude": -8.35, "status": "delivered"})  # keys reordered
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    other_body = confirm(client, loop.phone_a, lunch["id"], key="phone-1-abc", status="failed", reason="x")
    assert other_body.status_code == 409 and "Idempotency-Key" in other_body.json["detail"]
    other_path = confirm(client, loop.phone_a, dinner["id"], key="phone-1-abc", latitude=-8.35, longitude=114.16)
    assert other_path.status_code == 409
    # keys belong to their user: another phone's "phone-1-abc" is its own
    assert confirm(client, loop.phone_b, lunch["id"], key="phone-1-abc").status_code == 404
    assert confirm(client, loop.phone_a, dinner["id"], key="k" * 256).status_code == 422


def test_a_retry_after_the_cut_off_still_gets_its_first_answer(client, coordinator, loop, monkeypatch):
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    first = confirm(client, loop.phone_a, lunch["id"], key="sent-at-noon")
    at_jakarta(monkeypatch, TODAY, hour=21, minute=30)  # the phone was offline until the evening
    retry = confirm(client, loop.phone_a, lunch["id"], key="sent-at-noon")
    assert retry.status_code == 200 and retry.json == first.json
    assert confirm(client, loop.phone_a, lunch["id"], key="new-key", status="failed", reason="x").status_code == 409


def test_idempotency_keys_are_kept_72_hours_then_purged(app, client, coordinator, loop):
    from service.db import default_region, utcnow
    from service.idempotency import service as idempotency
    from service.idempotency.models import IdempotencyRecord

    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    confirm(client, loop.phone_a, lunch["id"], key="retry-me")
    record = db.session.scalars(db.select(IdempotencyRecord)).one()
    assert record.region_code == default_region()  # kept beside the meal it answers (one shard on Citus)
    assert idempotency.purge(utcnow() - dt.timedelta(hours=72)) == 0
    assert idempotency.purge() == 0  # the default keeps 72 hours
    record.created_at = utcnow() - dt.timedelta(hours=73)
    db.session.commit()
    assert idempotency.purge() == 1


_pictures = itertools.count(1)


def jpeg(size=(64, 48), picture: int | None = None) -> bytes:
    """A JPEG of a picture of its own (blocks of colour, as unlike another as two photos of two
    handovers), or of ``picture`` again."""
    blocks = np.random.default_rng(picture or next(_pictures)).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(blocks).resize(size, Image.Resampling.BILINEAR).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(client, headers, delivery_id, content: bytes, name="meal.jpg", key=None):
    extra = {"Idempotency-Key": key} if key else {}
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), name)})
    return client.post(f"{D}/{delivery_id}/photo", data=body, headers={**headers, **extra},
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_photo_evidence(client, coordinator, loop, photos):
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    confirm(client, loop.phone_a, lunch["id"])
    content = jpeg()
    response = upload(client, loop.phone_a, lunch["id"], content, key="photo-1")
    assert response.status_code == 200, response.json
    digest = response.json["photo_sha256"]
    assert (photos / digest[:2] / f"{digest}.jpg").read_bytes() == content
    assert response.json["has_evidence"] is True
    # the phone retries with a new multipart boundary: the same request, replayed
    retry = upload(client, loop.phone_a, lunch["id"], content, key="photo-1")
    assert retry.headers.get("Idempotent-Replayed") == "true"
    shown = client.get(f"{D}/{lunch['id']}/photo", headers=coordinator)
    assert shown.status_code == 200 and shown.data == content and shown.mimetype == "image/jpeg"
    shown.close()
    assert client.get(f"{D}/{lunch['id']}/photo", headers=loop.phone_b).status_code == 404

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    assert upload(client, loop.phone_a, lunch["id"], png.getvalue(), name="x.png").json["photo_sha256"] != digest


def test_fake_and_oversized_photos_are_refused(client, coordinator, loop, photos):
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    confirm(client, loop.phone_a, lunch["id"])
    fake = upload(client, loop.phone_a, lunch["id"], b"%PDF-1.4 not a photo", name="meal.jpg")
    assert fake.status_code == 415
    truncated = upload(client, loop.phone_a, lunch["id"], jpeg()[:40], name="meal.jpg")
    assert truncated.status_code == 415
    big = upload(client, loop.phone_a, lunch["id"], b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024))
    assert big.status_code == 413
    assert upload(client, loop.phone_b, lunch["id"], jpeg()).status_code == 404
    missing = client.post(f"{D}/{lunch['id']}/photo", data={}, headers=loop.phone_a, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert not photos.exists()  # nothing kept of what was refused
    assert client.get(f"{D}/{lunch['id']}/photo", headers=coordinator).status_code == 404


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_images_of_absurd_size_are_413_never_a_500(client, coordinator, loop, photos):
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    confirm(client, loop.phone_a, lunch["id"])
    # 49 million pixels (over the 40 million limit), 100 million (Pillow warns), 2.5 billion (Pillow refuses).
    for width, height in ((7000, 7000), (10_000, 10_000), (50_000, 50_000)):
        response = upload(client, loop.phone_a, lunch["id"], png_claiming(width, height), name="bomb.png")
        assert response.status_code == 413, (width, response.json)
        assert response.mimetype == "application/problem+json" and "million pixels" in response.json["detail"]
    assert not photos.exists()


def test_evidence_belongs_to_the_meal_as_it_happened(client, coordinator, loop, photos, monkeypatch):
    """A photo only of a meal confirmed delivered or failed, by the stall on the meal's day before
    the cut-off (after it, only the program office); one image for one delivery; every upload and
    every confirmation in the audit trail."""
    schedule(client, coordinator, TODAY)
    lunch, dinner = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), recipient_id=loop.ids[0])
    other = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), recipient_id=loop.ids[1])[0]
    early = upload(client, loop.phone_a, lunch["id"], jpeg())
    assert early.status_code == 409 and "confirm it first" in early.json["detail"]
    assert confirm(client, loop.phone_a, lunch["id"], latitude=-8.3541, longitude=114.1672).status_code == 200
    assert confirm(client, loop.phone_a, other["id"], status="failed", reason="not at home").status_code == 200
    photo = jpeg((60, 40))
    first = upload(client, loop.phone_a, lunch["id"], photo)
    assert first.status_code == 200, first.json
    assert upload(client, loop.phone_a, lunch["id"], photo).json["photo_sha256"] == first.json["photo_sha256"]
    reused = upload(client, loop.phone_a, other["id"], photo)
    assert reused.status_code == 409 and "another meal" in reused.json["detail"]
    assert reused.json["existing_id"] == lunch["id"]  # the stall's own meal: named
    assert upload(client, loop.phone_a, other["id"], jpeg((61, 40))).status_code == 200  # a failed meal's photo

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    assert upload(client, loop.phone_a, lunch["id"], png.getvalue(), name="x.png").status_code == 200
    shown = client.get(f"{D}/{lunch['id']}/photo", headers=loop.phone_a)
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == png.getvalue()
    assert shown.headers["X-Content-Type-Options"] == "nosniff" and shown.headers["Cache-Control"] == "no-store"
    shown.close()
    # The first photo, replaced, stays reserved to this meal.
    assert upload(client, loop.phone_a, dinner["id"], photo).status_code == 409

    at_jakarta(monkeypatch, TODAY, hour=21, minute=1)  # after the cut-off
    late = upload(client, loop.phone_a, other["id"], jpeg((62, 40)))
    assert late.status_code == 409 and "program office" in late.json["detail"]
    assert "21:00 WIB" in late.json["detail"] and late.json["local_time"] == f"{TODAY}T21:01:00+07:00"
    by_office = upload(client, coordinator, other["id"], jpeg((62, 40)))
    assert by_office.status_code == 200, by_office.json
    office_id = client.get("/api/v1/me", headers=coordinator).json["id"]

    trail = client.get("/api/v1/audit", query_string={"entity": "delivery", "entity_id": other["id"]},
                       headers=coordinator).json["items"]
    assert [(e["action"], e["actor_id"]) for e in reversed(trail)] == [
        ("confirm", loop_user(client, loop.phone_a)), ("photo", loop_user(client, loop.phone_a)),
        ("photo", office_id)]
    assert trail[-1]["changes"] == {"status": ["scheduled", "failed"], "reason": [None, "not at home"]}
    lunch_trail = client.get("/api/v1/audit", query_string={"entity": "delivery", "entity_id": lunch["id"]},
                             headers=coordinator).json["items"]
    confirmation = lunch_trail[-1]
    assert confirmation["action"] == "confirm" and confirmation["changes"]["latitude"] == [None, -8.3541]
    assert confirmation["changes"]["status"] == ["scheduled", "delivered"]
    assert confirmation["changes"]["delivered_at"][1]


def loop_user(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json["id"]


def test_the_cut_off_flags_a_recipient_unfed_three_days_running(client, coordinator, loop, monkeypatch):
    days = [TODAY + dt.timedelta(days=n) for n in range(3)]
    for n, day in enumerate(days):
        at_jakarta(monkeypatch, day, hour=6)
        schedule(client, coordinator, day)
        mine = deliveries_of(client, loop.phone_a, date=day.isoformat())
        for d in mine:
            if d["recipient_id"] == loop.ids[0]:
                if n == 1:  # the middle day failed, the others were simply missed
                    confirm(client, loop.phone_a, d["id"], status="failed", reason="house locked")
            else:
                confirm(client, loop.phone_a, d["id"])
        at_jakarta(monkeypatch, day, hour=21)
        report = client.post(f"{D}/close", json={"date": day.isoformat()}, headers=coordinator).json
        assert report["flagged"] == (1 if n == 2 else 0)
    person = client.get(f"/api/v1/recipients/{loop.ids[0]}", headers=coordinator).json
    assert person["flagged_on"] == days[2].isoformat() and "no meal delivered" in person["flag_reason"]
    flagged = client.get("/api/v1/recipients", query_string={"flagged": "true"}, headers=coordinator).json
    assert [p["id"] for p in flagged["items"]] == [loop.ids[0]]
    again = client.post(f"{D}/close", json={"date": days[2].isoformat()}, headers=coordinator).json
    assert again == {**again, "missed": 0, "flagged": 0}


def test_a_day_cannot_be_closed_before_its_cut_off(client, coordinator, loop):
    response = client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    assert response.status_code == 422


def test_the_statement_counts_delivered_meals_and_evidence(client, coordinator, loop, monkeypatch, photos):
    schedule(client, coordinator, TODAY)
    rows = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())
    confirm(client, loop.phone_a, rows[0]["id"], latitude=-8.35, longitude=114.16)
    confirm(client, loop.phone_a, rows[1]["id"])
    upload(client, loop.phone_a, rows[1]["id"], jpeg())
    confirm(client, loop.phone_a, rows[2]["id"])
    confirm(client, loop.phone_a, rows[3]["id"], status="failed", reason="refused the meal")
    month = TODAY.strftime("%Y-%m")
    body = client.get(f"/api/v1/vendors/{loop.a.id}/statement", query_string={"month": month},
                      headers=loop.phone_a).json
    assert (body["delivered"], body["with_evidence"], body["amount"], body["meal_price"]) == (3, 2, 36000, 12000)
    line = next(line for line in body["lines"] if line["date"] == TODAY.isoformat())
    assert line == {"date": TODAY.isoformat(), "delivered": 3, "with_evidence": 2, "failed": 1, "missed": 0,
                    "meal_price": 12000, "amount": 36000}
    assert len(body["lines"]) >= 28 and sum(line["amount"] for line in body["lines"]) == body["amount"]

    csv_text = client.get(f"/api/v1/vendors/{loop.a.id}/statement", query_string={"month": month},
                          headers={**coordinator, "Accept": "text/csv"})
    assert csv_text.mimetype == "text/csv"
    lines = csv_text.get_data(as_text=True).splitlines()
    assert lines[0] == "date,delivered,with_evidence,failed,missed,meal_price,amount"
    assert f"{TODAY.isoformat()},3,2,1,0,12000,36000" in lines and lines[-1] == "total,3,2,,,,36000"

    assert client.get(f"/api/v1/vendors/{loop.a.id}/statement", query_string={"month": month},
                      headers=loop.phone_b).status_code == 404
    assert client.get(f"/api/v1/vendors/{loop.a.id}/statement", query_string={"month": "2026-13"},
                      headers=coordinator).status_code == 422
    assert client.get("/api/v1/vendors/999999/statement", query_string={"month": month},
                      headers=coordinator).status_code == 404


def _variants(photo: bytes) -> dict[str, bytes]:
    """The audit's three: the same picture re-encoded, with a metadata chunk added, one pixel changed."""
    def saved(image, **options):
        out = io.BytesIO()
        image.save(out, "JPEG", **options)
        return out.getvalue()

    image = Image.open(io.BytesIO(photo))
    exif = Image.Exif()
    exif[0x010E] = "rantang"  # ImageDescription
    pixel = image.copy()
    pixel.putpixel((3, 3), (255, 0, 0))
    return {"re-encoded": saved(image, quality=60), "metadata": saved(image, quality=90, exif=exif.tobytes()),
            "pixel": saved(pixel, quality=90)}


def test_one_picture_is_evidence_for_one_meal_whatever_is_done_to_its_file(client, coordinator, loop, photos,
                                                                           make_recipient, areas):
    make_recipient("enrolled", village_id=areas["Kembiritan"].id, latitude=-8.3906, longitude=114.1514)  # stall B's
    schedule(client, coordinator, TODAY)
    meals = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())
    for meal in meals:
        confirm(client, loop.phone_a, meal["id"])
    photo = jpeg((640, 480))
    assert upload(client, loop.phone_a, meals[0]["id"], photo).status_code == 200
    for (name, variant), meal in zip(_variants(photo).items(), meals[1:]):
        refused = upload(client, loop.phone_a, meal["id"], variant)
        assert refused.status_code == 409, name
        assert refused.json["existing_id"] == meals[0]["id"], name
    # another stall's phone is told the picture is taken, not which meal it evidences (not theirs to see)
    other_meal = deliveries_of(client, loop.phone_b, date=TODAY.isoformat())[0]
    confirm(client, loop.phone_b, other_meal["id"])
    theirs = upload(client, loop.phone_b, other_meal["id"], _variants(photo)["pixel"])
    assert theirs.status_code == 409 and "existing_id" not in theirs.json
    assert upload(client, loop.phone_b, other_meal["id"], jpeg((640, 480))).status_code == 200  # a new picture


def test_the_phones_gps_position_is_not_kept_in_a_photo(app, client, coordinator, loop, photos, monkeypatch):
    schedule(client, coordinator, TODAY)
    lunch, dinner = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[:2]
    for meal in (lunch, dinner):
        confirm(client, loop.phone_a, meal["id"])

    def with_gps(picture: int) -> bytes:
        exif = Image.Exif()
        exif[0x010F] = "Phone"  # Make: kept
        exif[0x8825] = {1: "S", 2: (8.0, 21.0, 14.76), 3: "E", 4: (114.0, 10.0, 1.92)}
        out = io.BytesIO()
        Image.open(io.BytesIO(jpeg((320, 240), picture))).save(out, "JPEG", quality=90, exif=exif.tobytes())
        return out.getvalue()

    sent = with_gps(9001)
    assert 0x8825 in Image.open(io.BytesIO(sent)).getexif()
    stored = upload(client, loop.phone_a, lunch["id"], sent)
    assert stored.status_code == 200
    shown = client.get(f"{D}/{lunch['id']}/photo", headers=coordinator)
    kept = Image.open(io.BytesIO(shown.data)).getexif()
    shown.close()
    assert 0x8825 not in kept and kept[0x010F] == "Phone"
    monkeypatch.setitem(app.config, "PHOTO_KEEP_LOCATION", True)  # a program that keeps it on purpose
    assert upload(client, loop.phone_a, dinner["id"], with_gps(9002)).status_code == 200
    shown = client.get(f"{D}/{dinner['id']}/photo", headers=coordinator)
    assert 0x8825 in Image.open(io.BytesIO(shown.data)).getexif()
    shown.close()
