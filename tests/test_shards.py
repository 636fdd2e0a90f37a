"""The hot paths of a one-region caller each touch one region: the manifest, a confirmation, a
recipient's record and a volunteer's opportunities. Every statement they send that reads or
writes a table of regional rows (one with ``region_code``) names the region; on Citus
(``make test-citus``), ``EXPLAIN`` of each shows a plan routed to one shard (``Task Count: 1``),
never a multi-shard one."""
from __future__ import annotations

import re

from service.db import on_citus
from service.extensions import db
from tests.test_claims import helper, opportunities, today  # noqa: F401 (fixtures)
from tests.test_deliveries import TODAY, confirm, schedule

# The tables of regional rows, as statements name them (on Citus: distributed by region, or, the
# small shared ones, reference tables, which any node answers alone).
REGIONAL = re.compile(r"\b(" + "|".join(t.name for t in db.metadata.sorted_tables if "region_code" in t.c) + r")\b")
TASKS = re.compile(r"Task Count: (\d+)")
NODE = re.compile(r"Node: (host=\S+ port=\d+)")


def assert_one_region_each(transaction, seen, one_node: bool = False) -> int:
    """Each statement on a regional table names the region; on Citus its plan has one task (and,
    with ``one_node``, all of them run on the same worker: the transaction commits there alone,
    with no two-phase commit). The number of statements on regional tables."""
    regional = [(s, p) for s, p in seen if REGIONAL.search(s)]
    for statement, _ in regional:
        assert "region_code" in statement, statement
    nodes = set()
    if on_citus(transaction):
        for statement, parameters in regional:
            if isinstance(parameters, list):
                continue  # executemany: one row a statement, each on its own region's shard
            with transaction.begin_nested():
                plan = "\n".join(transaction.exec_driver_sql(f"EXPLAIN (COSTS OFF) {statement}", parameters).scalars())
            counts = TASKS.findall(plan)
            assert counts and set(counts) == {"1"}, (statement, plan)
            nodes.update(NODE.findall(plan))
    if one_node and nodes:
        assert len(nodes) == 1, nodes
    return len(regional)


def test_the_stalls_manifest_and_confirmation_each_touch_one_region(client, coordinator, loop, statements, transaction,
                                                                     monkeypatch):
    assert schedule(client, coordinator, day=TODAY).status_code == 200
    with statements() as manifest:
        response = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a)
    assert response.status_code == 200 and len(response.json["deliveries"]) == 6
    assert assert_one_region_each(transaction, manifest) >= 1
    meal = response.json["deliveries"][0]["id"]
    with statements() as confirmation:
        done = confirm(client, loop.phone_a, meal, key="k-1")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "delivered"
    # the meal, its audit event and the phone's idempotency record: one region, one worker
    statements_seen = " ".join(s for s, _ in confirmation)
    assert "idempotency_records" in statements_seen and "audit_events" in statements_seen
    assert assert_one_region_each(transaction, confirmation, one_node=True) >= 2


def test_a_recipients_record_touches_one_region(client, social, make_recipient, statements, transaction):
    person = make_recipient("enrolled")
    with statements() as seen:
        response = client.get(f"/api/v1/recipients/{person['id']}", headers=social)
    assert response.status_code == 200 and response.json["nik"] == person["nik"]
    assert assert_one_region_each(transaction, seen) >= 1


def test_a_volunteers_opportunities_touch_one_region(client, helper, make_recipient, statements, transaction):  # noqa: F811
    person = make_recipient("enrolled", latitude=-8.3540, longitude=114.1670)
    _, headers = helper()
    with statements() as seen:
        found = opportunities(client, headers)
    assert [o["recipient_id"] for o in found] == [person["id"]]
    assert assert_one_region_each(transaction, seen) >= 1
