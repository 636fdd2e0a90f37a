"""The caller's scope filters rows in SQL, on every list whose rows depend on who asks: the query
itself names the caller's stall or agency, so a page and its total hold only what the caller may
reach (a filter applied after LIMIT would show short pages and a wrong total)."""
from __future__ import annotations

import datetime as dt

from service.accounts.scope import Scope
from service.extensions import db
from service.tasks import service as tasks
from tests.conftest import SYSTEM, at_jakarta

TODAY = dt.date.today()


def names(parameters, value) -> bool:
    """Whether the statement's parameters hold ``value`` (a tuple on SQLite, a dict on PostgreSQL)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    return value in list(values)


def listed(client, path, headers, statements, table: str, column: str, value: int) -> dict:
    """GET ``path`` one row a page; assert the SELECT of ``table`` filtered ``column`` by ``value``."""
    with statements() as seen:
        response = client.get(path, query_string={"per_page": 1}, headers=headers)
    assert response.status_code == 200, response.json
    selects = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("SELECT")
               and f"FROM {table}" in sql]
    assert any(f"{table}.{column} = " in sql and names(params, value) for sql, params in selects), selects
    return response.json


def test_a_stall_lists_its_own_stall_deliveries_and_inspections_by_sql(client, coordinator, loop, statements):
    scheduled = client.post("/api/v1/deliveries/schedule", json={"date": TODAY.isoformat()}, headers=coordinator)
    assert scheduled.status_code == 200
    stall_a, stall_b = loop.a.id, loop.b.id
    page = listed(client, "/api/v1/vendors", loop.phone_b, statements, "vendors", "id", stall_b)
    assert page["total"] == 1 and [v["id"] for v in page["items"]] == [stall_b]
    mine = listed(client, "/api/v1/deliveries", loop.phone_a, statements, "deliveries", "vendor_id", stall_a)
    assert mine["total"] == 6 and len(mine["items"]) == 1
    theirs = listed(client, "/api/v1/deliveries", loop.phone_b, statements, "deliveries", "vendor_id", stall_b)
    assert theirs["total"] == 0
    inspections = listed(client, f"/api/v1/vendors/{stall_a}/inspections", loop.phone_a, statements,
                         "vendors", "id", stall_a)
    assert inspections["total"] == 1
    assert client.get(f"/api/v1/vendors/{stall_a}/inspections", headers=loop.phone_b).status_code == 404
    # Staff reach every stall and every delivery.
    assert client.get("/api/v1/deliveries", headers=coordinator).json["total"] == 6
    assert client.get("/api/v1/vendors", headers=coordinator).json["total"] >= 2


def test_agency_staff_list_their_agencys_tasks_by_sql(client, coordinator, agencies, statements, monkeypatch):
    at_jakarta(monkeypatch, TODAY, hour=10)
    due = TODAY + dt.timedelta(days=3)
    for kind, count in (("social", 3), ("data", 2)):
        for n in range(count):
            tasks.create_task("other", due, title=f"{kind} {n}", agency_id=getattr(agencies, kind).agency_id,
                              scope=SYSTEM)
    db.session.commit()
    social = agencies.social.agency_id
    page = listed(client, "/api/v1/tasks", agencies.social.headers, statements, "tasks", "agency_id", social)
    assert page["total"] == 3 and page["items"][0]["agency_id"] == social
    # asking for another agency's tasks changes nothing: the scope stands beside the filter
    other = client.get("/api/v1/tasks", query_string={"agency_id": agencies.data.agency_id},
                       headers=agencies.social.headers).json
    assert other["total"] == 0
    assert client.get("/api/v1/tasks", headers=coordinator).json["total"] == 5


def test_the_scope_says_what_each_caller_reaches():
    stall = Scope(role="vendor", user_id=7, vendor_id=3)
    staff = Scope(role="agency", user_id=8, agency_id=2, agency_kind="health")
    registry = Scope(role="agency", user_id=9, agency_id=4, agency_kind="data")
    office = Scope(role="coordinator", user_id=1)
    assert (stall.stall, stall.agency, stall.everything, stall.reads_registry) == (3, None, False, False)
    assert (staff.stall, staff.agency, staff.everything, staff.reads_registry) == (None, 2, False, False)
    assert (registry.reads_registry, office.reads_registry, office.everything) == (True, True, True)
    assert SYSTEM.everything and SYSTEM.reads_registry and SYSTEM.user_id is None
    assert (staff.principal, stall.principal, office.principal) == ("agency:health", "vendor", "coordinator")
