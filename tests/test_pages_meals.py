"""The stall's and the volunteer's day on the pages (no JavaScript: forms and redirects), read as
the people who use them: a warung owner signing in with a phone, confirming meals, failing one
with a reason, attaching a photo; what each role and a stranger may see."""
from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re

import pytest
from PIL import Image

from service.accounts import service as accounts
from service.extensions import db
from tests.pages import EN, ID, csrf_of, sign_in, text_of

D = "/api/v1/deliveries"


def today_scheduled(client, coordinator, loop):
    response = client.post(f"{D}/schedule", json={"date": dt.date.today().isoformat()}, headers=coordinator)
    assert response.status_code in (200, 201), response.json


@pytest.fixture
def stall_owner(loop):
    """Stall A's owner, who signs in with a phone number (no email)."""
    accounts.create_user(None, "warung-sri-2026", "Bu Sri", "vendor", vendor_id=loop.a.id, phone="0812 3456 7001")
    db.session.commit()
    return "0812-3456-7001", "warung-sri-2026"


def jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (64, 64), (seed * 40 % 255, 90, 160))
    for x in range(0, 64, 8):
        for y in range(0, 64, 8):
            if (x * seed + y) % 3 == 0:
                image.paste((255, 255, 255), (x, y, x + 8, y + 8))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_a_stall_signs_in_with_its_phone_and_confirms_its_day(client, coordinator, loop, stall_owner, photos):
    today_scheduled(client, coordinator, loop)
    response = sign_in(client, *stall_owner)
    assert response.headers["Location"] == "/warung"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/warung", headers=ID)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-delivery-id="(\d+)"', html)]
    manifest = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"]
    assert sorted(ids) == sorted(d["id"] for d in manifest)
    people = {d["recipient_id"] for d in manifest}
    assert html.count('class="person"') == len(people)  # each person once, with their meals
    words = text_of(html)
    assert "Diantar" in words and "Gagal" in words and "Yang dimasak" in words
    assert 'href="geo:' in html
    for phone in {d["phone"] for d in manifest if d["phone"]}:
        assert f'href="tel:{phone}"' in html

    token = csrf_of(html)
    first, second = ids[0], ids[1]
    done = client.post(f"/makan/{first}", data={"status": "delivered", "csrf_token": token}, headers=ID)
    assert done.status_code == 303, done.get_data(as_text=True)
    assert done.headers["Location"].startswith("/warung#meal-")
    failed = client.post(f"/makan/{second}", data={"status": "failed", "reason": "not_at_home", "csrf_token": token},
                         headers=ID)
    assert failed.status_code == 303
    by_id = {d["id"]: d for d in client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"]}
    assert by_id[first]["status"] == "delivered" and by_id[second]["status"] == "failed"
    assert client.get(f"{D}/{second}", headers=coordinator).json["reason"] == "not_at_home"

    assert 'accept="image/*" capture' in client.get("/warung").get_data(as_text=True)  # the camera, once confirmed
    photo = client.post(f"/makan/{first}/foto", data={"photo": (io.BytesIO(jpeg(3)), "p.jpg"), "csrf_token": token},
                        content_type="multipart/form-data", headers=ID)
    assert photo.status_code == 303, photo.get_data(as_text=True)
    assert client.get(f"{D}/{first}", headers=coordinator).json["photo_sha256"]
    after = text_of(client.get("/warung", headers=ID).get_data(as_text=True))
    assert "Tersimpan" in after or "Foto tersimpan" in after


def test_a_confirmation_sent_twice_with_one_key_is_applied_once(client, coordinator, loop, stall_owner):
    today_scheduled(client, coordinator, loop)
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    meal = int(re.findall(r'data-delivery-id="(\d+)"', html)[0])
    headers = {**ID, "Accept": "application/json", "Idempotency-Key": "press-1", "X-CSRFToken": csrf_of(html)}
    answers = [client.post(f"/makan/{meal}", data={"status": "delivered"}, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json == {"id": meal, "status": "delivered"}
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    events = client.get("/api/v1/audit", query_string={"entity": "delivery", "entity_id": meal},
                        headers=coordinator).json["items"]
    assert sum(1 for e in events if e["action"] == "confirm") == 1


def test_a_refused_confirmation_reads_in_the_stall_language(client, coordinator, loop, stall_owner):
    today_scheduled(client, coordinator, loop)
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    meal = int(re.findall(r'data-delivery-id="(\d+)"', html)[0])
    headers = {**ID, "Accept": "application/json", "X-CSRFToken": csrf_of(html)}
    client.post(f"/makan/{meal}", data={"status": "delivered"}, headers=headers)
    refused = client.post(f"/makan/{meal}", data={"status": "failed", "reason": "refused"}, headers=headers)
    assert refused.status_code == 409
    assert refused.json["detail"]
    no_reason = client.post(f"/makan/{meal}", data={"status": "failed", "reason": "bogus"}, headers=headers)
    assert no_reason.status_code == 422


def test_forms_without_a_valid_csrf_token_are_refused(client, coordinator, loop, stall_owner):
    today_scheduled(client, coordinator, loop)
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    meal = int(re.findall(r'data-delivery-id="(\d+)"', html)[0])
    for data in ({"status": "delivered"}, {"status": "delivered", "csrf_token": "forged"}):
        assert client.post(f"/makan/{meal}", data=data, headers=ID).status_code == 400
    assert client.post("/keluar", data={}).status_code == 400
    manifest = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"]
    assert {d["status"] for d in manifest} == {"scheduled"}
    assert client.post("/masuk", data={"login": "x@y.z", "password": "p"}).status_code == 400


def test_signing_out_ends_the_session_on_the_server(client, coordinator, loop, stall_owner):
    sign_in(client, *stall_owner)
    cookie = client.get_cookie("rantang").value
    html = client.get("/warung").get_data(as_text=True)
    assert client.post("/keluar", data={"csrf_token": csrf_of(html)}).status_code == 303
    assert client.get("/warung").status_code == 303  # to the sign-in page
    client.set_cookie("rantang", cookie)  # the old cookie, replayed: its token was revoked
    again = client.get("/warung")
    assert again.status_code == 303 and again.headers["Location"].startswith("/masuk")


def test_sign_in_refuses_wrong_passwords_and_is_limited(app, client, loop, stall_owner):
    page = client.get("/masuk", headers=EN)
    token = csrf_of(page.get_data(as_text=True))
    wrong = client.post("/masuk", data={"login": stall_owner[0], "password": "nope", "csrf_token": token}, headers=EN)
    assert wrong.status_code == 401 and "Wrong email, phone or password" in wrong.get_data(as_text=True)
    assert client.post("/masuk", data={"login": "", "password": "", "csrf_token": token}).status_code == 422
    outside = client.post("/masuk", data={"login": stall_owner[0], "password": stall_owner[1], "csrf_token": token,
                                          "next": "https://evil.example/x"})
    assert outside.headers["Location"] == "/warung"  # never to another host


def test_who_may_open_the_stall_page(client, coordinator, loop, make_user, stall_owner):
    assert client.get("/warung").headers["Location"].startswith("/masuk?next=/warung")
    for role in ("coordinator", "volunteer"):
        user, _ = make_user(role)
        fresh = client.application.test_client()
        sign_in(fresh, user.email)
        assert fresh.get("/warung").status_code == 403
    # stall B's owner sees none of stall A's meals, and cannot confirm them (404 as for no meal)
    today_scheduled(client, coordinator, loop)
    accounts.create_user("b@rantang.example", "warung-b-2026", "B", "vendor", vendor_id=loop.b.id)
    db.session.commit()
    a_meal = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"][0]["id"]
    other = client.application.test_client()
    sign_in(other, "b@rantang.example", "warung-b-2026")
    html = other.get("/warung").get_data(as_text=True)
    assert f'data-delivery-id="{a_meal}"' not in html
    headers = {"Accept": "application/json", "X-CSRFToken": csrf_of(html)}
    theirs = other.post(f"/makan/{a_meal}", data={"status": "delivered"}, headers=headers)
    missing = other.post("/makan/999999999", data={"status": "delivered"}, headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json["detail"].replace(str(a_meal), "N") == missing.json["detail"].replace("999999999", "N")


def test_the_page_is_in_english_when_chosen(client, coordinator, loop, stall_owner):
    today_scheduled(client, coordinator, loop)
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    switched = client.post("/bahasa", data={"language": "en", "next": "/warung", "csrf_token": csrf_of(html)})
    assert switched.headers["Location"] == "/warung"
    words = text_of(client.get("/warung", headers=ID).get_data(as_text=True))
    assert "Delivered" in words and "Failed" in words and "Diantar" not in words
    me = client.get("/api/v1/me", headers=loop.phone_a)
    assert me.status_code == 200


def test_the_manifest_of_30_meals_fits_in_3_kb_gzipped(client, coordinator, make_vendor, make_recipient, make_user,
                                                         office_hours):
    """A day on 2G: the API's manifest of 15 people with lunch and dinner (30 meals), with
    addresses, phones and diets, coordinates to 5 decimals, under 3 KB as sent (gzip)."""
    stall = make_vendor("Kaliasin", capacity=30)
    for n in range(15):
        make_recipient("enrolled", phone=f"0812 3456 {7100 + n}", dietary_needs=["soft food"] if n % 3 else [],
                       latitude=-8.3541 + n * 0.000123456, longitude=114.1672 + n * 0.000654321)
    _, phone = make_user("vendor", vendor_id=stall.id)
    today_scheduled(client, coordinator, None)
    response = client.get("/api/v1/vendors/me/manifest", headers={**phone, "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.data))
    assert len(body["deliveries"]) == 30
    assert all(len(str(d["latitude"]).split(".")[1]) <= 5 for d in body["deliveries"])
    assert len(response.data) < 3 * 1024, len(response.data)


def test_what_people_wrote_is_escaped_on_the_page(client, coordinator, make_vendor, make_recipient, make_user,
                                                  office_hours):
    stall = make_vendor("Kaliasin", capacity=30)
    make_recipient("enrolled", name="<script>alert(1)</script> Siti",
                   address='Jl. "Mawar" <img src=x onerror=alert(2)>',
                   dietary_needs=["<b>lunak</b>"])
    user, _ = make_user("vendor", vendor_id=stall.id)
    client.post(f"{D}/schedule", json={"date": dt.date.today().isoformat()}, headers=coordinator)
    sign_in(client, user.email)
    html = client.get("/warung").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>lunak" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html


PAGE_SAMPLES = {"hashed": "app.css", "delivery_id": 1, "code": "ABCD-2345"}


def page_routes(app):
    """Every page's GET route (not the API's), with a sample for each parameter."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "GET" not in rule.methods or rule.endpoint in ("pages.asset",):
            continue
        samples = {name: PAGE_SAMPLES.get(name, 1) for name in rule.arguments}
        yield rule.endpoint, rule.build(samples)[1]


@pytest.mark.parametrize("role", [None, "coordinator", "vendor", "volunteer", "agency:social", "agency:health",
                                  "agency:education", "agency:data"])
def test_every_page_as_every_role_and_a_stranger(app, client, make_user, make_recipient, role):
    """A stranger is sent to sign in (or sees a public page); a signed-in role opens the pages the
    permission table gives it and gets 403 on the others; no page answers with a 500; and no page
    shows anyone's NIK, phone or address to whoever is not bringing them a meal."""
    from blueprints.access import PERMISSIONS, PUBLIC

    person = make_recipient("enrolled", phone="0812 9999 4321", address="Jl. Melati Rahasia No. 7")
    secrets = (person["nik"], "9999 4321", "99994321", "Melati Rahasia")

    if role is not None:
        name, _, kind = role.partition(":")
        user, _ = make_user(name, kind or None)
        sign_in(client, user.email)
        principal = role
    for endpoint, path in sorted(page_routes(app)):
        response = client.get(path, headers=ID)
        rule = PERMISSIONS[endpoint]
        assert response.status_code < 500, (endpoint, response.status_code)
        shown = response.get_data(as_text=True)
        assert not [secret for secret in secrets if secret in shown], (endpoint, role)
        if rule == PUBLIC:
            continue
        if role is None:
            assert response.status_code == 303 and response.headers["Location"].startswith("/masuk"), endpoint
        elif principal in rule:
            assert response.status_code in (200, 303, 404), (endpoint, response.status_code)
        else:
            assert response.status_code == 403, (endpoint, response.status_code)


def test_staff_and_stalls_may_sign_in_with_a_phone(client, coordinator, make_vendor):
    """A warung owner without email gets an account with a phone (POST /users), signs in with the
    phone however it is written, and a second account may not take the same phone."""
    stall = make_vendor("Kaliasin")
    body = {"phone": "0812-3456-7055", "password": "warung-sri-2026", "name": "Bu Sri", "role": "vendor",
            "vendor_id": stall.id}
    created = client.post("/api/v1/users", json=body, headers=coordinator)
    assert created.status_code == 201, created.json
    assert created.json["phone"] == "+6281234567055" and created.json["email"] is None
    again = client.post("/api/v1/users", json={**body, "name": "Other"}, headers=coordinator)
    assert again.status_code == 409
    neither = client.post("/api/v1/users", json={k: v for k, v in body.items() if k != "phone"}, headers=coordinator)
    assert neither.status_code == 422 and "email" in neither.json["errors"]
    bad = client.post("/api/v1/users", json={**body, "phone": "12"}, headers=coordinator)
    assert bad.status_code == 422 and "phone" in bad.json["errors"]
    token = client.post("/api/v1/auth/token", json={"phone": "+62 812 3456 7055", "password": "warung-sri-2026"})
    assert token.status_code == 201 and token.json["user"]["role"] == "vendor"


def test_a_user_chooses_the_language_of_the_api(client, make_user):
    user, headers = make_user("coordinator")
    assert client.get("/api/v1/me", headers=headers).json["language"] is None
    chosen = client.patch("/api/v1/me", json={"language": "en"}, headers=headers)
    assert chosen.status_code == 200 and chosen.json["language"] == "en"
    assert client.patch("/api/v1/me", json={"language": "fr"}, headers=headers).status_code == 422
    assert client.patch("/api/v1/me", json={"language": None}, headers=headers).json["language"] is None


def test_a_compressed_answers_etag_is_taken_back_by_if_match(app, client, coordinator, monkeypatch):
    """Flask-Compress would name the encoding in a strong ETag ("3:gzip"); the service's are weak
    (W/"3"), so a compressed answer's ETag is the version, and If-Match takes it back."""
    monkeypatch.setitem(app.config, "COMPRESS_MIN_SIZE", 10)  # the program's settings are a small answer
    read = client.get("/api/v1/program", headers={**coordinator, "Accept-Encoding": "gzip"})
    assert read.headers["Content-Encoding"] == "gzip"
    etag = read.headers["ETag"]
    assert etag.startswith('W/"') and ":" not in etag
    changed = client.patch("/api/v1/program", json={"name": "Rantang Kasih Banyuwangi"},
                           headers={**coordinator, "If-Match": etag})
    assert changed.status_code == 200
    stale = client.patch("/api/v1/program", json={"name": "Rantang Kasih 2"}, headers={**coordinator, "If-Match": etag})
    assert stale.status_code == 412


def test_a_volunteer_confirms_the_meals_of_the_person_they_hold(client, areas, agencies, coordinator, make_recipient,
                                                                 office_hours):
    """The volunteer's day on /relawan/makan, as the stall's: the person they claimed, once, with
    lunch and dinner; confirmed by the same forms; another volunteer sees none of it."""
    person = make_recipient("enrolled")
    body = {"name": "Dewi Lestari", "phone": "0812 5555 0101", "password": "relawan-dewi-2026",
            "village_id": areas["Kaliasin"].id, "skills": ["deliver", "visit"], "capacity": 2,
            "accepts_code_of_conduct": True}
    volunteer = client.post("/api/v1/volunteers", json=body).json
    approved = client.post(f"/api/v1/volunteers/{volunteer['id']}/approve", headers=agencies.social.headers)
    assert approved.status_code == 200
    token = client.post("/api/v1/auth/token", json={"phone": body["phone"], "password": body["password"]}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    claim = client.post("/api/v1/volunteers/me/claims", json={"recipient_id": person["id"], "kind": "deliver"},
                        headers=bearer)
    assert claim.status_code == 201, claim.json
    today_scheduled(client, coordinator, None)
    sign_in(client, body["phone"], body["password"])
    page = client.get("/relawan/makan", headers=ID)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    meals = [int(m) for m in re.findall(r'data-delivery-id="(\d+)"', html)]
    assert len(meals) == 2 and html.count('class="person"') == 1
    assert person["address"].replace('"', "&#34;") in html or person["address"] in html
    done = client.post(f"/makan/{meals[0]}", data={"status": "delivered", "csrf_token": csrf_of(html),
                                                   "next_page": "/relawan/makan"}, headers=ID)
    assert done.status_code == 303 and done.headers["Location"] == f"/relawan/makan#meal-{meals[0]}"
    assert client.get(f"{D}/{meals[0]}", headers=coordinator).json["status"] == "delivered"
    assert "Tersimpan: diantar." in text_of(client.get("/relawan/makan", headers=ID).get_data(as_text=True))


def test_too_many_sign_ins_read_as_a_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH", "2 per minute")
    token = csrf_of(client.get("/masuk").get_data(as_text=True))
    answers = [client.post("/masuk", data={"login": "nobody@rantang.example", "password": "x", "csrf_token": token},
                           headers=ID) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[2].mimetype == "text/html"
    assert "Terlalu banyak percobaan" in text_of(answers[2].get_data(as_text=True))
    assert client.get("/tidak-ada", headers=ID).status_code == 404


def test_every_word_of_the_pages_has_its_indonesian(tmp_path):
    """Each message the pages' code and templates hold is in pages.po, translated, not fuzzy."""
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).parent.parent
    pot = tmp_path / "pages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F",
                    "service/translations/babel-pages.cfg", "-k", "_l", "-o", str(pot), "."],
                   cwd=root, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with (root / "service/translations/id/LC_MESSAGES/pages.po").open("rb") as handle:
        catalog = read_po(handle, locale="id")
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(wanted - set(translated)) == []


def test_the_two_catalogs_never_say_one_message_two_ways():
    """The service's messages and the pages' words are merged into one catalog when read: a message
    in both must read the same in both (else one wins by chance); a word that differs by place
    takes a context (pgettext)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    folder = Path(__file__).parent.parent / "service/translations/id/LC_MESSAGES"
    catalogs = []
    for name in ("messages.po", "pages.po"):
        with (folder / name).open("rb") as handle:
            catalogs.append({(m.context, str(m.id)): m.string for m in read_po(handle, locale="id") if m.id})
    messages, words = catalogs
    assert [key for key in set(messages) & set(words) if messages[key] != words[key]] == []


def test_a_photo_cut_off_on_a_bad_network_is_refused_not_a_500(client, coordinator, loop, stall_owner, photos):
    today_scheduled(client, coordinator, loop)
    meal = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"][0]["id"]
    assert client.post(f"{D}/{meal}/confirm", json={"status": "delivered"}, headers=loop.phone_a).status_code == 200
    noise = Image.frombytes("RGB", (400, 300), bytes((i * 7919) % 251 for i in range(400 * 300 * 3)))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=90)
    whole = out.getvalue()
    cut = client.post(f"{D}/{meal}/photo", data={"file": (io.BytesIO(whole[: len(whole) * 2 // 3]), "p.jpg")},
                      content_type="multipart/form-data", headers={**loop.phone_a, **ID})
    assert cut.status_code == 415 and "terpotong" in cut.json["detail"]  # its headers read, its picture cut
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    page = client.post(f"/makan/{meal}/foto", data={"photo": (io.BytesIO(whole[:300]), "p.jpg"),
                                                    "csrf_token": csrf_of(html)},
                       content_type="multipart/form-data", headers=ID)
    assert page.status_code == 415 and page.mimetype == "text/html"


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(client, coordinator, loop, stall_owner):
    today_scheduled(client, coordinator, loop)
    sign_in(client, *stall_owner)
    html = client.get("/warung").get_data(as_text=True)
    assert 'option value="" selected' in html or '<option value="">' in html  # no reason chosen for anyone
    meal = int(re.findall(r'data-delivery-id="(\d+)"', html)[0])
    client.post("/keluar", data={"csrf_token": csrf_of(html)})
    fresh = client.get("/masuk").get_data(as_text=True)
    sent = client.post(f"/makan/{meal}", data={"status": "delivered", "csrf_token": csrf_of(fresh),
                                               "next_page": "/warung"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/masuk?next=/warung"


def test_refused_sign_ins_count_per_account_as_on_the_api(app, client, loop, stall_owner, monkeypatch):
    """The pages' form counts refused tries per account like POST /auth/token (one key function;
    each door keeps its own count): after the limit, even the right password waits, from here."""
    monkeypatch.setitem(app.config, "RATELIMIT_AUTH_ACCOUNT", "2 per minute")
    token = csrf_of(client.get("/masuk").get_data(as_text=True))
    tries = [client.post("/masuk", data={"login": stall_owner[0], "password": "salah", "csrf_token": token})
             for _ in range(2)]
    right = client.post("/masuk", data={"login": stall_owner[0], "password": stall_owner[1], "csrf_token": token})
    assert [t.status_code for t in tries] == [401, 401] and right.status_code == 429
