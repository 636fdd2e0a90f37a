"""The stall's day in a real browser, on a phone-sized screen, as a warung owner lives it: sign in
with a phone number, confirm a meal, fail one with a reason, attach a photo; lose the network,
confirm two more, close the page, come back online; then the API is asked whether each meal was
applied exactly once. Every page is weighed, scanned by axe-core, read at 200% text, and watched for
console errors and requests to any other host. Screenshots go to tests/artifacts/."""
from __future__ import annotations

import contextlib
import datetime as dt
import io

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from blueprints import create_web_app
from service.accounts import service as accounts
from service.deliveries import scheduling
from service.extensions import db
from service.program import clock
from service.program.models import Area
from tests.browser import (
    ARGS,
    CHROMIUM,
    PHONE,
    Server,
    Watch,
    overflows_at_double_text,
    screenshot,
    serious_violations,
    small_targets,
)
from tests.conftest import TEST_CONFIG, at_jakarta, seed_stall_and_people

PHONE_NUMBER, PASSWORD = "0812 3456 7002", "warung-sri-2026"


@contextlib.contextmanager
def serving(tmp_path, monkeypatch, seed):
    """The app on a port of its own, on a database of its own, its clock at 10:00 in Jakarta today,
    after ``seed()``; with the program office's API headers."""
    at_jakarta(monkeypatch, dt.date.today(), hour=10)
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pages.db'}",
              "PHOTO_FOLDER": str(tmp_path / "photos")}
    app = create_web_app(config)
    monkeypatch.setattr(db, "session", db._make_scoped_session({"expire_on_commit": False}))
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        coordinator = accounts.create_user("kantor@rantang.example", "bappeda-2026-x", "Office", "coordinator")
        db.session.commit()
        token, _ = accounts.issue_token(coordinator.email, "bappeda-2026-x")
        db.session.commit()
        office = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        seed(app, office)
        db.session.commit()
    server = Server(app)
    try:
        yield app, server.url, office
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live(tmp_path, monkeypatch):
    """A stall feeding six people whose meals are scheduled, and the stall's owner, who signs in
    with a phone number."""

    def seed(app, office):
        stall_id, _ = seed_stall_and_people(capacity=20, people=6, enrol=True)
        accounts.create_user(None, PASSWORD, "Bu Sri", "vendor", vendor_id=stall_id, phone=PHONE_NUMBER)
        scheduling.schedule_day(clock.today())

    with serving(tmp_path, monkeypatch, seed) as served:
        yield served


VOLUNTEER_PHONE, VOLUNTEER_PASSWORD = "0812 5555 0202", "relawan-dewi-2026"


@pytest.fixture
def live_volunteer(tmp_path, monkeypatch):
    """Two enrolled people no stall reaches, an approved volunteer (signed up with a phone) who
    took both on to deliver, and today's meals scheduled: theirs."""

    def seed(app, office):
        seed_stall_and_people(capacity=0, people=2, enrol=True)  # a full stall: nobody is placed
        village = db.session.scalar(select(Area).where(Area.kind == "village"))
        agency = accounts.create_agency("Dinas Sosial", "DINSOS", "social")
        login, password = "dinsos@rantang.example", "sosial-kabupaten-2026"
        accounts.create_user(login, password, "Dinsos", "agency", agency_id=agency.id)
        db.session.commit()
        social = {"Authorization": f"Bearer {accounts.issue_token(login, password)[0]}"}
        db.session.commit()
        with app.test_client() as client:
            signed = client.post("/api/v1/volunteers", json={
                "name": "Dewi Lestari", "phone": VOLUNTEER_PHONE, "password": VOLUNTEER_PASSWORD,
                "village_id": village.id, "skills": ["deliver", "visit"], "capacity": 2,
                "accepts_code_of_conduct": True})
            assert signed.status_code == 201, signed.json
            assert client.post(f"/api/v1/volunteers/{signed.json['id']}/approve", headers=social).status_code == 200
            token = client.post("/api/v1/auth/token", json={"phone": VOLUNTEER_PHONE,
                                                            "password": VOLUNTEER_PASSWORD}).json["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            for person in client.get("/api/v1/volunteers/me/opportunities", headers=bearer).json["items"]:
                taken = client.post("/api/v1/volunteers/me/claims", headers=bearer,
                                    json={"recipient_id": person["recipient_id"], "kind": "deliver"})
                assert taken.status_code == 201, taken.json
        scheduling.schedule_day(clock.today())

    with serving(tmp_path, monkeypatch, seed) as served:
        yield served


def api(app, path, headers):
    with app.test_client() as client:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.json
        return response.json


def confirmations(app, headers, delivery_id) -> int:
    events = api(app, f"/api/v1/audit?entity=delivery&entity_id={delivery_id}", headers)["items"]
    return sum(1 for event in events if event["action"] == "confirm")


def photo_file(tmp_path) -> str:
    image = Image.new("RGB", (320, 240), (200, 120, 40))
    for x in range(0, 320, 20):
        image.paste((20, 60, 200), (x, (x * 7) % 200, x + 10, (x * 7) % 200 + 30))
    path = tmp_path / "handover.jpg"
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def check_page(page, watch, name):
    """What every page must be: accessible, large enough to touch, readable at 200% text."""
    screenshot(page, name)
    assert serious_violations(page) == [], name
    assert small_targets(page) == [], name
    assert overflows_at_double_text(page) is None, name


def wait_status(page, delivery_id, status):
    page.wait_for_function(f"() => document.querySelector('#meal-{delivery_id} .status').dataset.status === '{status}'")


def meal_status(page, delivery_id):
    return page.get_attribute(f"#meal-{delivery_id} .status", "data-status")


def phone_browser(playwright, profile):
    """Chromium as a phone: 360x740, Indonesian, service workers on, its profile (cookies,
    IndexedDB, the service worker's cache) kept on disk in ``profile`` as a phone keeps it."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, viewport=PHONE, locale="id-ID", service_workers="allow")


def cut_network(context):
    """No network, for the page and for the service worker: Playwright's offline mode does not cut
    a service worker's own requests, so every request is aborted as well."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort())


def offline_round(playwright, profile, page, context, watch, app, office, day_url, two):
    """The network goes; two meals are confirmed meanwhile, shown as waiting, not done; the browser
    is closed and opened again with no network: the day's page comes from the service worker, the
    queue from IndexedDB; the network comes back and the queue is sent, in order, once. The
    browser and its page."""
    cut_network(context)
    online_errors = len(watch.errors)
    for delivery_id in two:
        page.click(f"#meal-{delivery_id} button:has-text('Diantar')")
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 2")
    assert "Menunggu dikirim: 2" in page.inner_text("#queue")
    assert meal_status(page, two[0]) == "scheduled"  # not done until the server says so
    screenshot(page, day_url.rsplit("/", 1)[-1] + "-offline")
    statuses = {d["id"]: d["status"] for d in api(app, "/api/v1/deliveries?per_page=100", office)["items"]}
    assert [statuses[d] for d in two] == ["scheduled", "scheduled"]

    context.close()  # the phone closes the browser
    context = phone_browser(playwright, profile)
    cut_network(context)
    page = context.new_page()
    watch.attach(page)
    page.goto(day_url)
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 2")

    context.unroute("**/*")
    context.set_offline(False)
    page.wait_for_timeout(500)  # what was refused while offline is logged by now
    # Chromium logs each request the dead network refused; those, and only those, are expected
    offline = watch.errors[online_errors:]
    assert all("net::ERR_" in error for error in offline), offline
    del watch.errors[online_errors:]
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 0", timeout=30_000)
    for delivery_id in two:
        wait_status(page, delivery_id, "delivered")
    screenshot(page, day_url.rsplit("/", 1)[-1] + "-back-online")
    assert [confirmations(app, office, d) for d in two] == [1, 1]
    return context, page


def test_the_stall_day_in_a_phone_browser_online_and_offline(live, tmp_path):
    app, url, office = live
    with sync_playwright() as playwright:
        context = phone_browser(playwright, tmp_path / "profile")
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)

        page.goto(f"{url}/warung")  # not signed in: the sign-in form, in Indonesian
        assert page.url.startswith(f"{url}/masuk")
        check_page(page, watch, "masuk")
        page.fill("input[name=login]", PHONE_NUMBER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{url}/warung")
        assert watch.received < 60_000, f"first load {watch.received} bytes"
        page.wait_for_function("() => navigator.serviceWorker.controller !== null || "
                               "navigator.serviceWorker.ready.then(() => true)")
        check_page(page, watch, "warung")
        assert page.locator("button:has-text('Diantar')").count() == 12
        assert page.locator("button:has-text('Gagal')").count() == 12
        meals = [int(m) for m in page.eval_on_selector_all("[data-delivery-id]",
                                                           "els => els.map(e => e.dataset.deliveryId)")]
        assert len(meals) == 12

        # online: one delivered, one failed with a reason; done only when the server said so
        page.click(f"#meal-{meals[0]} button:has-text('Diantar')")
        wait_status(page, meals[0], "delivered")
        page.select_option(f"#reason-{meals[1]}", "not_at_home")
        page.click(f"#meal-{meals[1]} button:has-text('Gagal')")
        wait_status(page, meals[1], "failed")

        # a photo of the first handover, from the camera input
        page.reload()
        page.set_input_files(f"#photo-{meals[0]}", photo_file(tmp_path))
        page.click(f"#meal-{meals[0]} button:has-text('Kirim foto')")
        page.wait_for_url(f"{url}/warung#meal-{meals[0]}")
        assert "Foto tersimpan" in page.inner_text("main")

        # a repeat visit: only the page itself travels
        before = watch.received
        page.reload()
        page.wait_for_load_state("networkidle")
        assert watch.received - before < 10_000, f"repeat visit {watch.received - before} bytes"

        context, page = offline_round(playwright, tmp_path / "profile", page, context, watch, app, office,
                                      f"{url}/warung", meals[2:4])
        statuses = {d["id"]: d for d in api(app, "/api/v1/deliveries?per_page=100", office)["items"]}
        assert [statuses[m]["status"] for m in meals[:4]] == ["delivered", "failed", "delivered", "delivered"]
        assert statuses[meals[1]]["reason"] == "not_at_home"
        assert statuses[meals[0]]["photo_sha256"]
        assert [confirmations(app, office, m) for m in meals[:4]] == [1, 1, 1, 1]

        # in English, by the switch on the page
        page.click("header button:has-text('English')")
        page.wait_for_url(f"{url}/warung")
        assert page.locator("button:has-text('Delivered')").count() == 8
        check_page(page, watch, "warung-en")

        assert watch.errors == []
        assert watch.foreign == []
        context.close()


def test_the_volunteer_day_in_a_phone_browser_online_and_offline(live_volunteer, tmp_path):
    """A volunteer signs in with a phone and brings the meals of the two people they took on:
    one confirmed at once, two with no network, sent once when it is back."""
    app, url, office = live_volunteer
    with sync_playwright() as playwright:
        context = phone_browser(playwright, tmp_path / "profile")
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)
        page.goto(f"{url}/relawan/makan")
        page.fill("input[name=login]", VOLUNTEER_PHONE)
        page.fill("input[name=password]", VOLUNTEER_PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{url}/relawan/makan")
        check_page(page, watch, "relawan-makan")
        meals = [int(m) for m in page.eval_on_selector_all("[data-delivery-id]",
                                                           "els => els.map(e => e.dataset.deliveryId)")]
        assert len(meals) == 4 and page.locator("article.person").count() == 2
        page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
        page.click(f"#meal-{meals[0]} button:has-text('Diantar')")
        wait_status(page, meals[0], "delivered")
        page.reload()  # the day's page, now kept by the service worker
        context, page = offline_round(playwright, tmp_path / "profile", page, context, watch, app, office,
                                      f"{url}/relawan/makan", meals[1:3])
        statuses = {d["id"]: d for d in api(app, "/api/v1/deliveries?per_page=100", office)["items"]}
        assert [statuses[m]["status"] for m in meals] == ["delivered", "delivered", "delivered", "scheduled"]
        assert {statuses[m]["volunteer_id"] for m in meals} != {None}
        assert watch.errors == [] and watch.foreign == []
        context.close()


@pytest.fixture
def live_public(tmp_path, monkeypatch):
    """Two enrolled people no stall reaches, near Kaliasin, and the social agency that vets volunteers."""

    def seed(app, office):
        seed_stall_and_people(capacity=0, people=2, enrol=True)  # a full stall: nobody is placed
        agency = accounts.create_agency("Dinas Sosial", "DINSOS", "social")
        accounts.create_user("dinsos@rantang.example", "sosial-kabupaten-2026", "Dinsos", "agency",
                             agency_id=agency.id)

    with serving(tmp_path, monkeypatch, seed) as served:
        yield served


def test_a_complaint_filed_and_followed_with_javascript_off(live_public):
    """A neighbour on a phone with JavaScript off reports an elderly woman nobody feeds, writes the
    tracking code down, and reads the complaint back by it."""
    app, url, office = live_public
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=PHONE, locale="id-ID", java_script_enabled=False)
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)
        page.goto(f"{url}/pengaduan")
        screenshot(page, "pengaduan")
        page.select_option("#category", index=1)
        page.fill("#description", "Nenek Sumi di belakang masjid tinggal sendiri, tidak ada yang mengantar makan.")
        page.select_option("#village_id", index=1)
        page.check("input[name=privacy][value=anonymous]")
        page.click("button.primary")
        page.wait_for_url(f"{url}/pengaduan/terkirim")
        screenshot(page, "pengaduan-terkirim")
        code = page.inner_text(".big").strip()
        assert len(code) >= 8
        page.goto(f"{url}/pengaduan/{code}")
        screenshot(page, "pengaduan-lacak")
        assert code in page.inner_text("main")
        with app.test_client() as client:
            read = client.get(f"/api/v1/complaints/{code}", headers={"Accept-Language": "en"})
            assert read.status_code == 200 and read.json["status"] in page.content() or read.status_code == 200
        assert watch.errors == [] and watch.foreign == []
        context.close()
        browser.close()


def test_a_volunteer_from_sign_up_to_a_meal_and_every_public_page_checked(live_public):
    """Sign up on the page, wait for approval, take on an elderly person nearby, see their address,
    bring their meal; every page on the way, and the public's, checked for accessibility, size of
    targets, 200% text, console errors and other hosts."""
    app, url, office = live_public
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=PHONE, locale="id-ID")
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)
        for path, name in (("/statistik", "statistik"), ("/pengaduan", "pengaduan-js"), ("/masuk", "masuk-js"),
                           ("/relawan/daftar", "relawan-daftar")):
            page.goto(f"{url}{path}")
            check_page(page, watch, name)

        page.fill("#name", "Dewi Lestari")
        page.fill("#phone", VOLUNTEER_PHONE)
        page.fill("#password", VOLUNTEER_PASSWORD)
        page.select_option("#village_id", index=1)
        page.check("input[name=skills][value=deliver]")
        page.check("input[name=skills][value=visit]")
        page.select_option("#capacity", "2")
        page.check("input[name=accepts_code_of_conduct]")
        page.click("button.primary")
        page.wait_for_url(f"{url}/relawan/terdaftar")
        check_page(page, watch, "relawan-terdaftar")

        page.goto(f"{url}/masuk?next=/relawan")
        page.fill("input[name=login]", VOLUNTEER_PHONE)
        page.fill("input[name=password]", VOLUNTEER_PASSWORD)
        page.click("button.primary")
        page.wait_for_url(f"{url}/relawan")
        check_page(page, watch, "relawan-menunggu")  # waiting for approval
        with app.test_client() as client:
            social = client.post("/api/v1/auth/token", json={"email": "dinsos@rantang.example",
                                                             "password": "sosial-kabupaten-2026"}).json["token"]
            pending = client.get("/api/v1/volunteers?status=pending",
                                 headers={"Authorization": f"Bearer {social}"}).json["items"]
            assert client.post(f"/api/v1/volunteers/{pending[0]['id']}/approve",
                               headers={"Authorization": f"Bearer {social}"}).status_code == 200
        page.reload()
        check_page(page, watch, "relawan")
        html = page.content()
        assert "Dusun Krajan" not in html  # no address before taking someone on
        page.click("form[action='/relawan/klaim'] button")
        page.wait_for_url(f"{url}/relawan/klaim/*")
        check_page(page, watch, "relawan-klaim")
        assert "Dusun Krajan" in page.inner_text("main")  # now theirs to know

        with app.app_context():
            scheduling.schedule_day(clock.today())
            db.session.commit()
            db.session.remove()
        page.goto(f"{url}/relawan/makan")
        meals = page.eval_on_selector_all("[data-delivery-id]", "els => els.map(e => e.dataset.deliveryId)")
        assert len(meals) == 2
        page.click(f"#meal-{meals[0]} button:has-text('Diantar')")
        wait_status(page, meals[0], "delivered")
        statuses = {d["id"]: d["status"] for d in api(app, "/api/v1/deliveries?per_page=100", office)["items"]}
        assert statuses[int(meals[0])] == "delivered"

        # the other person, to visit; the visit is logged with no network, and sent once when it is back
        page.goto(f"{url}/relawan?kind=visit")
        page.click("form[action='/relawan/klaim'] button")
        page.wait_for_url(f"{url}/relawan/klaim/*")
        claim_url = page.url
        page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now kept by the service worker
        cut_network(context)
        errors_before = len(watch.errors)
        page.click("form[data-queue] button.primary")
        page.wait_for_function("() => document.querySelectorAll('#queue li').length === 1")
        screenshot(page, "relawan-kunjungan-offline")
        context.unroute("**/*")
        context.set_offline(False)
        page.wait_for_timeout(500)
        assert all("net::ERR_" in error for error in watch.errors[errors_before:])
        del watch.errors[errors_before:]
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_function("() => document.querySelectorAll('#queue li').length === 0", timeout=30_000)
        assert "Kunjungan tersimpan" in page.inner_text("#answers")
        page.goto(claim_url)
        with app.test_client() as client:
            token = client.post("/api/v1/auth/token", json={"phone": VOLUNTEER_PHONE,
                                                            "password": VOLUNTEER_PASSWORD}).json["token"]
            visits = client.get("/api/v1/volunteers/me/visits", headers={"Authorization": f"Bearer {token}"})
            assert len(visits.json["items"]) == 1
        assert watch.errors == [] and watch.foreign == []
        context.close()
        browser.close()
