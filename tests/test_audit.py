"""Every write to an audited table is in the trail, written in bulk or not."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.db import Base, entity_name
from service.extensions import db
from service.tasks.models import Task
from tests.conftest import at_jakarta


def audited_models():
    """The mapped classes the trail follows, keyed by one integer column."""
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        keys = mapper.primary_key
        if getattr(cls, "__audited__", True) and cls is not AuditEvent and len(keys) == 1 \
                and keys[0].type.python_type is int and cls.__tablename__ != "program":
            yield cls, keys[0]


def test_recurring_work_opened_and_cancelled_in_bulk_is_in_the_trail(client, coordinator, agencies, make_recipient,
                                                                     social, monkeypatch):
    at_jakarta(monkeypatch, dt.date.today(), hour=7)
    people = [make_recipient("enrolled"), make_recipient()]
    opened = client.post("/api/v1/tasks/recurring", headers=coordinator).json
    assert opened["school_visits"] == 1 and opened["verification_visits"] == 1
    tasks = db.session.scalars(select(Task).where(Task.origin == "recurring")).all()
    created = set(db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.entity == "task",
                                                                       AuditEvent.action == "create")))
    assert {t.id for t in tasks} <= created
    client.post(f"/api/v1/recipients/{people[0]['id']}/exit", json={"reason": "moved"}, headers=social)
    assert client.post("/api/v1/tasks/recurring", headers=coordinator).json["cancelled"] == 1
    visit = next(t for t in tasks if t.type == "school_visit")
    trail = client.get("/api/v1/audit", query_string={"entity": "task", "entity_id": visit.id},
                       headers=coordinator).json["items"]
    office = client.get("/api/v1/me", headers=coordinator).json
    assert [e["action"] for e in trail] == ["update", "create"]
    assert trail[0]["changes"]["status"] == ["open", "cancelled"] and trail[0]["actor_id"] == office["id"]


def test_every_row_a_whole_demo_program_writes_has_its_creation_in_the_trail(cli):
    """The demo writes through every path the service has, bulk ones included (the import, the
    rebalance, the recurring work, the month's visits): no audited row without its event."""
    result = cli.invoke(args=["demo", "load", "--recipients", "60"])
    assert result.exit_code == 0, result.output
    missing = {}
    for cls, key in audited_models():
        ids = set(db.session.scalars(select(key)))
        logged = set(db.session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.entity == entity_name(cls), AuditEvent.action == "create")))
        if ids - logged:
            missing[cls.__name__] = sorted(ids - logged)[:5]
    assert missing == {}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
