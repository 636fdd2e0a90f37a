"""The hot paths of a one-region caller each touch one region: the manifest, a confirmation, a
recipient's record and a volunteer's opportunities. Every statement they send that reads or writes
a table of regional rows names the region; on Citus (``make test-citus``), ``EXPLAIN`` of each
shows a plan routed to one shard (``Task Count: 1``), never a multi-shard one."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from tests.test_claims import helper, opportunities, today  # noqa: F401 (fixtures)
from tests.test_deliveries import TODAY, confirm, schedule
from tests.test_migrations import on_citus

# The tables distributed by region on Citus (migration 0021), as statements name them.
DISTRIBUTED = re.compile(
    r"\b(recipients|vendors|inspections|pauses|assignments|volunteers|claims|volunteer_visits|deliveries|"
    r"delivery_photos|delivery_days|coverage_days|tasks|complaints|complaint_events|targets|target_signatories|"
    r"audit_events)\b")
TASKS = re.compile(r"Task Count: (\d+)")


@pytest.fixture
def sent(transaction):
    """``with sent() as statements:`` the statements (and their parameters) sent inside the block."""

    class Recorder:
        def __enter__(self):
            self.statements: list[tuple[str, object]] = []
            event.listen(transaction, "before_cursor_execute", self.before)
            return self.statements

        def before(self, conn, cursor, statement, parameters, context, executemany):
            if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                self.statements.append((statement, None if executemany else parameters))

        def __exit__(self, *exc):
            event.remove(transaction, "before_cursor_execute", self.before)

    return Recorder


def assert_one_region_each(transaction, statements) -> int:
    """Each statement on a regional table names the region; on Citus its plan has one task.
    The number of statements on regional tables."""
    regional = [(s, p) for s, p in statements if DISTRIBUTED.search(s) and not s.startswith("EXPLAIN")]
    for statement, _ in regional:
        assert "region_code" in statement, statement
    if on_citus(transaction):
        for statement, parameters in regional:
            if parameters is None:
                continue  # executemany: one row a statement, each on its own region's shard
            with transaction.begin_nested():
                plan = "\n".join(transaction.exec_driver_sql(f"EXPLAIN (COSTS OFF) {statement}", parameters).scalars())
            counts = TASKS.findall(plan)
            assert counts and set(counts) == {"1"}, (statement, plan)
    return len(regional)


def test_the_stalls_manifest_and_confirmation_each_touch_one_region(client, coordinator, loop, sent, transaction,
                                                                     monkeypatch):
    assert schedule(client, coordinator, day=TODAY).status_code == 200
    with sent() as manifest:
        response = client.get("/api/v1/vendors/me/manifest", headers=loop.phone_a)
    assert response.status_code == 200 and len(response.json["deliveries"]) == 6
    assert assert_one_region_each(transaction, manifest) >= 1
    meal = response.json["deliveries"][0]["id"]
    with sent() as confirmation:
        done = confirm(client, loop.phone_a, meal, key="k-1")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "delivered"
    assert assert_one_region_each(transaction, confirmation) >= 1


def test_a_recipients_record_touches_one_region(client, social, make_recipient, sent, transaction):
    person = make_recipient("enrolled")
    with sent() as statements:
        response = client.get(f"/api/v1/recipients/{person['id']}", headers=social)
    assert response.status_code == 200 and response.json["nik"] == person["nik"]
    assert assert_one_region_each(transaction, statements) >= 1


def test_a_volunteers_opportunities_touch_one_region(client, helper, make_recipient, sent, transaction):  # noqa: F811
    person = make_recipient("enrolled", latitude=-8.3540, longitude=114.1670)
    _, headers = helper()
    with sent() as statements:
        found = opportunities(client, headers)
    assert [o["recipient_id"] for o in found] == [person["id"]]
    assert assert_one_region_each(transaction, statements) >= 1
