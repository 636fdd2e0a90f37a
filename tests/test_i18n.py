"""The API speaks Bahasa Indonesia (issue 24): the catalog is complete, problem answers keep their
``type``, ``status`` and field names in every language and say the rest in the reader's, and the
reader's language is the user's choice, else the browser's, else the program's (Indonesian).

The other tests read English (tests/conftest.py); these ask for Indonesian. Every problem answer
of the whole run is also read in Indonesian and checked for English (conftest's
``pytest_sessionfinish``); ``test_a_broad_set_of_errors_reads_as_indonesian`` checks a set of its
own, so that running this file alone checks something too."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import refresh
from werkzeug.exceptions import TooManyRequests

from blueprints.errors import handle_http_exception
from schemas.words import TASK_TYPES, WORDS, words
from service.config import Config
from tests.english import english_words, messages_of

CATALOG = Path(__file__).parent.parent / "service" / "translations" / "id" / "LC_MESSAGES" / "messages.po"
ID = {"Accept-Language": "id"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def bare(app, monkeypatch):
    """A client that sends no Accept-Language, on a program whose language is its default (id)."""
    monkeypatch.setitem(app.config, "LANGUAGE", Config.LANGUAGE)
    client = app.test_client()
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    return client


def both(client, method: str, url: str, headers: dict | None = None, **kwargs):
    """The same request read in Indonesian and in English."""
    said = {}
    for lang, language in (("id", ID), ("en", EN)):
        response = client.open(url, method=method, headers={**(headers or {}), **language}, **kwargs)
        assert response.mimetype == "application/problem+json", response.data
        said[lang] = response.json
    return said["id"], said["en"]


def assert_translated(indonesian: dict, english: dict) -> None:
    """Same type, status and field names; title, detail and every field message different and
    Indonesian."""
    assert indonesian["type"] == english["type"] and indonesian["status"] == english["status"]
    assert set(indonesian.get("errors") or {}) == set(english.get("errors") or {})
    assert indonesian["title"] != english["title"] and indonesian["detail"] != english["detail"]
    for field, messages in (english.get("errors") or {}).items():
        assert indonesian["errors"][field] != messages, field
    for message in messages_of(indonesian):
        assert not english_words(message), (message, english_words(message))
    assert any(english_words(message) for message in messages_of(english)) or english["status"] in (401, 404), \
        english  # the detector sees English where there is some


def test_every_message_has_its_indonesian_words_and_the_catalog_compiles():
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="id", domain="messages")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 300
    assert not [m.id for m in messages if not m.string or not str(m.string).strip()]
    assert not [m.id for m in messages if m.fuzzy]
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems  # placeholders agree between msgid and msgstr
    out = io.BytesIO()
    write_mo(out, catalog)
    assert out.getvalue()


def test_codes_have_words_in_both_languages():
    assert set(WORDS["id"]) == set(WORDS["en"]) and set(TASK_TYPES["id"]) == set(TASK_TYPES["en"])
    moved = {"code": "moved", "from_vendor_id": 3, "km": 1.2,
             "cause": {"code": "inspection_failed", "on": "2026-11-29"}}
    assert words(moved, "en") == "moved: stall 3 failed its hygiene inspection of 2026-11-29 (1.2 km)"
    assert words(moved, "id") == "dipindahkan: warung 3 tidak lulus pemeriksaan higiene tanggal 2026-11-29 (1.2 km)"
    assert words({"code": "task_title", "type": "follow_up", "subject": "Siti"}, "id") == "Tindak lanjut: Siti"
    for code, template in WORDS["id"].items():
        assert not english_words(template.replace("{", "`").replace("}", "`")), code


def test_domain_errors_are_said_in_the_readers_language(client, coordinator, make_recipient, recipient_data):
    indonesian, english = both(client, "GET", "/api/v1/recipients/999999", coordinator)
    assert indonesian["status"] == 404 and indonesian["type"] == "urn:rantang:problem:not-found"
    assert english["detail"] == "recipient 999999 does not exist"
    assert indonesian["detail"] == "penerima manfaat 999999 tidak ada" and indonesian["title"] == "Tidak Ditemukan"
    assert_translated(indonesian, english)

    body = recipient_data()
    assert client.post("/api/v1/recipients", json=body, headers=coordinator).status_code == 201
    indonesian, english = both(client, "POST", "/api/v1/recipients", coordinator, json=body)
    assert indonesian["status"] == 409 and indonesian["existing_id"] == english["existing_id"]
    assert indonesian["title"] == "Konflik" and "sudah terdaftar" in indonesian["detail"]
    assert_translated(indonesian, english)

    indonesian, english = both(client, "POST", "/api/v1/recipients", coordinator, json=recipient_data(sex="M") | {
        "sex": "F"})
    assert indonesian["status"] == 422 and "sex" in indonesian["errors"]
    assert indonesian["errors"]["sex"][0].startswith("NIK menunjukkan jenis kelamin")
    assert_translated(indonesian, english)

    person = make_recipient("candidate")
    indonesian, english = both(client, "POST", f"/api/v1/recipients/{person['id']}/enrol", coordinator)
    assert english["detail"] == f"cannot enrol recipient {person['id']}: status is candidate, must be verified"
    assert indonesian["detail"] == (f"tidak dapat mendaftarkan penerima manfaat {person['id']}: statusnya candidate, "
                                    "harus verified")
    today = dt.date.today().isoformat()
    indonesian, english = both(client, "POST", f"/api/v1/recipients/{person['id']}/pauses", coordinator,
                               json={"start_date": today, "end_date": today, "reason": "sakit"})
    assert indonesian["detail"].startswith("tidak dapat menjedakan penerima manfaat")
    assert indonesian["detail"].endswith("harus verified atau enrolled")


def test_marshmallow_and_webargs_messages_are_said_in_the_readers_language(client, coordinator, recipient_data):
    indonesian, english = both(client, "POST", "/api/v1/recipients", coordinator,
                               json={"name": "Siti", "village_id": "one", "bogus": 1})
    assert indonesian["status"] == 422
    assert english["errors"]["nik"] == ["Missing data for required field."]
    assert indonesian["errors"]["nik"] == ["Isian wajib ini belum diisi."]
    assert english["errors"]["bogus"] == ["Unknown field."]
    assert indonesian["errors"]["bogus"] == ["Isian tidak dikenal."]
    assert english["errors"]["village_id"] == ["Not a valid integer."]
    assert indonesian["errors"]["village_id"] == ["Bukan bilangan bulat yang sah."]
    assert_translated(indonesian, english)

    indonesian, english = both(client, "GET", "/api/v1/recipients?per_page=0&page=x", coordinator)
    assert indonesian["status"] == 422 and set(indonesian["errors"]) == {"per_page", "page"}
    assert english["errors"]["per_page"] == ["Must be greater than or equal to 1 and less than or equal to 500."]
    assert indonesian["errors"]["per_page"] == ["Harus lebih besar dari atau sama dengan 1 dan lebih kecil dari atau "
                                                "sama dengan 500."]
    assert_translated(indonesian, english)

    indonesian, english = both(client, "POST", "/api/v1/recipients", coordinator,
                               json=recipient_data(name="", phone="call me", nik="123"))
    assert {"name", "phone", "nik"} <= set(indonesian["errors"])
    assert_translated(indonesian, english)


def test_http_errors_have_titles_in_the_readers_language(client, health, app):
    indonesian, english = both(client, "GET", "/api/v1/recipients")
    assert (indonesian["status"], indonesian["title"]) == (401, "Belum Terautentikasi")
    assert english["title"] == "Unauthorized"
    assert_translated(indonesian, english)

    indonesian, english = both(client, "POST", "/api/v1/recipients", health, json={})
    assert (indonesian["status"], indonesian["title"], english["title"]) == (403, "Dilarang", "Forbidden")
    assert_translated(indonesian, english)

    indonesian, english = both(client, "PUT", "/api/v1/me")
    assert (indonesian["status"], indonesian["title"]) == (405, "Metode Tidak Diizinkan")
    assert_translated(indonesian, english)

    indonesian, english = both(client, "GET", "/api/v1/nothing-here")
    assert (indonesian["status"], indonesian["title"]) == (404, "Tidak Ditemukan")
    assert_translated(indonesian, english)

    said = {}
    for lang in ("id", "en"):
        with app.test_request_context("/api/v1/auth/token", headers={"Accept-Language": lang}):
            refresh()  # what each request does first (blueprints/__init__.py)
            said[lang] = handle_http_exception(TooManyRequests()).get_json()
    assert (said["id"]["status"], said["id"]["title"], said["en"]["title"]) == \
        (429, "Terlalu Banyak Permintaan", "Too Many Requests")


def test_the_users_language_wins_then_the_browsers_then_the_programs(bare, coordinator):
    assert bare.get("/api/v1/recipients/999999", headers=coordinator).json["detail"] == \
        "penerima manfaat 999999 tidak ada"  # nothing said: the program's language
    assert bare.get("/api/v1/recipients/999999", headers={**coordinator, "Accept-Language": "en-US,en;q=0.9"}) \
        .json["detail"] == "recipient 999999 does not exist"

    chosen = bare.patch("/api/v1/me", json={"language": "en"}, headers=coordinator)
    assert chosen.status_code == 200 and chosen.json["language"] == "en"
    for headers in (coordinator, {**coordinator, "Accept-Language": "id"}):
        assert bare.get("/api/v1/recipients/999999", headers=headers).json["detail"] == \
            "recipient 999999 does not exist"

    assert bare.patch("/api/v1/me", json={"language": None}, headers=coordinator).json["language"] is None
    assert bare.get("/api/v1/recipients/999999", headers=coordinator).json["detail"] == \
        "penerima manfaat 999999 tidak ada"
    assert bare.get("/api/v1/recipients/999999", headers={**coordinator, "Accept-Language": "en"}).json["detail"] == \
        "recipient 999999 does not exist"

    refused = bare.patch("/api/v1/me", json={"language": "fr"}, headers=coordinator).json
    assert refused["errors"]["language"] == ["Harus salah satu dari: id, en."]


def test_names_of_days_and_holidays_are_in_the_readers_language(client, coordinator):
    holiday = {"date": "2027-08-17", "name": "Libur"}
    indonesian, english = both(client, "POST", "/api/v1/program/leave-days", coordinator, json=holiday)
    assert english["errors"]["date"] == ["2027-08-17 is a public holiday already (Independence Day)"]
    assert indonesian["errors"]["date"] == ["2027-08-17 sudah merupakan hari libur nasional (Hari Kemerdekaan "
                                            "Republik Indonesia)"]
    indonesian, english = both(client, "POST", "/api/v1/program/leave-days", coordinator,
                               json={"date": "2027-08-14", "name": "Libur"})
    assert english["errors"]["date"] == ["2027-08-14 is a Saturday: no working day to leave"]
    assert indonesian["errors"]["date"] == ["2027-08-14 jatuh pada hari Sabtu: bukan hari kerja yang dapat diliburkan"]
    assert_translated(indonesian, english)


def test_a_broad_set_of_errors_reads_as_indonesian(client, coordinator, make_recipient, recipient_data, make_user):
    """A sample of the service's refusals across its areas, read in Indonesian: no English."""
    person = make_recipient("enrolled")
    _, vendor = make_user("vendor")
    requests = [
        ("POST", "/api/v1/recipients", coordinator, {"json": recipient_data(birth_date="2090-01-01")}),
        ("POST", f"/api/v1/recipients/{person['id']}/enrol", coordinator, {}),
        ("POST", f"/api/v1/recipients/{person['id']}/exit", coordinator, {"json": {"reason": "bored"}}),
        ("PATCH", f"/api/v1/recipients/{person['id']}", {**coordinator, "If-Match": '"99"'}, {"json": {"name": "X"}}),
        ("PATCH", f"/api/v1/recipients/{person['id']}", coordinator, {"json": {}}),
        ("POST", "/api/v1/recipients", coordinator, {"data": b"{nope", "content_type": "application/json"}),
        ("POST", "/api/v1/recipients", coordinator, {"data": b"x", "content_type": "text/plain"}),
        ("GET", "/api/v1/recipients?status=nope", coordinator, {}),
        ("GET", "/api/v1/deliveries?date=2001-99-99", coordinator, {}),
        ("POST", "/api/v1/auth/token", {}, {"json": {"email": "nobody@rantang.example", "password": "wrong-one!"}}),
        ("GET", "/api/v1/recipients", {"Authorization": "Basic abc"}, {}),
        ("GET", "/api/v1/recipients", {"Authorization": "Bearer not-a-token"}, {}),
        ("GET", "/api/v1/recipients", vendor, {}),
        ("POST", "/api/v1/volunteers", {}, {"json": {"name": "A", "phone": "12", "email": "not-an-email"}}),
        ("POST", "/api/v1/complaints", {}, {"json": {"category": "nope", "description": "short"}}),
        ("GET", "/api/v1/tasks/999999", coordinator, {}),
        ("GET", "/api/v1/vendors/99999999999999999999", coordinator, {}),
    ]
    broken = client.post("/api/v1/recipients", data=b"{nope", content_type="application/json",
                         headers={**coordinator, **ID}).json
    assert broken["detail"] == ("Isi permintaan bukan JSON yang sah: seharusnya ada nama properti di antara tanda "
                                "kutip ganda pada baris 1, kolom 2.")
    seen = 0
    for method, url, headers, kwargs in requests:
        response = client.open(url, method=method, headers={**headers, **ID}, **kwargs)
        if response.mimetype != "application/problem+json":
            continue
        seen += 1
        for message in messages_of(response.json):
            assert not english_words(message), (url, message, english_words(message))
    assert seen >= len(requests) - 2


def test_csv_headers_are_in_the_readers_language(client, coordinator):
    today = dt.date.today().isoformat()
    said = {lang: client.get("/api/v1/coverage/export.csv", query_string={"from": today},
                             headers={**coordinator, "Accept-Language": lang}).get_data(as_text=True).splitlines()[0]
            for lang in ("id", "en")}
    assert said["en"].split(",")[:4] == ["date", "closed", "counted_at", "eligible"]
    assert said["id"].split(",")[:4] == ["tanggal", "ditutup", "dihitung_pada", "layak"]
    assert len(said["id"].split(",")) == len(said["en"].split(","))


def test_the_cli_speaks_the_programs_language(app, cli, areas, monkeypatch):
    monkeypatch.setitem(app.config, "LANGUAGE", Config.LANGUAGE)  # Indonesian, as in production
    refresh()
    refused = cli.invoke(args=["demo", "load"])
    assert refused.exit_code != 0 and "basis data sudah berisi data" in refused.output
    unknown = cli.invoke(args=["users", "revoke-tokens", "999999"])
    assert unknown.exit_code != 0 and "pengguna 999999 tidak ada" in unknown.output
    monkeypatch.setitem(app.config, "LANGUAGE", "en")
    refresh()  # the command ran in the test's app context, which keeps the language it chose
    refused = cli.invoke(args=["demo", "load"])
    assert refused.exit_code != 0 and "the database holds data already" in refused.output


def test_answers_vary_by_language_for_caches(client):
    assert "Accept-Language" in client.get("/api/v1/public/stats").headers.get("Vary", "")
    assert "Accept-Language" in client.get("/api/v1/recipients").headers.get("Vary", "")
