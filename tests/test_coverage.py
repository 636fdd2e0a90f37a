"""Coverage by the definitions of API.md, live for an open day and from the cut-off's summary for a
closed one."""
from __future__ import annotations

import datetime as dt

from tests.conftest import at_jakarta
from tests.test_deliveries import TODAY, D, confirm, deliveries_of, schedule

C = "/api/v1/coverage"


def test_coverage_of_today_counts_live(client, coordinator, social, loop, make_recipient, areas):
    paused = make_recipient("enrolled")
    client.post(f"/api/v1/recipients/{paused['id']}/pauses", headers=social,
                json={"start_date": TODAY.isoformat(), "end_date": TODAY.isoformat(), "reason": "hospital"})
    far = make_recipient("enrolled", latitude=-8.26, longitude=114.1668)  # 10 km north: no stall within reach
    schedule(client, coordinator, TODAY)
    rows = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())
    first, second = loop.ids[:2]
    for d in rows:
        if d["recipient_id"] == first:
            confirm(client, loop.phone_a, d["id"], latitude=-8.35, longitude=114.16)  # both meals
        elif d["recipient_id"] == second and d["meal"] == "lunch":
            confirm(client, loop.phone_a, d["id"], status="failed", reason="not at home")

    body = client.get(C, headers=social).json
    assert body["date"] == TODAY.isoformat() and body["closed"] is False
    # eligible: the three at stall A and the one nobody reaches; not the paused one. Uncovered: the
    # three without a delivered meal, of whom one had no meal planned (nobody reaches them).
    expected = {"eligible": 4, "covered": 1, "uncovered": 3, "unplanned": 1, "scheduled": 6, "delivered": 2,
                "failed": 1, "missed": 0, "pending": 3, "coverage_rate": 0.25, "delivery_rate": 0.3333}
    assert {k: body[k] for k in expected} == expected
    (village,) = body["by_village"]
    assert (village["village_id"], village["village"], village["district"]) == (
        areas["Kaliasin"].id, "Kaliasin", "Genteng")
    assert village["eligible"] == 4 and village["covered"] == 1
    assert far["vendor_id"] is None


def test_a_closed_day_keeps_the_counts_of_its_cut_off(client, coordinator, social, loop, monkeypatch):
    schedule(client, coordinator, TODAY)
    for d in deliveries_of(client, loop.phone_a, date=TODAY.isoformat()):
        if d["recipient_id"] != loop.ids[2]:
            confirm(client, loop.phone_a, d["id"])
    at_jakarta(monkeypatch, TODAY, hour=21)
    client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    closed = client.get(C, query_string={"date": TODAY.isoformat()}, headers=coordinator).json
    assert closed["closed"] is True
    assert (closed["scheduled"], closed["delivered"], closed["missed"], closed["pending"]) == (6, 4, 2, 0)

    at_jakarta(monkeypatch, TODAY + dt.timedelta(days=1), hour=8)
    client.post(f"/api/v1/recipients/{loop.ids[0]}/exit", json={"reason": "moved"}, headers=social)
    assert client.get(C, query_string={"date": TODAY.isoformat()}, headers=coordinator).json == closed
    assert client.get(C, headers=coordinator).json["eligible"] == 2  # today, live


def test_the_trend_has_a_row_per_day(client, coordinator, loop, monkeypatch):
    days = [TODAY + dt.timedelta(days=n) for n in range(3)]
    for n, day in enumerate(days):
        at_jakarta(monkeypatch, day, hour=7)
        schedule(client, coordinator, day)
        for d in deliveries_of(client, loop.phone_a, date=day.isoformat()):
            if d["recipient_id"] in loop.ids[: n + 1]:  # both meals of one, two, three recipients
                confirm(client, loop.phone_a, d["id"])
        if n < 2:
            at_jakarta(monkeypatch, day, hour=22)
            client.post(f"{D}/close", json={"date": day.isoformat()}, headers=coordinator)
    at_jakarta(monkeypatch, days[2], hour=12)
    response = client.get(f"{C}/trend", query_string={"from": days[0].isoformat(), "to": days[2].isoformat()},
                          headers=coordinator)
    assert response.status_code == 200, response.json
    rows = response.json["days"]
    assert [(r["date"], r["closed"], r["delivered"], r["missed"]) for r in rows] == [
        (days[0].isoformat(), True, 2, 4), (days[1].isoformat(), True, 4, 2), (days[2].isoformat(), False, 6, 0)]
    assert [r["coverage_rate"] for r in rows] == [0.3333, 0.6667, 1.0]

    default = client.get(f"{C}/trend", headers=coordinator).json["days"]
    assert len(default) == 30 and default[-1]["date"] == days[2].isoformat()
    # a day before the program scheduled anything: no meals, not counted again on every request
    assert (default[0]["closed"], default[0]["scheduled"], default[0]["eligible"]) == (False, 0, 0)
    csv_text = client.get(f"{C}/export.csv", query_string={"from": days[0].isoformat()}, headers=coordinator)
    lines = csv_text.get_data(as_text=True).splitlines()
    assert lines[0].startswith("date,closed,counted_at,eligible,covered") and len(lines) == 4
    as_csv = client.get(f"{C}/trend", query_string={"from": days[0].isoformat()},
                        headers={**coordinator, "Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv" and as_csv.data == csv_text.data


def test_trend_arguments_are_checked(client, coordinator, loop):
    later = (TODAY + dt.timedelta(days=3)).isoformat()
    assert client.get(f"{C}/trend", query_string={"from": later}, headers=coordinator).status_code == 422
    far = (TODAY - dt.timedelta(days=400)).isoformat()
    assert client.get(f"{C}/trend", query_string={"from": far}, headers=coordinator).status_code == 422
    assert client.get(f"{C}/trend", query_string={"from": "yesterday"}, headers=coordinator).status_code == 422


def test_coverage_is_for_the_program_staff(client, loop, make_user):
    assert client.get(C, headers=loop.phone_a).status_code == 403
    assert client.get(C).status_code == 401
    assert client.get(C, headers=make_user("agency", "education")[1]).status_code == 200


def test_the_open_day_is_served_from_the_runners_snapshot_while_it_is_fresh(app, client, coordinator, loop,
                                                                            monkeypatch):
    from service.scheduler import jobs

    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), meal="lunch")
    confirm(client, loop.phone_a, lunch[0]["id"])
    assert jobs.run(app, "coverage") == {"eligible": 3, "covered": 1, "delivered": 1}
    snapshot = client.get(C, headers=coordinator).json
    assert snapshot["closed"] is False and snapshot["delivered"] == 1
    taken = dt.datetime.fromisoformat(snapshot["counted_at"])

    at_jakarta(monkeypatch, TODAY, hour=10, minute=2)  # two minutes later, one more meal
    confirm(client, loop.phone_a, lunch[1]["id"])
    assert client.get(C, headers=coordinator).json == snapshot  # still the snapshot
    live = client.get(C, query_string={"live": "true"}, headers=coordinator).json
    assert live["delivered"] == 2 and dt.datetime.fromisoformat(live["counted_at"]) > taken
    trend = client.get(f"{C}/trend", query_string={"from": TODAY.isoformat()}, headers=coordinator).json
    assert trend["days"][0]["delivered"] == 1

    at_jakarta(monkeypatch, TODAY, hour=10, minute=10)  # the runner stopped: the snapshot is stale
    assert client.get(C, headers=coordinator).json["delivered"] == 2
    at_jakarta(monkeypatch, TODAY, hour=21)
    client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    assert jobs.run(app, "coverage") is not None  # never over the final count
    final = client.get(C, query_string={"date": TODAY.isoformat(), "live": "true"}, headers=coordinator).json
    assert final["closed"] is True and (final["delivered"], final["missed"]) == (2, 4)


def _statement_line(client, headers, vendor_id, day):
    body = client.get(f"/api/v1/vendors/{vendor_id}/statement", query_string={"month": f"{day:%Y-%m}"},
                      headers=headers).json
    return next(line for line in body["lines"] if line["date"] == day.isoformat())


def test_a_closed_day_stays_closed_so_coverage_and_pay_agree(client, coordinator, loop, make_recipient,
                                                             monkeypatch):
    """What the cut-off counted is what the stall is paid for: a day once closed takes no more
    meals nor confirmations, even when the cut-off is moved later that evening."""
    schedule(client, coordinator, TODAY)
    lunch = deliveries_of(client, loop.phone_a, date=TODAY.isoformat(), meal="lunch")[0]
    assert confirm(client, loop.phone_a, lunch["id"]).status_code == 200
    at_jakarta(monkeypatch, TODAY, hour=21, minute=5)
    assert client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator).status_code == 200
    # The office moves the cut-off to 23:00 and enrols someone at stall A: the closed day gets no meal.
    moved = client.patch("/api/v1/program", json={"delivery_cutoff": "23:00"}, headers=coordinator)
    assert moved.status_code == 200, moved.json
    late = make_recipient("enrolled")
    assert late["vendor_id"] == loop.a.id
    again = schedule(client, coordinator, TODAY)
    assert again.status_code == 422 and "date" in again.json["errors"]
    assert not deliveries_of(client, coordinator, date=TODAY.isoformat(), recipient_id=late["id"])
    for meal in deliveries_of(client, loop.phone_a, date=TODAY.isoformat()):
        if meal["id"] != lunch["id"]:
            refused = confirm(client, loop.phone_a, meal["id"])
            assert refused.status_code == 409 and refused.json["delivery_status"] == "missed"
    closed = client.get(C, query_string={"date": TODAY.isoformat()}, headers=coordinator).json
    assert closed["closed"] is True
    line = _statement_line(client, coordinator, loop.a.id, TODAY)
    assert (closed["delivered"], closed["missed"]) == (line["delivered"], line["missed"]) == (1, 5)
    # tomorrow is scheduled as usual, and its meals close at the new cut-off
    assert schedule(client, coordinator).status_code == 200


def test_a_meal_left_scheduled_on_a_closed_day_cannot_be_confirmed(client, coordinator, loop, monkeypatch):
    """A database from before the rule may hold a scheduled meal on a closed day (made after the
    cut-off was moved later): the confirmation is refused, as the day's coverage never counted it."""
    from sqlalchemy import update

    from service.deliveries.models import Delivery
    from service.extensions import db

    schedule(client, coordinator, TODAY)
    at_jakarta(monkeypatch, TODAY, hour=21, minute=5)
    client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    client.patch("/api/v1/program", json={"delivery_cutoff": "23:00"}, headers=coordinator)
    meal = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())[0]
    db.session.execute(update(Delivery).where(Delivery.id == meal["id"]).values(status="scheduled", cause=None))
    db.session.commit()
    refused = confirm(client, loop.phone_a, meal["id"])
    assert refused.status_code == 409, refused.json
    assert client.get(C, query_string={"date": TODAY.isoformat()}, headers=coordinator).json["delivered"] == \
        _statement_line(client, coordinator, loop.a.id, TODAY)["delivered"] == 0


def test_what_a_day_counts_adds_up(client, coordinator, social, loop, make_recipient, monkeypatch):
    """One rule for the day: eligible = covered + uncovered, and the uncovered are those with no
    meal planned (unplanned) and those whose meals failed or were missed; the delivered meals are
    what the statement pays. Counted live, then as the cut-off stored it, by village and in all."""
    gone = make_recipient("enrolled")
    make_recipient("enrolled", latitude=-8.26, longitude=114.1668)  # no stall within reach: unplanned
    make_recipient("verified")  # listed as uncovered in the registry, but not eligible: not counted here
    schedule(client, coordinator, TODAY)
    meals = deliveries_of(client, loop.phone_a, date=TODAY.isoformat())
    mine = {(m["recipient_id"], m["meal"]): m["id"] for m in meals}
    confirm(client, loop.phone_a, mine[loop.ids[0], "lunch"])
    confirm(client, loop.phone_a, mine[loop.ids[1], "lunch"], status="failed", reason="not at home")
    confirm(client, loop.phone_a, mine[gone["id"], "lunch"])
    # fed at lunch, then gone: their meal is paid, but they are not eligible that day, nor covered
    client.post(f"/api/v1/recipients/{gone['id']}/exit", json={"reason": "moved"}, headers=social)

    def check(body, closed):
        assert body["closed"] is closed
        for row in [body, *body["by_village"]]:
            assert row["uncovered"] == row["eligible"] - row["covered"] >= row["unplanned"] >= 0
        assert (body["eligible"], body["covered"], body["uncovered"], body["unplanned"]) == (4, 1, 3, 1)
        line = _statement_line(client, coordinator, loop.a.id, TODAY)
        assert body["delivered"] == line["delivered"] == 2 and body["failed"] == line["failed"] == 1
        assert body["missed"] == line["missed"] == (4 if closed else 0)

    check(client.get(C, query_string={"live": "true"}, headers=coordinator).json, closed=False)
    at_jakarta(monkeypatch, TODAY, hour=21)
    client.post(f"{D}/close", json={"date": TODAY.isoformat()}, headers=coordinator)
    closed = client.get(C, query_string={"date": TODAY.isoformat()}, headers=coordinator).json
    check(closed, closed=True)
    trend = client.get(f"{C}/trend", query_string={"from": TODAY.isoformat()}, headers=coordinator).json["days"]
    assert {k: trend[0][k] for k in ("eligible", "covered", "uncovered", "unplanned")} == {
        "eligible": 4, "covered": 1, "uncovered": 3, "unplanned": 1}
    header, row = client.get(f"{C}/export.csv", query_string={"from": TODAY.isoformat()},
                             headers=coordinator).get_data(as_text=True).splitlines()
    assert dict(zip(header.split(","), row.split(",")))["unplanned"] == "1"
