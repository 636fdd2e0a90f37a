"""The dashboard in a real browser (Debian's Chromium through Playwright) on a kabupaten office's
laptop screen, 1366x768: the coordinator signs in, reads today's figures and checks them against
the API, clicks a village on the map and follows it to its list, exports a CSV, opens the monthly
report and switches language; each agency signs in and reads its own view. Every page: no console
error, no request to any other host, accessible (axe-core), and the first load weighed.
Screenshots go to tests/artifacts/."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.deliveries import scheduling
from service.deliveries import service as deliveries
from service.deliveries.models import Delivery
from service.extensions import db
from service.program import clock
from tests.browser import ARGS, CHROMIUM, Watch, screenshot, serious_violations
from tests.conftest import seed_stall_and_people
from tests.test_pages_browser import api, serving

LAPTOP = {"width": 1366, "height": 768}
FIRST_LOAD_BUDGET = 300_000  # bytes, as sent (compressed)
AGENCY_PASSWORD = "dinas-kabupaten-2026"
KINDS = ("social", "health", "education", "data")


@pytest.fixture
def live_office(tmp_path, monkeypatch):
    """A stall feeding six people whose meals are scheduled today, four delivered and one failed;
    one user for each kind of agency; a target the social agency signed."""

    def seed(app, office):
        seed_stall_and_people(capacity=10, people=6, enrol=True)
        scheduling.schedule_day(clock.today())
        meals = db.session.scalars(select(Delivery).where(Delivery.date == clock.today()).order_by(Delivery.id)).all()
        stall_scope = Scope.system("test")
        for meal in meals[:4]:
            deliveries.confirm(meal.id, "delivered", scope=stall_scope)
        deliveries.confirm(meals[4].id, "failed", reason="not_at_home", scope=stall_scope)
        for kind in KINDS:
            agency = accounts.create_agency(f"Dinas {kind}", kind.upper()[:6], kind)
            accounts.create_user(f"{kind}@rantang.example", AGENCY_PASSWORD, f"Staf {kind}", "agency",
                                 agency_id=agency.id)
        db.session.commit()
        social = next(a for a in accounts.list_agencies(1, 10).items if a.kind == "social")
        with app.test_client() as client:
            target = client.post("/api/v1/targets", headers=office, json={
                "title": "Cakupan 95%", "indicator": "coverage_rate", "threshold": 0.95,
                "due_date": (clock.today() + dt.timedelta(days=60)).isoformat(), "owner_agency_id": social.id,
                "signatory_agency_ids": [social.id]})
            assert target.status_code == 201, target.json
            token = client.post("/api/v1/auth/token", json={"email": "social@rantang.example",
                                                            "password": AGENCY_PASSWORD}).json["token"]
            assert client.post(f"/api/v1/targets/{target.json['id']}/sign",
                               headers={"Authorization": f"Bearer {token}"}).status_code == 200

    with serving(tmp_path, monkeypatch, seed) as served:
        yield served


def sign_in(page, url, login, password):
    page.goto(f"{url}/masuk")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_url(f"{url}/dasbor")


def shown(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#today [data-indicator], #rates [data-indicator]",
        "els => Object.fromEntries(els.map(e => [e.dataset.indicator, e.dataset.value]))")


def test_the_coordinator_reads_the_dashboard_in_a_browser(live_office):
    app, url, office = live_office
    coverage = api(app, "/api/v1/coverage", office)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=LAPTOP, locale="id-ID", accept_downloads=True)
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)
        sign_in(page, url, "kantor@rantang.example", "bappeda-2026-x")
        first_load = watch.received
        screenshot(page, "dasbor")
        assert first_load < FIRST_LOAD_BUDGET, first_load
        assert "Hari ini" in page.inner_text("h1")
        figures = shown(page)
        for name in ("eligible", "covered", "uncovered", "delivered", "pending", "failed", "missed", "coverage_rate",
                     "delivery_rate"):
            assert figures[name] == ("null" if coverage[name] is None else str(coverage[name])), name
        assert (figures["eligible"], figures["delivered"], figures["failed"]) == ("6", "4", "1")
        assert page.get_attribute("#targets tbody tr td[data-status]", "data-status") in (
            "on_track", "at_risk", "achieved")
        assert serious_violations(page) == []

        # the map: a village, clicked, shows its counts and leads to its list
        village = page.get_attribute("#map [data-area-id]", "data-area-id")
        # (off its centre: a stall drawn above a village takes the clicks on its own small square)
        page.click(f"#map [data-area-id='{village}'] circle", position={"x": 3, "y": 3})
        page.wait_for_url(f"{url}/dasbor/desa/{village}")
        screenshot(page, "dasbor-desa")
        assert page.get_attribute("h1", "data-area-id") == village
        assert page.get_attribute("#village-counts [data-indicator=eligible]", "data-value") == "6"
        assert serious_violations(page) == []

        # a CSV from the overview's table of the uncovered by village
        page.goto(f"{url}/dasbor")
        with page.expect_download() as download:
            page.click("a.export[href*='unduh=tren']")
        assert download.value.suggested_filename.endswith(".csv")
        with open(download.value.path(), encoding="utf-8") as exported:
            lines = exported.read().splitlines()
        assert len(lines) == 31

        # the month's report, and the language switched to English
        page.click("nav.tabs a[href='/dasbor/laporan']")
        page.wait_for_url(f"{url}/dasbor/laporan")
        page.emulate_media(media="print")
        screenshot(page, "dasbor-laporan-cetak")
        page.emulate_media(media="screen")
        page.goto(f"{url}/dasbor")
        page.click("button[name=language][value=en]")
        page.wait_for_url(f"{url}/dasbor")
        assert "Today" in page.inner_text("h1")
        screenshot(page, "dasbor-en")
        assert watch.errors == [] and watch.foreign == []
        context.close()
        browser.close()


@pytest.mark.parametrize("kind", KINDS)
def test_each_agency_reads_its_own_view_in_a_browser(live_office, kind):
    app, url, office = live_office
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=LAPTOP, locale="id-ID")
        page = context.new_page()
        watch = Watch(url)
        watch.attach(page)
        sign_in(page, url, f"{kind}@rantang.example", AGENCY_PASSWORD)
        assert shown(page)["eligible"] == "6"
        assert (page.query_selector("#volunteers") is not None) == (kind == "social")
        page.click("nav.tabs a[href='/dasbor/dinas']")
        page.wait_for_url(f"{url}/dasbor/dinas")
        screenshot(page, f"dasbor-dinas-{kind}")
        assert (page.query_selector("#hygiene") is not None) == (kind == "health")
        assert (page.query_selector("#candidates") is not None) == (kind == "social")
        assert (page.query_selector("#schools") is not None) == (kind == "education")
        assert serious_violations(page) == []
        assert watch.errors == [] and watch.foreign == []
        context.close()
        browser.close()
