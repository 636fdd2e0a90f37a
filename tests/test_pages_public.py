"""The public's and the volunteers' pages, as a browser without JavaScript uses them: GET the form,
read its CSRF token from the HTML, POST it form-encoded, follow the redirect. The pages call the
API's service functions, so what they show is checked against the API's answers."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from markupsafe import escape

from service.demo.data import make_nik
from service.public import stats
from tests.conftest import at_jakarta, birth_of_age

API = "/api/v1"
ID = {"Accept-Language": "id"}
EN = {"Accept-Language": "en"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "relawan-banyuwangi-7"


def token_of(response) -> str:
    found = TOKEN.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found[1]


def page(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    """The page's HTML, checked to be what the pages' policy allows: no inline script (only the
    app's own file, which no page needs to work), no inline style, the strict CSP; every field
    labelled."""
    text = page(response)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, re.S)
    assert all(not body.strip() for body in scripts) and len(scripts) == len(re.findall(r"<script src=", text))
    assert "style=" not in text and " on" + "click" not in text
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    for name in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', text):
        assert f'for="{name}"' in text, name
    return text


def main_of(response) -> str:
    text = page(response)
    return text[text.index("<main>"):text.index("</main>")]


def submit(client, path: str, fields: dict, headers=EN, form_path: str | None = None):
    """GET the form, then POST ``fields`` with the form's CSRF token (not following redirects)."""
    form = client.get(form_path or path, headers=headers)
    assert form.status_code == 200, page(form)[:500]
    return client.post(path, data={"csrf_token": token_of(form), **fields}, headers=headers)


@pytest.fixture
def today(monkeypatch):
    day = dt.date.today()
    at_jakarta(monkeypatch, day, hour=10)
    return day


# --- complaints -----------------------------------------------------------------------------------

def complaint_fields(areas, **overrides) -> dict:
    return {"category": "missed_meal", "description": "Nenek di RT 02 tidak menerima makanan kemarin.",
            "village_id": str(areas["Kaliasin"].id), "privacy": "open", "contact_name": "Pak Hadi",
            "contact_phone": "0812 3456 7890", **overrides}


@pytest.mark.parametrize("headers, words", [(ID, "Kode pelacakan"), (EN, "Tracking code")])
def test_a_complaint_filed_on_the_form_is_read_back_by_its_code(client, areas, today, headers, words):
    form = client.get("/pengaduan", headers=headers)
    assert form.status_code == 200
    assert form.headers["Content-Language"] == headers["Accept-Language"]
    plain(form)
    assert f'<option value="{areas["Kaliasin"].id}"' in page(form)
    sent = client.post("/pengaduan", data={"csrf_token": token_of(form), **complaint_fields(areas)}, headers=headers)
    assert sent.status_code == 303, page(sent)[:2000]
    shown = client.get(sent.headers["Location"], headers=headers)
    assert shown.status_code == 200
    code = re.search(r'<p class="big" id="code">(RK-[2-9A-Z]{4}-[2-9A-Z]{4})</p>', page(shown))[1]
    assert words in page(shown)
    assert f'href="/pengaduan/{code}"' in page(shown)
    api = client.get(f"{API}/complaints/{code}").json
    assert api["category"] == "missed_meal"
    tracked = client.get(f"/pengaduan/{code}", headers=headers)
    assert tracked.status_code == 200
    assert code in page(tracked) and api["respond_by"] in page(tracked)
    # typed in lower case without hyphens, it is found all the same
    typed = client.get(f"/pengaduan/lacak?code={code.lower().replace('-', ' ')}", headers=headers)
    assert typed.status_code == 303 and typed.headers["Location"].endswith(f"/pengaduan/{code}")
    # only what the API shows the public: never the contact nor the description
    assert "Pak Hadi" not in page(tracked) and "3456" not in page(tracked) and "Nenek" not in page(tracked)


def test_the_words_follow_the_language(client, areas):
    indonesian, english = client.get("/pengaduan", headers=ID), client.get("/pengaduan", headers=EN)
    assert "Laporkan masalah" in page(indonesian) and "Report a problem" in page(english)
    assert "Makanan tidak datang" in page(indonesian) and "A meal did not arrive" in page(english)


def test_a_form_without_its_csrf_token_is_refused(client, areas, today):
    refused = client.post("/pengaduan", data=complaint_fields(areas), headers=EN)
    assert refused.status_code == 400
    assert "out of date" in page(refused)
    forged = client.post("/pengaduan", data={"csrf_token": "forged", **complaint_fields(areas)}, headers=EN)
    assert forged.status_code == 400


def filed_and_answered(client, areas, agencies, coordinator, answer: str, **fields) -> str:
    """A complaint filed on the form and answered by the social agency through the API: its code."""
    sent = submit(client, "/pengaduan", complaint_fields(areas, **fields))
    assert sent.status_code == 303
    code = re.search(r"RK-[2-9A-Z]{4}-[2-9A-Z]{4}", page(client.get(sent.headers["Location"], headers=EN)))[0]
    found = next(c for c in client.get(f"{API}/complaints", headers=coordinator).json["items"] if c["code"] == code)
    answered = client.post(f"{API}/complaints/by-id/{found['id']}/answer", headers=agencies.social.headers,
                           json={"public_answer": answer})
    assert answered.status_code == 200, answered.json
    return code


def test_what_people_wrote_is_escaped(client, areas, today, agencies, coordinator):
    attack = "<script>alert(1)</script> makanan tidak datang"
    # the agency answers with markup: the public reads it as text
    answer = '<img src=x onerror="alert(2)"> Kurir sudah ditegur.'
    code = filed_and_answered(client, areas, agencies, coordinator, answer, description=attack,
                              contact_name="<b>Hadi</b>")
    tracked = page(client.get(f"/pengaduan/{code}", headers=EN))
    assert "<img" not in tracked and "<script>alert" not in tracked
    assert str(escape(answer)) in tracked
    # a form sent back with an error shows what was typed, escaped
    again = submit(client, "/pengaduan", complaint_fields(areas, description=attack, contact_email="not-an-email"))
    assert again.status_code == 422
    assert "<script>alert" not in page(again) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page(again)


def test_an_answer_is_reopened_once_on_the_tracking_page(client, areas, today, agencies, coordinator):
    code = filed_and_answered(client, areas, agencies, coordinator, "Kurir sudah ditegur.")
    path = f"/pengaduan/{code}"
    short = submit(client, f"{path}/buka-lagi", {"reason": "<i>no</i>"}, form_path=path)
    assert short.status_code == 422
    assert 'id="reason-error"' in page(short) and "&lt;i&gt;no&lt;/i&gt;</textarea>" in page(short)
    reason = "Makanan tetap tidak datang sampai hari ini."
    reopened = submit(client, f"{path}/buka-lagi", {"reason": reason}, form_path=path)
    assert reopened.status_code == 303 and reopened.headers["Location"] == path
    api = client.get(f"{API}/complaints/{code}").json
    assert api["status"] == "forwarded" and api["reopen_until"] is None
    tracked = page(client.get(path, headers=EN))
    assert "reopened" in tracked and 'name="reason"' not in tracked
    token = token_of(client.get(path, headers=EN))
    again = client.post(f"{path}/buka-lagi", data={"csrf_token": token, "reason": reason}, headers=EN)
    assert again.status_code == 409 and 'id="reason-error"' in page(again)
    unknown = client.post("/pengaduan/RK-2222-2222/buka-lagi", data={"csrf_token": token, "reason": reason})
    assert unknown.status_code == 404


def test_a_refused_form_keeps_what_was_typed_with_the_messages_beside_the_fields(client, areas, today):
    fields = complaint_fields(areas, description="short", contact_email="hadi@", latitude="-8,35", longitude="",
                              privacy="confidential", address="Jl. Melati 3")
    refused = submit(client, "/pengaduan", fields, headers=EN)
    assert refused.status_code == 422
    text = page(refused)
    for name in ("description", "contact_email", "latitude"):
        assert f'id="{name}-error"' in text, name
    assert ">short</textarea>" in text and 'value="hadi@"' in text and 'value="-8,35"' in text
    assert 'value="Jl. Melati 3"' in text and 'value="Pak Hadi"' in text
    assert re.search(r'value="confidential" checked', text)
    assert re.search(rf'<option value="{areas["Kaliasin"].id}" selected>', text)
    # the service's own rules too: a report about a place without any place
    placeless = submit(client, "/pengaduan", complaint_fields(areas, village_id=""), headers=EN)
    assert placeless.status_code == 422 and 'id="latitude-error"' in page(placeless)
    # an elderly person's details belong to a report of one nobody reaches
    mixed = submit(client, "/pengaduan", complaint_fields(areas, elderly_name="Mbah Sarinah"), headers=EN)
    assert mixed.status_code == 422 and 'id="elderly_name-error"' in page(mixed)
    assert 'value="Mbah Sarinah"' in page(mixed)
    # a well-formed one then goes through
    assert submit(client, "/pengaduan", complaint_fields(areas), headers=EN).status_code == 303


def test_an_elderly_person_nobody_reaches_is_reported_on_the_form(client, areas, today, coordinator):
    nik = make_nik("35.10.09", birth_of_age(75), "F", 77)
    sent = submit(client, "/pengaduan", complaint_fields(
        areas, category="unreached_elderly", description="Mbah Sarinah tinggal sendiri dan jarang makan.",
        elderly_name="Sarinah", elderly_nik=nik, elderly_address="Dusun Krajan RT 01", privacy="anonymous"),
        headers=ID)
    assert sent.status_code == 303, page(sent)[:3000]
    code = re.search(r"RK-[2-9A-Z]{4}-[2-9A-Z]{4}", page(client.get(sent.headers["Location"], headers=ID)))[0]
    found = next(c for c in client.get(f"{API}/complaints", headers=coordinator).json["items"] if c["code"] == code)
    assert found["elderly"]["name"] == "Sarinah" and found["elderly"]["nik"] == nik
    assert found["elderly"]["village_id"] == areas["Kaliasin"].id and found["elderly"]["sex"] == "F"
    assert found["anonymous"] is True and found["contact"] is None
    # a NIK that is no NIK: said beside the field, in Indonesian
    wrong = submit(client, "/pengaduan", complaint_fields(
        areas, category="unreached_elderly", elderly_name="Sarinah", elderly_nik="12345"), headers=ID)
    assert wrong.status_code == 422 and 'id="elderly_nik-error"' in page(wrong)
    assert "16 angka" in page(wrong) and 'value="12345"' in page(wrong)


def test_an_unknown_and_a_malformed_code_are_the_same_404(client, areas):
    unknown, malformed = client.get("/pengaduan/RK-2222-2222", headers=EN), client.get("/pengaduan/xyz", headers=EN)
    assert unknown.status_code == malformed.status_code == 404
    assert main_of(unknown) == main_of(malformed)
    typed = client.get("/pengaduan/lacak?code=nonsense", headers=EN)
    assert typed.status_code == 404 and main_of(typed) == main_of(unknown)


def test_the_pages_count_against_the_apis_limits(app, client, areas, today, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT", "2 per hour")
    monkeypatch.setitem(app.config, "RATELIMIT_COMPLAINT_MISSES", "2 per hour")
    body = {"category": "other", "description": "Sesuatu yang lain terjadi di sini."}
    assert client.post(f"{API}/complaints", json=body).status_code == 201
    assert submit(client, "/pengaduan", complaint_fields(areas)).status_code == 303
    refused = submit(client, "/pengaduan", complaint_fields(areas))
    assert refused.status_code == 429 and "Too many tries" in page(refused)
    assert client.post(f"{API}/complaints", json=body).status_code == 429
    assert client.get("/pengaduan/RK-2222-2222").status_code == 404
    assert client.get(f"{API}/complaints/RK-3333-3333").status_code == 404
    assert client.get("/pengaduan/RK-4444-4444").status_code == 429


# --- statistics -----------------------------------------------------------------------------------

def cells(text: str, row: str) -> list[str]:
    found = re.search(rf"<tr><th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", text)
    assert found, row
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", found[1])]


def shown(value, rate=False) -> str:
    if value is None:
        return "–" if rate else "withheld"
    if value == "<5":
        return "fewer than 5"
    return f"{value * 100:.1f}%" if rate else str(value)


def test_the_statistics_page_shows_the_apis_figures(client, areas, monkeypatch):
    real = client.get(f"{API}/public/stats").json
    text = plain(client.get("/statistik", headers=EN))
    for row in real["districts"]:
        assert cells(text, row["district"]) == [shown(row["eligible_yesterday"]), shown(row["fed_yesterday"]),
                                                shown(row["coverage_rate"], rate=True)]
    # with small counts suppressed: said in words, as the API gives them
    made = stats.compute()
    made.districts = [stats.DistrictStats("Genteng", 120, 100, 100 / 120), stats.DistrictStats("Muncar", "<5", "<5",
                                                                                                  None),
                      stats.DistrictStats("Rogojampi", None, None, None)]
    made.eligible_yesterday, made.fed_yesterday, made.coverage_rate = 130, 108, 108 / 130
    monkeypatch.setattr(stats, "public_stats", lambda: made)
    api = client.get(f"{API}/public/stats").json
    response = client.get("/statistik", headers=EN)
    assert response.status_code == 200
    text = page(response)
    for row in api["districts"]:
        assert cells(text, row["district"]) == [shown(row["eligible_yesterday"]), shown(row["fed_yesterday"]),
                                                shown(row["coverage_rate"], rate=True)]
    assert cells(text, "Genteng") == ["120", "100", "83.3%"]
    assert cells(text, "Muncar") == ["fewer than 5", "fewer than 5", "–"]
    assert cells(text, "Rogojampi") == ["withheld", "withheld", "–"]
    assert f"<b>{api['eligible_yesterday']}</b>" in text and f"<b>{api['fed_yesterday']}</b>" in text
    indonesian = page(client.get("/statistik", headers=ID))
    assert cells(indonesian, "Muncar")[0] == "kurang dari 5" and cells(indonesian, "Rogojampi")[0] == "dirahasiakan"


# --- volunteers -----------------------------------------------------------------------------------

def sign_up_fields(areas, phone="0812 5555 0101", **overrides) -> dict:
    return {"name": "Dewi Lestari", "phone": phone, "password": PASSWORD, "village_id": str(areas["Kaliasin"].id),
            "skills": ["deliver", "visit"], "capacity": "2", "accepts_code_of_conduct": "yes", **overrides}


def sign_in(client, login: str, password: str = PASSWORD, headers=EN, next_path: str = "/relawan"):
    response = submit(client, "/masuk", {"login": login, "password": password, "next": next_path}, headers=headers)
    assert response.status_code == 303, page(response)[:1000]
    return response


def volunteer_id_of(client, social, phone_digits: str) -> int:
    found = client.get(f"{API}/volunteers?q={phone_digits}", headers=social).json["items"]
    assert len(found) == 1
    return found[0]["id"]


def test_the_sign_up_form_shows_the_code_of_conduct_and_wants_consent(client, areas):
    form = client.get("/relawan/daftar", headers=ID)
    plain(form)
    assert "Kode etik" in page(form) and 'name="accepts_code_of_conduct"' in page(form)
    refused = submit(client, "/relawan/daftar", {k: v for k, v in sign_up_fields(areas).items()
                                                 if k != "accepts_code_of_conduct"}, headers=EN)
    assert refused.status_code == 422
    text = page(refused)
    assert 'id="accepts_code_of_conduct-error"' in text
    assert 'value="Dewi Lestari"' in text and 'value="deliver" checked' in text and PASSWORD not in text
    short = submit(client, "/relawan/daftar", sign_up_fields(areas, password="short"), headers=EN)
    assert short.status_code == 422 and 'id="password-error"' in page(short)
    # a phone registered already: said without saying whose, what was typed kept
    assert submit(client, "/relawan/daftar", sign_up_fields(areas)).status_code == 303
    taken = submit(client, "/relawan/daftar", sign_up_fields(areas, name="Budi", phone="0812-5555-0101"), headers=ID)
    assert taken.status_code == 409 and 'id="phone-error"' in page(taken) and "sudah terdaftar" in page(taken)
    assert 'value="Budi"' in page(taken) and 'value="0812-5555-0101"' in page(taken)


def test_a_volunteer_signs_up_waits_then_takes_someone_on_and_lets_go(client, areas, today, agencies,
                                                                      make_recipient):
    social = agencies.social.headers
    people = [make_recipient("enrolled", address="Jl. Diponegoro No. 4, RT 02/RW 01"),
              make_recipient("enrolled", name="Slamet Riyadi", sex="M", address="Dusun Krajan RT 05/RW 02",
                             dietary_needs=["low salt"])]
    signed = submit(client, "/relawan/daftar", sign_up_fields(areas), headers=ID)
    assert signed.status_code == 303, page(signed)[:3000]
    assert "Terima kasih sudah mendaftar" in page(client.get(signed.headers["Location"], headers=ID))
    home = sign_in(client, "0812 5555 0101", headers=ID)
    assert home.headers["Location"] == "/relawan"
    waiting = client.get("/relawan", headers=ID)
    assert waiting.status_code == 200 and 'id="status"' in page(waiting) and "persetujuan" in page(waiting)
    # the social agency approves, through the API
    vid = volunteer_id_of(client, social, "81255550101")
    assert client.post(f"{API}/volunteers/{vid}/approve", headers=social).status_code == 200
    home = client.get("/relawan", headers=EN)
    assert home.status_code == 200
    text = plain(home)
    # the opportunities, as the API shows them: no full name, address, NIK, phone or point
    for person in people:
        assert person["address"] not in text and person["name"] not in text and person["nik"] not in text
        assert str(person["latitude"]) not in text
    assert "Siti A." in text and "Slamet R." in text and 'name="recipient_id"' in text
    assert "Diet: low salt" in text
    assert 'href="/relawan/makan"' in text  # the day's meals, on their own page
    # a distance beyond the API's bound, or a kind the volunteer has no skill for: said, defaults used
    wide = page(client.get("/relawan?radius_km=99", headers=EN))
    assert 'id="radius_km-error"' in wide and "Siti A." in wide
    # take Siti on
    taken = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(people[0]["id"]), "kind": "deliver"})
    assert taken.status_code == 303, page(taken)[:2000]
    claim = client.get(taken.headers["Location"], headers=EN)
    assert claim.status_code == 200
    plain(claim)
    assert people[0]["address"] in html.unescape(page(claim)) and people[0]["name"] in page(claim)
    assert people[1]["address"] not in html.unescape(page(claim))
    # the home lists her, by her short name; Slamet is still someone nobody reaches, shown as before
    text = page(client.get("/relawan", headers=EN))
    assert taken.headers["Location"] in text and people[1]["address"] not in html.unescape(text)
    # sending the claim twice lands on the same claim
    again = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(claim), "recipient_id": str(people[0]["id"]), "kind": "deliver"})
    assert again.status_code == 303 and again.headers["Location"] == taken.headers["Location"]
    # as many as they said they can help (2): a third is refused, in words
    home = client.get("/relawan", headers=EN)
    second = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(people[1]["id"]), "kind": "deliver"})
    assert second.status_code == 303
    third = make_recipient("enrolled", address="Dusun Krajan RT 07/RW 02")
    full = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(third["id"]), "kind": "deliver"})
    assert full.status_code == 409 and "let go of someone first" in page(full)
    assert third["address"] not in html.unescape(page(full))
    assert client.post(f"{second.headers['Location']}/lepas", data={"csrf_token": token_of(home)},
                       headers=EN).status_code == 303
    # let go
    claim_path = taken.headers["Location"]
    released = client.post(f"{claim_path}/lepas", data={"csrf_token": token_of(claim)}, headers=EN)
    assert released.status_code == 303 and released.headers["Location"] == "/relawan"
    assert "let go" in page(client.get("/relawan", headers=EN))
    after = client.get(claim_path, headers=EN)
    assert after.status_code == 200 and people[0]["address"] not in html.unescape(page(after))
    api = client.get(f"{API}/claims?volunteer_id={vid}", headers=social).json["items"]
    assert [(c["status"], c["end_reason"]) for c in api] == [("ended", "released")] * 2


def test_a_visit_is_logged_and_a_concern_needs_its_reason(client, areas, today, agencies, make_recipient):
    social = agencies.social.headers
    person = make_recipient("verified")
    assert submit(client, "/relawan/daftar", sign_up_fields(areas, skills=["visit"])).status_code == 303
    assert client.post(f"{API}/volunteers/{volunteer_id_of(client, social, '81255550101')}/approve",
                       headers=social).status_code == 200
    sign_in(client, "0812 5555 0101")
    home = client.get("/relawan", headers=EN)
    taken = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(person["id"]), "kind": "visit"})
    assert taken.status_code == 303
    claim_path = taken.headers["Location"]
    token = token_of(client.get(claim_path, headers=EN))
    worried = client.post(f"{claim_path}/kunjungan", headers=EN, data={
        "csrf_token": token, "visited_on": today.isoformat(), "outcome": "concern", "notes": "Batuk terus."})
    assert worried.status_code == 422
    assert 'id="concern_reason-error"' in page(worried) and "Batuk terus.</textarea>" in page(worried)
    logged = client.post(f"{claim_path}/kunjungan", headers=EN, data={
        "csrf_token": token, "visited_on": today.isoformat(), "outcome": "concern", "notes": "Batuk terus.",
        "concern_reason": "Beliau batuk dan tidak ada yang merawat.", "hours": "1,5"})
    assert logged.status_code == 303, page(logged)[:2000]
    after = page(client.get(logged.headers["Location"], headers=EN))
    assert "visit is logged" in after
    assert f"{today.isoformat()}: Visited, and I am worried" in after
    with_token = {"Authorization": _bearer(client, "0812 5555 0101")}
    visits = client.get(f"{API}/volunteers/me/visits", headers=with_token).json["items"]
    assert [(v["outcome"], v["hours"], v["concern"]["reason"]) for v in visits] == [
        ("concern", 1.5, "Beliau batuk dan tidak ada yang merawat.")]


def _bearer(client, login: str) -> str:
    response = client.post(f"{API}/auth/token", json={"phone": login, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return f"Bearer {response.json['token']}"


def test_another_volunteers_claim_is_the_same_404_as_none(client, areas, today, agencies, make_recipient):
    social = agencies.social.headers
    person = make_recipient("enrolled")
    for phone in ("0812 5555 0101", "0812 5555 0202"):
        assert submit(client, "/relawan/daftar", sign_up_fields(areas, phone=phone)).status_code == 303
        vid = volunteer_id_of(client, social, phone.replace(" ", "")[1:])
        assert client.post(f"{API}/volunteers/{vid}/approve", headers=social).status_code == 200
    sign_in(client, "0812 5555 0101")
    home = client.get("/relawan", headers=EN)
    taken = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(person["id"]), "kind": "deliver"})
    claim_path = taken.headers["Location"]
    claim_id = int(claim_path.rsplit("/", 1)[1])
    other = client.application.test_client()
    sign_in(other, "0812 5555 0202")
    theirs, missing = other.get(claim_path, headers=EN), other.get(f"/relawan/klaim/{claim_id + 1000}", headers=EN)
    assert theirs.status_code == missing.status_code == 404
    assert main_of(theirs) == main_of(missing)
    assert person["address"] not in html.unescape(page(theirs))
    token = token_of(other.get("/relawan", headers=EN))
    released = other.post(f"{claim_path}/lepas", data={"csrf_token": token}, headers=EN)
    assert released.status_code == 404 and main_of(released) == main_of(missing)
    visit = other.post(f"{claim_path}/kunjungan", data={"csrf_token": token, "outcome": "visited"}, headers=EN)
    assert visit.status_code == 404 and main_of(visit) == main_of(missing)
    # still the first volunteer's
    assert person["address"] in html.unescape(page(client.get(claim_path, headers=EN)))


@pytest.mark.parametrize("path", ["/relawan", "/relawan/klaim/1"])
def test_a_stranger_is_sent_to_sign_in(client, path):
    response = client.get(path, headers=ID)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/masuk?next=")


def test_a_stall_may_not_open_the_volunteers_pages(app, client, make_user, monkeypatch):
    user, _ = make_user("vendor")
    sign_in(client, user.email, password="password-1", next_path="/statistik")
    refused = client.get("/relawan", headers=EN)
    assert refused.status_code == 403
    assert "Not for this account" in page(refused)


def test_a_pending_rejected_or_suspended_volunteer_reads_what_it_means(client, areas, today, agencies):
    social = agencies.social.headers
    assert submit(client, "/relawan/daftar", sign_up_fields(areas)).status_code == 303
    vid = volunteer_id_of(client, social, "81255550101")
    sign_in(client, "0812 5555 0101")
    token = token_of(client.get("/relawan", headers=EN))
    assert client.post("/relawan/klaim", data={"csrf_token": token, "recipient_id": "1", "kind": "deliver"},
                       headers=EN).status_code == 403
    assert client.post(f"{API}/volunteers/{vid}/reject", json={"reason": "<i>Tidak</i> di wilayah kami"},
                       headers=social).status_code == 200
    text = page(client.get("/relawan", headers=EN))
    assert "not approved" in text and "&lt;i&gt;Tidak&lt;/i&gt; di wilayah kami" in text
    # another, approved then suspended
    other = client.application.test_client()
    assert submit(other, "/relawan/daftar", sign_up_fields(areas, phone="0812 5555 0202")).status_code == 303
    vid = volunteer_id_of(client, social, "81255550202")
    assert client.post(f"{API}/volunteers/{vid}/approve", headers=social).status_code == 200
    assert client.post(f"{API}/volunteers/{vid}/suspend", json={"reason": "Tidak datang dua kali"},
                       headers=social).status_code == 200
    sign_in(other, "0812 5555 0202")
    text = page(other.get("/relawan", headers=ID))
    assert "ditangguhkan" in text and "Tidak datang dua kali" in text


def test_a_visit_queued_offline_is_logged_once_however_often_it_is_sent(client, areas, today, agencies,
                                                                         make_recipient):
    """The page's script sends a visit made offline with its Idempotency-Key, asking for JSON: the
    first answer is replayed to every retry, and the visit is logged once; a refused one says why."""
    social = agencies.social.headers
    person = make_recipient("verified")
    assert submit(client, "/relawan/daftar", sign_up_fields(areas, skills=["visit"])).status_code == 303
    assert client.post(f"{API}/volunteers/{volunteer_id_of(client, social, '81255550101')}/approve",
                       headers=social).status_code == 200
    sign_in(client, "0812 5555 0101")
    home = client.get("/relawan", headers=EN)
    claim_path = client.post("/relawan/klaim", headers=EN, data={
        "csrf_token": token_of(home), "recipient_id": str(person["id"]), "kind": "visit"}).headers["Location"]
    claim_page = client.get(claim_path, headers=ID)
    assert 'data-queue' in page(claim_page) and "data-offline" in page(claim_page)
    script = {"Accept": "application/json", "X-CSRFToken": token_of(claim_page), "Idempotency-Key": "visit-1",
              **ID}
    body = {"visited_on": today.isoformat(), "outcome": "visited"}
    answers = [client.post(f"{claim_path}/kunjungan", data=body, headers=script) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json["status"] == "logged" and answers[2].headers.get("Idempotent-Replayed") == "true"
    with_token = {"Authorization": _bearer(client, "0812 5555 0101")}
    assert len(client.get(f"{API}/volunteers/me/visits", headers=with_token).json["items"]) == 1
    refused = client.post(f"{claim_path}/kunjungan", data={**body, "outcome": "concern"},
                          headers={**script, "Idempotency-Key": "visit-2"})
    assert refused.status_code == 422 and refused.json["detail"]
    other = client.post("/relawan/klaim/999999/kunjungan", data=body, headers={**script, "Idempotency-Key": "v-3"})
    assert other.status_code == 404


# --- regions --------------------------------------------------------------------------------------

def test_a_regencys_door_keeps_its_region_from_the_form_to_the_row(client, areas, today):
    """With more than one region, each public page offers the regencies; one opened for Jember
    (``?region=35.09``) lists Jember's villages, and its form sends the complaint or the sign-up to
    Jember, as the API's ``?region=`` does."""
    from sqlalchemy import select

    from service.complaints.models import Complaint
    from service.db import bind, default_region
    from service.extensions import db
    from service.program import regions
    from service.program import service as program_service
    from service.volunteers.models import Volunteer

    single = client.get("/pengaduan", headers=ID)
    assert 'name="region"' not in page(single)  # one region: nothing to choose
    bind(db.session, None)
    regions.create("35.09", "Jember", "Asia/Jakarta")
    db.session.commit()
    bind(db.session, ("35.09",))
    district = program_service.create_area("Sumbersari", "district", -8.17, 113.72)
    village = program_service.create_area("Kranjingan", "village", -8.17, 113.72, district.id)
    db.session.commit()
    bind(db.session, (default_region(),))
    for path in ("/pengaduan", "/relawan/daftar", "/statistik"):
        here = client.get(path, headers=ID)
        there = client.get(f"{path}?region=35.09", headers=ID)
        assert here.status_code == there.status_code == 200, path
        plain(there)
        assert '<option value="35.09" selected>Jember</option>' in page(there), path
        assert f'<option value="{default_region()}" selected>' in page(here), path
        if path != "/statistik":
            assert f'action="{path}?region=35.09"' in page(there) and f'action="{path}"' in page(here), path
            assert f'<option value="{village.id}"' in page(there) and f'<option value="{village.id}"' not in page(here)
    assert client.get("/pengaduan?region=99.99", headers=ID).status_code == 404
    sent = submit(client, "/pengaduan?region=35.09", complaint_fields(areas, village_id=str(village.id)), headers=EN)
    assert sent.status_code == 303, page(sent)[:2000]
    signed = submit(client, "/relawan/daftar?region=35.09",
                    sign_up_fields(areas, village_id=str(village.id), phone="0812 5555 0909"), headers=EN)
    assert signed.status_code == 303, page(signed)[:3000]
    bind(db.session, None)
    filed = db.session.scalars(select(Complaint.region_code)).all()
    joined = db.session.scalars(select(Volunteer.region_code)).all()
    bind(db.session, (default_region(),))
    assert filed == ["35.09"] and joined == ["35.09"], (filed, joined)
