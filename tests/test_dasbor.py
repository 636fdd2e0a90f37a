"""The dashboard (/dasbor) as the program office and each agency read it without JavaScript: the
figures equal the API's for the same day, the map's villages link to their lists, every table
exports as CSV, and each role sees what the API lets it see, no more (another region's staff see
another region's village as one that does not exist)."""
from __future__ import annotations

import csv
import io
import re
from html import escape

import pytest

from service.deliveries import scheduling
from service.extensions import db
from service.program import clock
from tests.pages import EN, ID, csrf_of, sign_in, text_of
from tests.test_regions import region_b  # noqa: F401 (a fixture)

PAGES = ("/dasbor", "/dasbor/laporan")


def values(html: str) -> dict[str, str]:
    """Each figure on a page that names its indicator: indicator -> data-value (the first one)."""
    found: dict[str, str] = {}
    for indicator, value in re.findall(r'data-indicator="([a-z_]+)" data-value="([^"]*)"', html):
        found.setdefault(indicator, value)
    return found


def staff_login(user) -> str:
    return user.email


@pytest.fixture
def day(loop, client):
    """Today scheduled, one meal delivered and one failed by stall A."""
    scheduling.schedule_day(clock.today())
    db.session.commit()
    meals = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a).json["deliveries"]
    first, second = meals[0]["id"], meals[1]["id"]
    assert client.post(f"/api/v1/deliveries/{first}/confirm", json={"status": "delivered"},
                       headers=loop.phone_a).status_code == 200
    assert client.post(f"/api/v1/deliveries/{second}/confirm", json={"status": "failed", "reason": "not_at_home"},
                       headers=loop.phone_a).status_code == 200
    return loop


def test_the_overviews_figures_are_the_apis_for_the_same_day(client, day, make_user, coordinator):
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    page = client.get("/dasbor", headers=ID)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    coverage = client.get("/api/v1/coverage?live=true", headers=coordinator).json
    shown = values(html)
    for name in ("eligible", "covered", "uncovered", "delivered", "pending", "failed", "missed", "coverage_rate",
                 "delivery_rate"):
        assert shown[name] == ("null" if coverage[name] is None else str(coverage[name])), name
    assert shown["eligible"] == "3" and shown["delivered"] == "1" and shown["failed"] == "1"
    assert {"weekly_meal_rate", "visit_rate"} <= set(shown)
    # the map: every village with its id, linking to its own page
    villages = re.findall(r'<a href="/dasbor/desa/(\d+)" data-area-id="(\d+)"', html)
    assert villages and all(a == b for a, b in villages)
    assert "Hari ini" in text_of(html)  # Indonesian first


def test_a_village_on_the_map_leads_to_its_counts_and_its_list(client, day, make_user, make_recipient, coordinator):
    lonely = make_recipient("verified")  # verified, fed by no stall yet
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    village_id = lonely["village_id"]
    html = client.get(f"/dasbor/desa/{village_id}", headers=EN).get_data(as_text=True)
    assert f'data-recipient-id="{lonely["id"]}"' in html
    listed = client.get(f"/api/v1/recipients/uncovered?village_id={village_id}", headers=coordinator).json
    assert {r["id"] for r in listed["items"]} <= {int(i) for i in re.findall(r'data-recipient-id="(\d+)"', html)}
    exported = client.get(f"/dasbor/desa/{village_id}?unduh=belum", headers=EN)
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][0] == "id" and str(lonely["id"]) in {row[0] for row in rows[1:]}
    assert client.get("/dasbor/desa/999999", headers=EN).status_code == 404


def test_every_table_exports_as_csv(client, day, make_user):
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    for table in ("desa", "tren", "target", "pengaduan", "relawan"):
        response = client.get(f"/dasbor?unduh={table}", headers=EN)
        assert response.status_code == 200 and response.mimetype == "text/csv", table
        assert "attachment" in response.headers["Content-Disposition"]
    trend = list(csv.reader(io.StringIO(client.get("/dasbor?unduh=tren", headers=EN).get_data(as_text=True))))
    assert len(trend) == 31  # a header and 30 days
    assert client.get("/dasbor?unduh=nothing", headers=EN).status_code == 404
    assert client.get("/dasbor/laporan?unduh=hari", headers=EN).mimetype == "text/csv"


def test_csv_headers_are_in_the_readers_language(client, day, make_user, agencies):
    """Every column of every dashboard export has its Indonesian word (English keeps the API's
    codes), as the API's own exports say theirs."""
    from blueprints.pages.dasbor import _columns
    from service.i18n import force_locale

    with force_locale("id"):
        words = _columns()
    assert all(words[code] != code for code in words if code not in ("id", "status")), words
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    pages = {"/dasbor": ("desa", "capaian", "tren", "target", "pengaduan", "relawan"),
             "/dasbor/laporan": ("hari", "target"),
             f"/dasbor/dinas?agency_id={agencies.education.agency_id}": ("tugas", "sekolah"),
             f"/dasbor/dinas?agency_id={agencies.health.agency_id}": ("higiene", "sertifikat"),
             f"/dasbor/dinas?agency_id={agencies.social.agency_id}": ("calon", "ditandai", "relawan")}
    for path, tables in pages.items():
        for table in tables:
            joiner = "&" if "?" in path else "?"
            said = {lang: client.get(f"{path}{joiner}unduh={table}", headers=language).get_data(as_text=True)
                    .splitlines()[0].split(",") for lang, language in (("id", ID), ("en", EN))}
            assert len(said["id"]) == len(said["en"]) and said["en"] != said["id"], (path, table, said)
            assert all(re.fullmatch(r"[a-z_]+", word) for word in said["en"] + said["id"]), said
            english_left = [w for w in said["id"] if w in said["en"] and w not in ("id", "status")]
            assert not english_left, (path, table, english_left)


@pytest.mark.parametrize("kind", ["social", "data", "health", "education", "other"])
def test_each_agency_sees_its_own_view_and_no_more_than_the_api_lets_it(client, day, make_user, kind):
    user, headers = make_user("agency", kind)
    sign_in(client, user.email)
    overview = client.get("/dasbor", headers=EN)
    assert overview.status_code == 200
    html = overview.get_data(as_text=True)
    api_volunteers = client.get("/api/v1/volunteers", headers=headers).status_code
    assert ('id="volunteers"' in html) == (api_volunteers == 200)
    assert client.get("/dasbor?unduh=relawan", headers=EN).status_code == (200 if api_volunteers == 200 else 404)
    mine = client.get("/dasbor/dinas", headers=EN)
    assert mine.status_code == 200
    own = mine.get_data(as_text=True)
    assert ('id="hygiene"' in own) == (kind == "health")
    assert ('id="candidates"' in own) == (kind == "social")
    assert ('id="schools"' in own) == (kind == "education")
    api_list = client.get(f"/api/v1/recipients/uncovered?village_id={day.a.village_id}", headers=headers).status_code
    village = client.get(f"/dasbor/desa/{day.a.village_id}", headers=EN).get_data(as_text=True)
    assert ('id="list"' in village) == (api_list == 200)
    # another agency's view: as one that does not exist
    other, _ = make_user("agency", "social")
    assert client.get(f"/dasbor/dinas?agency_id={other.agency_id}", headers=EN).status_code == 200  # its own still
    for page in PAGES:
        assert client.get(page, headers=EN).status_code == 200


@pytest.mark.parametrize("role", ["vendor", "volunteer"])
def test_stalls_and_volunteers_have_no_dashboard(client, make_user, role):
    user, _ = make_user(role)
    sign_in(client, user.email)
    for page in (*PAGES, "/dasbor/dinas", "/dasbor/desa/1", "/dasbor/warung/1"):
        assert client.get(page, headers=EN).status_code == 403, page


def test_signed_out_the_dashboard_asks_to_sign_in(client):
    response = client.get("/dasbor", headers=ID)
    assert response.status_code == 303 and "/masuk" in response.headers["Location"]


def test_the_program_office_chooses_an_agency_and_an_unknown_one_is_not_found(client, day, make_user, agencies):
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    health = client.get(f"/dasbor/dinas?agency_id={agencies.health.agency_id}", headers=EN)
    assert health.status_code == 200 and 'id="hygiene"' in health.get_data(as_text=True)
    assert client.get("/dasbor/dinas?agency_id=999999", headers=EN).status_code == 404
    assert client.get("/dasbor/dinas?agency_id=x", headers=EN).status_code == 422
    chooser = client.get("/dasbor/dinas", headers=EN).get_data(as_text=True)
    assert f'data-agency-id="{agencies.health.agency_id}"' in chooser


def test_the_monthly_report_checks_its_month(client, day, make_user):
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    this_month = clock.today().strftime("%Y-%m")
    report = client.get(f"/dasbor/laporan?bulan={this_month}", headers=EN)
    assert report.status_code == 200
    assert values(report.get_data(as_text=True))["delivered"] == "1"
    for bad in ("2026-13", "x", "1999-12", "9999-01", "2026-1-1"):
        assert client.get(f"/dasbor/laporan?bulan={bad}", headers=EN).status_code == 422, bad


def regional_user(code: str, role: str, kind: str | None = None, **fields):
    """A user of region ``code`` who signs in with the pages' form: (login, agency id)."""
    from service.accounts import service as accounts
    from service.db import bind
    from tests.test_regions import A, _serial

    bind(db.session, (code,))
    n = next(_serial)
    agency_id = accounts.create_agency(f"Dinas {code} {n}", f"D{n}", kind).id if role == "agency" else None
    user = accounts.create_user(email=f"d{n}@{code.replace('.', '-')}.example", password="password-1",
                                name=f"Staff {n}", role=role, agency_id=agency_id, **fields)
    db.session.commit()
    bind(db.session, (A,))
    return user.email, agency_id


def stall_in(code: str, village_id: int) -> int:
    from service.db import bind
    from service.vendors import service as vendor_service
    from tests.test_regions import A

    bind(db.session, (code,))
    stall = vendor_service.register_vendor(name="Warung Jember", owner_name="Bu Ani", address="Jl. Jawa 1",
                                           village_id=village_id, latitude=-8.17, longitude=113.72, daily_capacity=5)
    db.session.commit()
    bind(db.session, (A,))
    return stall.id


@pytest.mark.usefixtures("region_b")
def test_staff_of_one_region_see_another_regions_village_and_agency_as_missing(client, day):
    from tests.test_regions import A, B, village_of

    jember = village_of(B, "Sumbersari", -8.17, 113.72)
    _, jember_agency = regional_user(B, "agency", "health")
    jember_stall = stall_in(B, jember.id)
    for role, kind in (("coordinator", None), ("agency", "social"), ("agency", "health"), ("agency", "education"),
                       ("agency", "data")):
        login, _ = regional_user(A, role, kind)
        sign_in(client, login)
        missing = client.get("/dasbor/desa/99999999", headers=EN)
        theirs = client.get(f"/dasbor/desa/{jember.id}", headers=EN)
        assert theirs.status_code == missing.status_code == 404, role
        assert text_of(theirs.get_data(as_text=True)).replace(str(jember.id), "X") == \
            text_of(missing.get_data(as_text=True)).replace("99999999", "X")
        overview = client.get("/dasbor", headers=EN).get_data(as_text=True)
        assert f'data-area-id="{jember.id}"' not in overview and "Sumbersari" not in overview
        stall_missing = client.get("/dasbor/warung/99999999", headers=EN)
        stall_theirs = client.get(f"/dasbor/warung/{jember_stall}", headers=EN)
        assert stall_theirs.status_code == stall_missing.status_code == 404
        # the lists filtered by another region's village or stall: as by a missing one, empty
        for query in (f"village_id={jember.id}", f"vendor_id={jember_stall}"):
            theirs = client.get(f"/dasbor/makan?{query}", headers=EN).get_data(as_text=True)
            assert "data-delivery-id" not in theirs and "Sumbersari" not in theirs, query
        report = client.get("/dasbor/laporan", headers=EN).get_data(as_text=True)
        assert "Jember" not in report and "Sumbersari" not in report
        assert client.get(f"/dasbor?region={B}", headers=EN).status_code == 404
        if role == "coordinator":
            assert client.get(f"/dasbor/dinas?agency_id={jember_agency}", headers=EN).status_code == 404
        client.post("/keluar", data={"csrf_token": csrf_of(client.get("/dasbor", headers=EN).get_data(as_text=True))})


@pytest.mark.usefixtures("region_b")
def test_a_provincial_coordinator_sees_each_region_ranked_and_the_provinces_total(client, day, coordinator):
    from tests.test_regions import A, B, village_of

    village_of(B, "Sumbersari", -8.17, 113.72)
    login, _ = regional_user(A, "coordinator", regions=[A, B])
    sign_in(client, login)
    html = client.get("/dasbor", headers=EN).get_data(as_text=True)
    assert re.findall(r'<tr data-region="([0-9.]+)"', html) == [A, B]  # the best coverage first (Jember: none)
    a = client.get("/api/v1/coverage?live=true", headers=coordinator).json
    assert values(html)["eligible"] == str(a["eligible"])  # Jember has nobody eligible yet: the total is A's
    assert client.get("/dasbor?unduh=wilayah", headers=EN).mimetype == "text/csv"
    narrowed = client.get(f"/dasbor?region={B}", headers=EN).get_data(as_text=True)
    assert values(narrowed)["eligible"] == "0" and "Sumbersari" in narrowed
    # narrowed, every link of the dashboard keeps the region, the report's month form too, and
    # one link leads back to all the caller's regions
    links = set(re.findall(r'href="(/dasbor[^"]*)"', narrowed))
    assert links and all(f"region={B}" in link for link in links - {"/dasbor"}), links
    assert re.search(r'class="region-now" data-region="' + re.escape(B) + r'">.*<a href="/dasbor">', narrowed)
    report = client.get(f"/dasbor/laporan?region={B}", headers=EN).get_data(as_text=True)
    assert f'<input type="hidden" name="region" value="{B}">' in report
    assert f"/dasbor/laporan?region={B}" in report  # the nav
    whole = client.get("/dasbor", headers=EN).get_data(as_text=True)
    assert '<p class="region-now"' not in whole
    named = [link for link in re.findall(r'href="(/dasbor[^"]*)"', whole) if "region=" in link]
    assert sorted(named) == sorted(f"/dasbor?region={code}" for code in (A, B))  # the ranking's own links only


def test_a_stalls_missed_meals_are_the_apis_list(client, day, make_user, coordinator, monkeypatch):
    from tests.conftest import at_jakarta

    at_jakarta(monkeypatch, clock.today(), hour=22)
    assert client.post("/api/v1/deliveries/close", json={"date": clock.today().isoformat()},
                       headers=coordinator).status_code == 200
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    html = client.get(f"/dasbor/warung/{day.a.id}", headers=EN).get_data(as_text=True)
    listed = client.get("/api/v1/deliveries", query_string={"vendor_id": day.a.id, "status": "missed",
                                                             "per_page": 100}, headers=coordinator).json
    assert listed["total"] == 4  # six meals: one delivered, one failed
    assert sorted(int(i) for i in re.findall(r'data-delivery-id="(\d+)"', html)) == sorted(
        d["id"] for d in listed["items"])
    failed = client.get(f"/dasbor/warung/{day.a.id}?status=failed", headers=EN).get_data(as_text=True)
    assert len(re.findall(r'data-delivery-id="(\d+)"', failed)) == 1
    exported = client.get(f"/dasbor/warung/{day.a.id}?unduh=makan", headers=EN)
    assert exported.mimetype == "text/csv" and len(exported.get_data(as_text=True).splitlines()) == 5
    assert client.get(f"/dasbor/warung/{day.a.id}?status=delivered", headers=EN).status_code == 404
    assert client.get("/dasbor/warung/999999", headers=EN).status_code == 404
    overview = client.get("/dasbor", headers=EN).get_data(as_text=True)
    assert f'href="/dasbor/warung/{day.a.id}" data-vendor-id="{day.a.id}"' in overview  # on the map


ODD = ("", "0", "-1", "1e9", "9999999999", "99999999999999999999999", "x", "%00", "\u0000", "'; --", "<script>",
       "2026-02", "２０２６-１１", "ab" * 300, "[]", "{}", "null", "35.09", "../../etc/passwd")


def test_no_odd_query_value_gives_a_500(client, day, make_user):
    """Every parameter the dashboard reads, given what a fuzzer would: a page or a clear 4xx."""
    from urllib.parse import quote

    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    for value in ODD:
        q = quote(value, safe="")
        for path in (f"/dasbor?unduh={q}", f"/dasbor?region={q}", f"/dasbor/laporan?bulan={q}",
                     f"/dasbor/laporan?unduh={q}", f"/dasbor/dinas?agency_id={q}",
                     f"/dasbor/warung/{day.a.id}?status={q}", f"/dasbor/desa/{day.a.village_id}?unduh={q}",
                     f"/dasbor/makan?date={q}", f"/dasbor/makan?status={q}", f"/dasbor/makan?village_id={q}",
                     f"/dasbor/makan?vendor_id={q}&unduh=makan"):
            response = client.get(path, headers=EN)
            assert response.status_code < 500, (path, response.status_code)
            assert response.status_code in (200, 303, 400, 404, 422), (path, response.status_code)


def test_the_map_works_without_tiles_and_draws_a_tile_servers_when_one_is_set(app, client, day, make_user,
                                                                               monkeypatch):
    from blueprints.pages.dasbor import MAP_HEIGHT, MAP_WIDTH, Projection, world_pixel

    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    plain = client.get("/dasbor", headers=EN)
    assert "<image" not in plain.get_data(as_text=True)
    assert "img-src 'self' data: blob:;" in plain.headers["Content-Security-Policy"]
    points = [(float(x), float(y)) for x, y in re.findall(r'<circle class="village [^"]*" cx="([\d.-]+)" '
                                                          r'cy="([\d.-]+)"', plain.get_data(as_text=True))]
    assert points and all(0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT for x, y in points)

    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://peta.example.go.id/tiles/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "© OpenStreetMap")
    tiled = client.get("/dasbor", headers=EN)
    html = tiled.get_data(as_text=True)
    tiles = re.findall(r'<image href="https://peta.example.go.id/tiles/(\d+)/(\d+)/(\d+).png" x="([\d.-]+)" '
                       r'y="([\d.-]+)"', html)
    assert tiles and "© OpenStreetMap" in html
    assert "img-src 'self' https://peta.example.go.id data:" in tiled.headers["Content-Security-Policy"]
    # each tile lies where Web Mercator puts it: a village's point falls on the tile that holds it
    projection = Projection([(-8.3538, 114.1668), (-8.4367, 114.3226)])
    x, y = projection(-8.3538, 114.1668)
    wx, wy = world_pixel(-8.3538, 114.1668, projection.zoom)
    fit = projection.fit
    assert (x, y) == (round((wx - projection.left) * fit, 1), round((wy - projection.top) * fit, 1))
    assert 0 < projection.zoom <= 17 and 1 <= projection.fit <= 2
    # a tile's corner is where the same world pixel lands: tiles lie under the points
    [tile, *_] = projection.tiles("https://t/{z}/{x}/{y}.png")
    z, tx, ty = (int(n) for n in tile["url"].removeprefix("https://t/").removesuffix(".png").split("/"))
    assert z == projection.zoom
    assert tile["x"] == round((tx * 256 - projection.left) * projection.fit, 1)
    assert tile["size"] == round(256 * projection.fit, 1)


def test_every_table_on_every_page_has_its_csv(client, day, make_user, agencies, make_recipient):
    """Each table (and the trend's chart) a dashboard page shows has an export link, and each link
    gives CSV."""
    from html import unescape

    make_recipient("candidate")
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    pages = ["/dasbor", f"/dasbor/desa/{day.a.village_id}", f"/dasbor/warung/{day.a.id}", "/dasbor/laporan",
             "/dasbor/makan?status=failed",
             *(f"/dasbor/dinas?agency_id={getattr(agencies, kind).agency_id}"
               for kind in ("social", "health", "education", "data"))]
    for page in pages:
        html = client.get(page, headers=EN).get_data(as_text=True)
        links = [unescape(href) for href in re.findall(r'class="export" href="([^"]+)"', html)]
        shown = html.count("<table") + html.count('<figure class="chart"') + html.count('id="hygiene"')
        assert len(links) == shown, page  # the trend and the stalls by hygiene too
        for link in links:
            exported = client.get(link, headers=EN)
            assert exported.status_code == 200 and exported.mimetype == "text/csv", link
            assert exported.get_data(as_text=True).count("\n") >= 1, link



def test_a_tile_url_with_a_user_or_many_hosts_draws_no_tiles_and_leaves_the_policy_alone(app, client, day,
                                                                                          make_user, monkeypatch):
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    for url in ("https://user:secret@tiles.example/{z}/{x}/{y}.png", "https://{s}.tile.example/{z}/{x}/{y}.png",
                "https://tiles.example;script-src *;/{z}/{x}/{y}.png", "ftp://tiles.example/{z}/{x}/{y}.png",
                "https://tiles.example:99999/{z}/{x}/{y}.png"):
        monkeypatch.setitem(app.config, "MAP_TILE_URL", url)
        response = client.get("/dasbor", headers=EN)
        assert response.status_code == 200, url
        assert "<image" not in response.get_data(as_text=True), url
        assert "img-src 'self' data: blob:;" in response.headers["Content-Security-Policy"], url
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png")
    assert "img-src 'self' http://10.0.0.5:8080 data:" in client.get("/dasbor").headers["Content-Security-Policy"]


@pytest.mark.usefixtures("region_b")
def test_a_closed_days_kept_figures_are_read_only_when_every_region_reached_kept_them(client, day, coordinator,
                                                                                       monkeypatch):
    from service.db import bind
    from service.deliveries import coverage
    from tests.conftest import at_jakarta
    from tests.test_regions import A, B

    at_jakarta(monkeypatch, clock.today(), hour=22)
    assert client.post("/api/v1/deliveries/close", json={"date": clock.today().isoformat()},
                       headers=coordinator).status_code == 200
    bind(db.session, (A,))
    kept = coverage.stored_day_figures(clock.today())
    assert (kept.enrolled, kept.eligible) == (3, 3)
    bind(db.session, (A, B))  # Jember never scheduled that day: counted live, not A's alone
    assert coverage.stored_day_figures(clock.today()) is None
    bind(db.session, None)
    assert coverage.stored_day_figures(clock.today()) is None
    bind(db.session, (A,))


def test_the_program_office_reads_one_schools_visits_on_its_view(client, day, make_user, agencies, coordinator):
    from tests.test_tasks import open_task, visit_for

    other, _ = make_user("agency", "education")
    person = {"id": day.ids[0]}
    assert visit_for(client, coordinator, agencies, person)["id"]
    assert open_task(client, coordinator, type="school_visit", recipient_id=day.ids[1],
                     agency_id=other.agency_id)["id"]
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    everyone = figures_of_schools()
    assert {agencies.education.agency_id, other.agency_id} <= everyone
    html = client.get(f"/dasbor/dinas?agency_id={agencies.education.agency_id}", headers=EN).get_data(as_text=True)
    assert 'id="schools"' in html
    assert f'data-agency-id="{other.agency_id}"' not in html
    assert f'data-agency-id="{agencies.education.agency_id}"' in html


def figures_of_schools() -> set[int]:
    from service.dashboard import figures

    return {school.agency_id for school in figures.visits_due_by_school()}


def test_a_meal_count_leads_to_the_meals_behind_it_as_the_api_lists_them(client, day, make_user, coordinator):
    from html import unescape

    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    overview = client.get("/dasbor", headers=EN).get_data(as_text=True)
    link = unescape(re.search(r'<a href="([^"]+)"><b data-indicator="failed"', overview).group(1))
    page = client.get(link, headers=EN).get_data(as_text=True)
    listed = client.get("/api/v1/deliveries", query_string={"date": clock.today().isoformat(), "status": "failed"},
                        headers=coordinator).json["items"]
    assert [int(i) for i in re.findall(r'data-delivery-id="(\d+)"', page)] == [d["id"] for d in listed]
    assert len(listed) == 1
    pending = client.get("/dasbor/makan", query_string={"date": clock.today().isoformat(), "status": "scheduled",
                                                        "village_id": day.a.village_id}, headers=EN)
    assert len(re.findall(r'data-delivery-id=', pending.get_data(as_text=True))) == 4
    assert client.get("/dasbor/makan?unduh=makan&status=failed", headers=EN).mimetype == "text/csv"
    for bad in ("date=2026-13-01", "status=eaten", "village_id=x", "vendor_id=99999999999"):
        assert client.get(f"/dasbor/makan?{bad}", headers=EN).status_code == 422, bad


def test_over_the_maps_limit_of_stalls_it_draws_those_to_act_on_and_counts_the_rest(client, day, make_user,
                                                                                     make_vendor, monkeypatch):
    """A province's 20,000 stalls are not drawn one by one: past the limit, the stalls whose
    hygiene needs acting on are, worst first, and the certified ones are counted in the legend."""
    from blueprints.pages import dasbor

    failed, lapsed = make_vendor("Kembiritan", hygiene="failed"), make_vendor("Kaliasin", hygiene="expired")
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    marks = r'data-vendor-id="(\d+)" aria-label="[^"]*"><rect class="stall h-([a-z]+)"'
    everyone = dict(re.findall(marks, client.get("/dasbor", headers=EN).get_data(as_text=True)))
    assert everyone == {str(day.a.id): "valid", str(day.b.id): "valid", str(failed.id): "failed",
                        str(lapsed.id): "expired"}
    monkeypatch.setattr(dasbor, "MAX_STALL_MARKS", 3)
    html = client.get("/dasbor", headers=EN).get_data(as_text=True)
    assert dict(re.findall(marks, html)) == {str(failed.id): "failed", str(lapsed.id): "expired"}
    assert 'id="stalls-left-out" data-value="2"' in html and "2 stalls are not drawn" in html
    monkeypatch.setattr(dasbor, "MAX_STALL_MARKS", 1)  # fewer marks than stalls to act on: the worst
    html = client.get("/dasbor", headers=EN).get_data(as_text=True)
    assert dict(re.findall(marks, html)) == {str(failed.id): "failed"}
    assert 'id="stalls-left-out" data-value="3"' in html


def test_an_agencys_tasks_read_as_the_api_titles_them_and_targets_as_percentages(client, day, make_user, agencies,
                                                                                coordinator):
    """A task the service titled (a school visit: a code with the person's name) reads as
    ``GET /tasks`` says it, in Indonesian, not as its type's code; a target's value is a
    percentage on every page, as on the overview."""
    from tests.test_targets import draft
    from tests.test_tasks import visit_for

    visit = visit_for(client, coordinator, agencies, day.people[0])
    draft(client, coordinator, owner_agency_id=agencies.education.agency_id,
          signatory_agency_ids=[agencies.education.agency_id])
    said = client.get(f"/api/v1/tasks/{visit['id']}", headers={**coordinator, **ID}).json["title"]
    assert said and said != "school_visit"
    user, _ = make_user("coordinator")
    sign_in(client, user.email)
    page = client.get(f"/dasbor/dinas?agency_id={agencies.education.agency_id}", headers=ID).get_data(as_text=True)
    assert re.search(rf'data-task-id="{visit["id"]}"[^>]*><th scope="row">{re.escape(str(escape(said)))}</th>', page)
    rows = list(csv.reader(io.StringIO(client.get(
        f"/dasbor/dinas?agency_id={agencies.education.agency_id}&unduh=tugas", headers=ID).get_data(as_text=True))))
    assert [r[2] for r in rows if r[0] == str(visit["id"])] == [said]
    for path in ("/dasbor", "/dasbor/laporan", f"/dasbor/dinas?agency_id={agencies.education.agency_id}"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        cells = re.findall(r'<td data-value="[^"]*">([^<]*)</td><td>([^<]*)</td>', html)
        if "dinas" in path:
            assert ("–", "90.0%") in [(a.strip(), b.strip()) for a, b in cells], cells  # was "0.9"
        assert all(re.fullmatch(r"(–|[\d.]+%|\d+)", c.strip()) for cell in cells for c in cell), (path, cells)
