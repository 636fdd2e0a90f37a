"""Who feeds whom: placement on enrolment, moves when a stall may no longer cook, the uncovered
list and the rebalance, through the API as the agencies and the program office use them."""
import datetime as dt

import numpy as np
import pytest
from geopy.distance import geodesic

from service.assignments import solver
from service.program import clock
from tests.conftest import at_jakarta
from tests.test_vendors import inspect

# Points around Kaliasin (-8.3538, 114.1668); Kembiritan's centre is 4.4 km south-west of it.
NEAR_KALIASIN = (-8.3541, 114.1672)


@pytest.fixture
def enrolled(make_recipient):
    """``enrolled(lat, lon)`` -> an enrolled recipient's JSON (placed by the enrolment)."""

    def make(latitude=NEAR_KALIASIN[0], longitude=NEAR_KALIASIN[1], **fields):
        return make_recipient("enrolled", latitude=latitude, longitude=longitude, **fields)

    return make


def uncovered_ids(client, headers):
    response = client.get("/api/v1/recipients/uncovered?per_page=500", headers=headers)
    assert response.status_code == 200, response.json
    return {r["id"] for r in response.json["items"]}


def test_enrolment_places_at_the_nearest_stall_that_may_cook_and_has_room(
        client, coordinator, make_vendor, enrolled, areas):
    make_vendor("Kaliasin", hygiene="failed")  # nearest, but may not cook
    full = make_vendor("Kaliasin", capacity=0)  # nearest that may cook, but no room
    far = make_vendor("Kembiritan")
    near = make_vendor("Kaliasin", latitude=-8.3600, longitude=114.1650)
    person = enrolled()
    expected = round(geodesic(NEAR_KALIASIN, (-8.3600, 114.1650)).km, 3)
    assert (person["vendor_id"], person["distance_km"]) == (near.id, expected)
    assert "nearest eligible stall" in person["assignment_note"]
    shown = client.get(f"/api/v1/vendors/{near.id}", headers=coordinator).json
    assert shown["assigned_count"] == 1
    assert client.get(f"/api/v1/vendors/{full.id}", headers=coordinator).json["assigned_count"] == 0
    assert far.id != person["vendor_id"]


def test_nobody_within_reach_leaves_the_recipient_enrolled_and_uncovered(client, coordinator, make_vendor, enrolled):
    make_vendor("Tembokrejo")  # about 20 km away: beyond the 5 km reach
    person = enrolled()
    assert person["status"] == "enrolled" and person["vendor_id"] is None and person["distance_km"] is None
    assert "no eligible stall with room within 5 km" in person["assignment_note"]
    assert person["id"] in uncovered_ids(client, coordinator)


def test_uncovered_lists_verified_and_unplaced_not_paused_or_fed(
        client, coordinator, social, make_vendor, make_recipient, enrolled):
    stall = make_vendor(capacity=1)
    fed = enrolled()
    waiting = enrolled()  # the stall is full
    verified = make_recipient("verified")
    candidate = make_recipient("candidate")
    paused = enrolled()
    today = clock.today()
    client.post(f"/api/v1/recipients/{paused['id']}/pauses", headers=social,
                json={"start_date": today.isoformat(), "end_date": (today + dt.timedelta(days=3)).isoformat(),
                      "reason": "in hospital"})
    assert fed["vendor_id"] == stall.id
    assert uncovered_ids(client, social) == {waiting["id"], verified["id"]}
    only_enrolled = client.get("/api/v1/recipients/uncovered?status=enrolled", headers=social).json
    assert [r["id"] for r in only_enrolled["items"]] == [waiting["id"]]
    assert client.get("/api/v1/recipients/uncovered?status=exited", headers=social).status_code == 422
    assert candidate["id"] not in uncovered_ids(client, coordinator)
    filtered = client.get("/api/v1/recipients?covered=true&status=enrolled", headers=social).json
    assert [r["id"] for r in filtered["items"]] == [fed["id"]]
    by_stall = client.get(f"/api/v1/recipients?vendor_id={stall.id}", headers=social).json
    assert [r["id"] for r in by_stall["items"]] == [fed["id"]]
    not_covered = client.get("/api/v1/recipients?covered=false&status=enrolled", headers=social).json
    assert {r["id"] for r in not_covered["items"]} == {waiting["id"], paused["id"]}


def test_a_failed_inspection_moves_recipients_nearest_first_and_uncovers_the_rest(
        client, coordinator, health, make_vendor, enrolled):
    failing = make_vendor("Kaliasin", capacity=5)
    people = [enrolled() for _ in range(3)]
    # another stall 600 m away with room for two of the three
    other = make_vendor("Kaliasin", capacity=2, latitude=-8.3590, longitude=114.1660)
    assert {p["vendor_id"] for p in people} == {failing.id}

    result = inspect(client, health, failing.id, passed=False, score=30, findings="no running water")
    assert result.status_code == 201, result.json
    assert (result.json["recipients_moved"], result.json["recipients_uncovered"]) == (2, 1)
    after = [client.get(f"/api/v1/recipients/{p['id']}", headers=coordinator).json for p in people]
    assert sorted(p["vendor_id"] or 0 for p in after) == [0, other.id, other.id]
    stranded = next(p for p in after if p["vendor_id"] is None)
    assert f"stall {failing.id} failed its hygiene inspection" in stranded["assignment_note"]
    assert stranded["id"] in uncovered_ids(client, coordinator)
    assert client.get(f"/api/v1/vendors/{failing.id}", headers=coordinator).json["assigned_count"] == 0
    # every move is in the audit trail of that recipient's assignment
    for person in after:
        trail = client.get(f"/api/v1/audit?entity=assignment&entity_id={person['id']}", headers=coordinator).json
        latest = trail["items"][0]
        assert latest["action"] == "update" and latest["actor"].startswith("user")
        assert latest["changes"]["vendor_id"] == [failing.id, person["vendor_id"]]


def test_passing_again_takes_in_the_uncovered_nearby(client, coordinator, health, make_vendor, enrolled):
    stall = make_vendor(hygiene="failed")
    person = enrolled()
    assert person["vendor_id"] is None
    result = inspect(client, health, stall.id, findings="fixed: running water installed")
    assert result.json["recipients_placed"] == 1
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] == stall.id and "passed its hygiene inspection" in shown["assignment_note"]


def test_suspension_and_lower_capacity_move_recipients_reactivation_takes_them_back(
        client, coordinator, make_vendor, enrolled):
    stall = make_vendor(capacity=3)
    people = [enrolled(latitude=-8.3541 + i * 0.002, longitude=114.1672) for i in range(3)]
    backup = make_vendor("Kaliasin", capacity=10, latitude=-8.3600, longitude=114.1700)

    lower = client.patch(f"/api/v1/vendors/{stall.id}", json={"daily_capacity": 2}, headers=coordinator)
    assert lower.status_code == 200 and lower.json["assigned_count"] == 2
    moved = client.get(f"/api/v1/recipients?vendor_id={backup.id}", headers=coordinator).json["items"]
    # the farthest from the stall is the one who moves
    farthest = max(people, key=lambda p: p["distance_km"])
    assert [r["id"] for r in moved] == [farthest["id"]]
    assert "daily_capacity 3 -> 2" in moved[0]["assignment_note"]

    suspended = client.patch(f"/api/v1/vendors/{stall.id}", json={"status": "suspended"}, headers=coordinator)
    assert suspended.json["assigned_count"] == 0 and suspended.json["eligible"] is False
    assert client.get(f"/api/v1/vendors/{backup.id}", headers=coordinator).json["assigned_count"] == 3

    closed_backup = client.patch(f"/api/v1/vendors/{backup.id}", json={"status": "closed"}, headers=coordinator)
    assert closed_backup.json["assigned_count"] == 0
    assert uncovered_ids(client, coordinator) == {p["id"] for p in people}
    back = client.patch(f"/api/v1/vendors/{stall.id}", json={"status": "active"}, headers=coordinator)
    assert back.json["assigned_count"] == 2  # its capacity, nearest first
    assert len(uncovered_ids(client, coordinator)) == 1


def test_a_kitchen_moved_out_of_reach_loses_those_it_no_longer_reaches(client, coordinator, make_vendor, enrolled):
    stall = make_vendor("Kaliasin")
    person = enrolled()
    nearby, too_far = (-8.3950, 114.1500), (-8.4000, 114.1500)  # 4.9 km and 5.4 km from the recipient
    moved = client.patch(f"/api/v1/vendors/{stall.id}", headers=coordinator,
                         json={"latitude": nearby[0], "longitude": nearby[1]})
    assert moved.status_code == 200, moved.json
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] == stall.id and shown["distance_km"] == round(geodesic(NEAR_KALIASIN, nearby).km, 3)
    client.patch(f"/api/v1/vendors/{stall.id}", headers=coordinator,
                 json={"latitude": too_far[0], "longitude": too_far[1]})
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] is None and "latitude" in shown["assignment_note"]


def test_pausing_keeps_the_place_exiting_frees_it(client, coordinator, social, make_vendor, enrolled):
    stall = make_vendor(capacity=1)
    person = enrolled()
    today = clock.today()
    paused = client.post(f"/api/v1/recipients/{person['id']}/pauses", headers=social,
                         json={"start_date": today.isoformat(), "end_date": (today + dt.timedelta(days=7)).isoformat(),
                               "reason": "staying with family"})
    assert paused.status_code == 201
    assert client.get(f"/api/v1/recipients/{person['id']}", headers=social).json["vendor_id"] == stall.id
    assert enrolled()["vendor_id"] is None  # the paused recipient's place is kept
    client.post(f"/api/v1/recipients/{person['id']}/exit", json={"reason": "moved"}, headers=social)
    assert client.get(f"/api/v1/vendors/{stall.id}", headers=coordinator).json["assigned_count"] == 0
    exited = client.get(f"/api/v1/recipients/{person['id']}", headers=social).json
    assert exited["vendor_id"] is None and exited["assignment_note"] is None
    assert enrolled()["vendor_id"] == stall.id


def test_an_expired_certificate_uncovers_on_the_day_after_and_the_sweep_moves_them(
        client, coordinator, cli, make_vendor, enrolled, monkeypatch):
    expiring = make_vendor("Kaliasin")  # inspected 10 days ago: valid for 170 days more
    person = enrolled()
    last_day = clock.today() + dt.timedelta(days=170)
    at_jakarta(monkeypatch, last_day)
    assert person["id"] not in uncovered_ids(client, coordinator)
    at_jakarta(monkeypatch, last_day + dt.timedelta(days=1), hour=0)
    # the truth today, before any job has run: the recipient is not fed
    assert person["id"] in uncovered_ids(client, coordinator)
    fresh = make_vendor("Kaliasin", latitude=-8.3580, longitude=114.1690)  # inspected "10 days ago"
    result = cli.invoke(args=["assignments", "sweep"])
    assert result.exit_code == 0, result.output
    assert f"stall {expiring.id}: 1 moved, 0 uncovered" in result.output, result.output
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] == fresh.id and "hygiene certificate expired" in shown["assignment_note"]
    again = cli.invoke(args=["assignments", "sweep"])
    assert "no stall" in again.output


def test_rebalance_covers_more_and_shortens_distances_without_taking_a_place_away(
        client, coordinator, make_vendor, enrolled, areas):
    # A stall at Kaliasin with one place, another 4.4 km away at Kembiritan with one place.
    # The first recipient enrols between them but nearer Kaliasin and takes its place; the second
    # reaches Kaliasin only. Greedy leaves the second uncovered; the rebalance moves the first.
    kaliasin = make_vendor("Kaliasin", capacity=1)
    kembiritan = make_vendor("Kembiritan", capacity=1)
    between = enrolled(latitude=-8.3700, longitude=114.1600)
    north = enrolled(latitude=-8.3300, longitude=114.1750)
    assert between["vendor_id"] == kaliasin.id and north["vendor_id"] is None

    report = client.post("/api/v1/assignments/rebalance", headers=coordinator)
    assert report.status_code == 200, report.json
    body = report.json
    assert (body["enrolled"], body["covered"], body["assigned"], body["moved"], body["unassigned"]) == (2, 2, 1, 1, 0)
    after = {r["id"]: r for r in client.get("/api/v1/recipients?status=enrolled", headers=coordinator).json["items"]}
    assert after[between["id"]]["vendor_id"] == kembiritan.id
    assert after[north["id"]]["vendor_id"] == kaliasin.id
    assert all(r["distance_km"] <= 5 for r in after.values())
    assert body["total_distance_km"] == pytest.approx(sum(r["distance_km"] for r in after.values()), abs=0.01)
    trail = client.get(f"/api/v1/audit?entity=assignment&entity_id={between['id']}", headers=coordinator).json
    event = trail["items"][0]
    assert (event["action"], event["actor_id"]) == ("update", client.get("/api/v1/me", headers=coordinator).json["id"])
    assert event["changes"]["vendor_id"] == [kaliasin.id, kembiritan.id]
    km = after[between["id"]]["distance_km"]
    assert event["changes"]["distance_km"][1] == km
    was, now = event["changes"]["reason"]
    assert was["code"] == "enrolled_placed"
    assert now == {"code": "rebalance_moved", "from_vendor_id": kaliasin.id, "km": km}
    placed = client.get(f"/api/v1/audit?entity=assignment&entity_id={north['id']}", headers=coordinator).json
    assert placed["items"][0]["changes"]["reason"][1] == {
        "code": "rebalance_placed", "vendor_id": kaliasin.id, "km": after[north["id"]]["distance_km"]}

    again = client.post("/api/v1/assignments/rebalance", headers=coordinator).json
    assert (again["assigned"], again["moved"], again["covered"]) == (0, 0, 2)


def test_only_the_coordinator_rebalances_and_only_registry_staff_see_the_uncovered(client, make_user):
    for kind in ("health", "social", "education"):
        headers = make_user("agency", kind)[1]
        assert client.post("/api/v1/assignments/rebalance", headers=headers).status_code == 403
    assert client.get("/api/v1/recipients/uncovered", headers=make_user("agency", "health")[1]).status_code == 403
    assert client.get("/api/v1/recipients/uncovered", headers=make_user("vendor")[1]).status_code == 403
    assert client.get("/api/v1/recipients/uncovered", headers=make_user("agency", "data")[1]).status_code == 200


def test_a_health_user_cannot_enrol(client, make_user, make_recipient):
    person = make_recipient("verified")
    response = client.post(f"/api/v1/recipients/{person['id']}/enrol", headers=make_user("agency", "health")[1])
    assert response.status_code == 403 and response.mimetype == "application/problem+json"


def _problem(n, m, seed, capacity=2, current=None):
    rng = np.random.default_rng(seed)
    return solver.Problem(
        r_lat=-8.35 + rng.uniform(-0.03, 0.03, n), r_lon=114.16 + rng.uniform(-0.03, 0.03, n),
        v_lat=-8.35 + rng.uniform(-0.03, 0.03, m), v_lon=114.16 + rng.uniform(-0.03, 0.03, m),
        capacity=np.full(m, capacity), max_m=2500.0, current=current)


def test_the_solver_finds_the_optimum_of_an_exhaustive_search():
    import itertools

    for seed in range(5):
        problem = _problem(6, 3, seed)
        best = None
        options = [(-1, *range(problem.m))] * problem.n
        for choice in itertools.product(*options):
            loads = np.bincount([c for c in choice if c >= 0], minlength=problem.m)
            if (loads > problem.capacity).any():
                continue
            picked = np.array(choice)
            if any(solver.distance_m(problem.r_lat[i], problem.r_lon[i], problem.v_lat[c], problem.v_lon[c]) > 2500
                   for i, c in enumerate(choice) if c >= 0):
                continue
            key = (-np.count_nonzero(picked >= 0), solver.total_distance_m(problem, picked))
            best = key if best is None or key < best else best
        result = solver.rebalance(problem, k=2)  # k below m: the widening pass must still find it
        assert (-np.count_nonzero(result >= 0), solver.total_distance_m(problem, result)) == pytest.approx(best)


def test_the_solver_never_takes_a_place_from_someone_who_has_one():
    # one stall, one place: the current holder keeps it even though the newcomer is nearer
    problem = solver.Problem(r_lat=np.array([-8.35, -8.36]), r_lon=np.array([114.16, 114.15]),
                             v_lat=np.array([-8.359]), v_lon=np.array([114.15]), capacity=np.array([1]),
                             max_m=5000.0, current=np.array([0, -1]))
    assert solver.rebalance(problem).tolist() == [0, -1]


def test_the_local_distance_agrees_with_geopy_to_the_millimetre():
    rng = np.random.default_rng(3)
    lat1, lon1 = -8.3 + rng.uniform(-0.1, 0.1, 200), 114.2 + rng.uniform(-0.1, 0.1, 200)
    lat2, lon2 = -8.3 + rng.uniform(-0.1, 0.1, 200), 114.2 + rng.uniform(-0.1, 0.1, 200)
    ours = solver.distance_m(lat1, lon1, lat2, lon2)
    theirs = [geodesic((a, b), (c, d)).m for a, b, c, d in zip(lat1, lon1, lat2, lon2)]
    assert np.max(np.abs(ours - theirs)) < 0.005


def test_the_stored_distance_is_geopys_geodesic_to_the_metre_for_every_pair():
    from service.geo import geodesic_km, geodesic_km_many

    rng = np.random.default_rng(11)
    n = 4000
    lat1, lon1 = -8.3 + rng.uniform(-0.1, 0.1, n), 114.2 + rng.uniform(-0.1, 0.1, n)
    lat2, lon2 = lat1 + rng.uniform(-0.2, 0.2, n), lon1 + rng.uniform(-0.2, 0.2, n)  # up to ~30 km
    # and pairs whose distance lies a hair from a half metre, where rounding could go either way
    ahead = solver.distance_m(lat1[:200], lon1[:200], lat1[:200] + 0.01, lon1[:200])
    lat2[:200] = lat1[:200] + 0.01 * (np.floor(ahead) + 0.5) / ahead
    lon2[:200] = lon1[:200]
    many = geodesic_km_many(lat1, lon1, lat2, lon2)
    one_by_one = [geodesic_km(*pair) for pair in zip(lat1, lon1, lat2, lon2)]
    assert many == one_by_one


def test_the_rebalance_releases_those_whose_stall_may_no_longer_cook(
        client, coordinator, cli, make_vendor, enrolled, monkeypatch):
    lapsing = make_vendor("Kaliasin")
    person = enrolled()
    assert person["vendor_id"] == lapsing.id
    at_jakarta(monkeypatch, clock.today() + dt.timedelta(days=171))  # the day after expiry
    result = cli.invoke(args=["assignments", "rebalance"])
    assert result.exit_code == 0, result.output
    assert "1 enrolled: 0 covered" in result.output and "1 without a stall within reach" in result.output
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] is None and f"stall {lapsing.id} may not cook" in shown["assignment_note"]


def test_an_inspection_is_history_and_cannot_be_changed(health, client, make_vendor):
    from service.extensions import db
    from service.vendors.models import Inspection

    vendor = make_vendor()
    record = db.session.query(Inspection).filter_by(vendor_id=vendor.id).one()
    record.score = 100
    with pytest.raises(RuntimeError, match="history"):
        db.session.flush()
    db.session.rollback()


def test_greedy_covers_no_more_and_travels_no_less_than_the_rebalance():
    for seed in range(3):
        problem = _problem(60, 8, seed, capacity=6)
        index = solver.Index(problem)
        greedy = solver.greedy(problem, index.within_reach())
        best = solver.rebalance(problem)
        assert (np.bincount(greedy[greedy >= 0], minlength=problem.m) <= problem.capacity).all()
        assert np.count_nonzero(greedy >= 0) <= np.count_nonzero(best >= 0)
        if np.count_nonzero(greedy >= 0) == np.count_nonzero(best >= 0):
            assert solver.total_distance_m(problem, best) <= solver.total_distance_m(problem, greedy) + 1e-6


def test_a_shorter_reach_uncovers_those_beyond_it_and_the_sweep_moves_them(
        client, coordinator, cli, make_vendor, enrolled):
    far = make_vendor("Kaliasin", latitude=-8.3700, longitude=114.1700)  # 1.8 km from the recipient
    person = enrolled()
    near = make_vendor("Kaliasin", latitude=-8.3560, longitude=114.1680)  # 0.3 km, registered later
    assert person["vendor_id"] == far.id
    changed = client.patch("/api/v1/program", json={"max_vendor_distance_km": 1.0}, headers=coordinator)
    assert changed.status_code == 200
    assert person["id"] in uncovered_ids(client, coordinator)  # the truth at once
    result = cli.invoke(args=["assignments", "sweep"])
    assert f"stall {far.id}: 1 moved, 0 uncovered" in result.output, result.output
    shown = client.get(f"/api/v1/recipients/{person['id']}", headers=coordinator).json
    assert shown["vendor_id"] == near.id and "beyond the program's reach of 1 km" in shown["assignment_note"]
    assert person["id"] not in uncovered_ids(client, coordinator)
    assert "no stall to sweep" in cli.invoke(args=["assignments", "sweep"]).output
