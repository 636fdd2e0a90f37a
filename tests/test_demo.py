import datetime as dt

from sqlalchemy import func, select

from service.db import bind
from service.deliveries.scheduling import first_open_day
from service.extensions import db
from service.program.models import Area, Region
from service.recipients.models import Recipient
from service.recipients.rules import identity_errors


def test_demo_load_builds_a_believable_program(cli, client):
    result = cli.invoke(args=["demo", "load", "--recipients", "120"])
    assert result.exit_code == 0, result.output
    assert "koordinator@rantang.example" in result.output
    statuses = dict(db.session.execute(select(Recipient.status, func.count()).group_by(Recipient.status)).all())
    assert set(statuses) == {"candidate", "verified", "rejected", "enrolled", "exited"}
    assert sum(statuses.values()) == 121  # and one an elderly man reported by the public
    assert db.session.scalar(select(func.count()).where(Recipient.source == "public_report")) == 1
    districts = db.session.scalar(select(func.count()).where(Area.kind == "district"))
    villages = db.session.scalar(select(func.count()).where(Area.kind == "village"))
    assert districts == 15 and villages == 135
    for r in db.session.scalars(select(Recipient)).all():
        assert identity_errors(r.nik, r.birth_date, r.sex, 60, r.created_at.date()) == {}
    # every demo login works, and the social agency sees the registry
    token = client.post("/api/v1/auth/token", json={"email": "sosial@rantang.example", "password": "rantang-demo"})
    assert token.status_code == 201
    listed = client.get("/api/v1/recipients?status=enrolled",
                        headers={"Authorization": f"Bearer {token.json['token']}"})
    assert listed.json["total"] == statuses["enrolled"]
    paused = [r for r in db.session.scalars(select(Recipient)).all() if r.pauses]
    assert paused and all(r.status == "enrolled" for r in paused)

    # stalls with inspection histories: valid ones, one never inspected, one expired, one failed
    def as_user(email):
        token = client.post("/api/v1/auth/token", json={"email": email, "password": "rantang-demo"}).json["token"]
        return {"Authorization": f"Bearer {token}"}

    coordinator = as_user("koordinator@rantang.example")
    stalls = client.get("/api/v1/vendors?per_page=500", headers=coordinator).json["items"]
    hygiene = [v["hygiene_status"] for v in stalls]
    assert hygiene.count("valid") >= 10 and hygiene.count("none") == 1
    assert hygiene.count("expired") == 1 and hygiene.count("failed") == 1
    failed = next(v for v in stalls if v["hygiene_status"] == "failed")
    assert failed["assigned_count"] == 0
    history = client.get(f"/api/v1/vendors/{failed['id']}/inspections", headers=coordinator).json
    assert [i["passed"] for i in history["items"] if i["kind"] == "hygiene"] == [False, True, True]
    # enrolled recipients are fed by stalls that may cook, a few are not reached
    enrolled = client.get("/api/v1/recipients?status=enrolled&per_page=500", headers=coordinator).json["items"]
    fed = [r for r in enrolled if r["vendor_id"]]
    assert len(fed) > 0.8 * len(enrolled)
    may_cook = {v["id"] for v in stalls if v["eligible"]}
    assert all(r["vendor_id"] in may_cook and r["distance_km"] <= 5 for r in fed)
    uncovered = client.get("/api/v1/recipients/uncovered?status=enrolled", headers=coordinator).json
    assert 0 < uncovered["total"] < 0.2 * len(enrolled)
    # the demo stall's login sees its own stall only
    mine = client.get("/api/v1/vendors", headers=as_user("warung@rantang.example")).json
    assert mine["total"] == 1 and mine["items"][0]["hygiene_status"] == "valid"
    # volunteers in every status of vetting; the demo volunteer is approved and signs in
    volunteers = client.get("/api/v1/volunteers?per_page=100", headers=coordinator).json["items"]
    assert {v["status"] for v in volunteers} == {"pending", "approved", "rejected", "suspended"}
    relawan = as_user("relawan@rantang.example")
    assert client.get("/api/v1/volunteers/me", headers=relawan).json["status"] == "approved"
    # who took on two people: one fed by them through the history, one visited with a concern
    held = client.get("/api/v1/volunteers/me/claims?status=open", headers=relawan).json["items"]
    assert sorted(c["kind"] for c in held) == ["deliver", "visit"]
    fed = next(c for c in held if c["kind"] == "deliver")
    shown = client.get(f"/api/v1/recipients/{fed['recipient_id']}", headers=coordinator).json
    assert shown["covered_by"] == "volunteer"
    history = client.get("/api/v1/deliveries", query_string={"recipient_id": fed["recipient_id"], "status": "delivered",
                                                             "per_page": 100}, headers=coordinator).json["items"]
    assert len(history) >= 20 and {d["volunteer_id"] for d in history} == {held[0]["volunteer_id"]}
    assert client.get("/api/v1/volunteers/me", headers=relawan).json["activity"]["meals_delivered"] == len(history)
    concern = client.get("/api/v1/volunteers/me/visits", headers=relawan).json["items"][0]["concern"]
    assert concern["status"] == "open"
    trend_days = client.get("/api/v1/coverage/trend", headers=coordinator).json["days"]
    assert any(d["by_source"]["volunteer"]["covered"] == 1 for d in trend_days if d["closed"])

    # three weeks of deliveries, closed day by day, with failures and misses; one recipient flagged
    trend = client.get("/api/v1/coverage/trend", headers=coordinator).json["days"]
    closed = [d for d in trend if d["closed"]]
    evening = first_open_day() > dt.date.fromisoformat(trend[-1]["date"])  # loaded after today's cut-off
    assert len(closed) == 21 and trend[-1]["closed"] is evening
    assert all(0.8 < d["coverage_rate"] <= 1 and d["failed"] + d["missed"] > 0 for d in closed)
    flagged = client.get("/api/v1/recipients?flagged=true", headers=coordinator).json
    assert flagged["total"] >= 1 and flagged["items"][0]["flagged_on"]
    stall = as_user("warung@rantang.example")
    # the first day still open (today, or tomorrow after the cut-off) is scheduled, as the runner's
    # catch-up would have it
    manifest = client.get("/api/v1/vendors/me/manifest", query_string={"date": first_open_day().isoformat()},
                          headers=stall).json
    assert manifest["deliveries"]
    month = trend[-2]["date"][:7]
    statement = client.get(f"/api/v1/vendors/{manifest['vendor_id']}/statement?month={month}", headers=stall).json
    assert 0 < statement["with_evidence"] < statement["delivered"]  # most, not all, with GPS

    # the agencies' work: tasks of every type, open, overdue, done and cancelled; referrals; targets
    tasks = client.get("/api/v1/tasks", query_string={"per_page": 500}, headers=coordinator).json
    assert {t["type"] for t in tasks["items"]} == {"verification_visit", "hygiene_inspection", "nutrition_check",
                                                    "school_visit", "follow_up", "complaint", "other"}
    assert {t["status"] for t in tasks["items"]} == {"open", "done", "cancelled"}
    assert any(t["overdue"] for t in tasks["items"]) and any(t["referral_ids"] for t in tasks["items"])
    chained = next(t for t in tasks["items"] if t["source_task_id"] and t["status"] == "done" and t["referral_ids"])
    chain = client.get(f"/api/v1/tasks/{chained['id']}/chain", headers=coordinator).json["items"]
    assert [t["type"] for t in chain] == ["school_visit", "follow_up", "follow_up"]
    school = as_user("guru@rantang.example")
    mine = client.get("/api/v1/tasks", query_string={"per_page": 500}, headers=school).json["items"]
    assert mine and {t["type"] for t in mine} <= {"school_visit", "follow_up", "complaint", "other"}
    targets = client.get("/api/v1/targets", headers=coordinator).json["items"]
    assert {t["status"] for t in targets} >= {"draft", "achieved"} and len(targets) == 5
    assert all(t["current_value"] is not None for t in targets)
    # the students' visits of the month count on the last day closed, as the cut-off keeps them
    [visits] = [t for t in targets if t["indicator"] == "visit_rate"]
    assert 0.5 < visits["current_value"] <= 1, visits

    # complaints from the public in every status, one past its deadlines, one a reported elderly man
    filed = client.get("/api/v1/complaints?per_page=100", headers=coordinator).json["items"]
    assert {c["status"] for c in filed} == {"received", "forwarded", "in_progress", "answered", "closed", "rejected"}
    assert any(c["escalated"] and c["overdue"] for c in filed)
    reported = next(c for c in filed if c["category"] == "unreached_elderly")
    candidate = client.get(f"/api/v1/recipients/{reported['reported_recipient_id']}", headers=coordinator).json
    assert (candidate["status"], candidate["source"]) == ("candidate", "public_report")
    by_phone = next(c for c in filed if c["channel"] == "open311")
    assert by_phone["vendor_id"] is None and by_phone["place"]["stall_source"] == "point"
    assert by_phone["place"]["address"] and by_phone["place"]["village"]
    answered = next(c for c in filed if c["status"] == "answered")
    assert client.get(f"/api/v1/complaints/{answered['code']}").json["public_answer"]
    assert client.get("/api/v1/public/stats").json["complaints"]["received"] >= 1

    again = cli.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "empty" in again.output
    skipped = cli.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output and "rantang-demo" in skipped.output


def test_demo_load_of_several_regions_over_the_country_places(cli, client):
    """``--regions 3``: Banyuwangi, then Jember (WIB) and Denpasar (WITA) over the real places of
    indonesia_places.csv, each a whole demo program of its own that its staff alone see."""
    result = cli.invoke(args=["demo", "load", "--recipients", "40", "--regions", "3"])
    assert result.exit_code == 0, result.output
    bind(db.session, None)
    assert {r.code: r.timezone for r in db.session.scalars(select(Region))} == {
        "35.10": "Asia/Jakarta", "35.09": "Asia/Jakarta", "51.71": "Asia/Makassar"}
    per_region = dict(db.session.execute(select(Recipient.region_code, func.count())
                                         .group_by(Recipient.region_code)).all())
    assert per_region == {"35.10": 41, "35.09": 41, "51.71": 41}
    # every region's areas are its own places: Denpasar's villages lie on Bali
    bali = db.session.scalars(select(Area).where(Area.region_code == "51.71", Area.kind == "village")).all()
    assert bali and all(-9.0 < a.latitude < -8.0 and 114.4 < a.longitude < 115.8 for a in bali)
    for domain, code in (("35-09.rantang.example", "35.09"), ("51-71.rantang.example", "51.71")):
        assert f"koordinator@{domain}" in result.output
        token = client.post("/api/v1/auth/token", json={"email": f"sosial@{domain}", "password": "rantang-demo"})
        assert token.status_code == 201, token.json
        listed = client.get("/api/v1/recipients?per_page=100",
                            headers={"Authorization": f"Bearer {token.json['token']}"})
        assert listed.json["total"] == 41
        ids = {r["id"] for r in listed.json["items"]}
        assert ids == set(db.session.scalars(select(Recipient.id).where(Recipient.region_code == code)))
