"""The audit trail: every flushed change to a model is recorded with who made it.

A listener on every ORM session writes one ``AuditEvent`` per created, changed or deleted row,
in the same transaction as the change, so the trail cannot miss a write or record one that was
rolled back. Bulk writes that bypass the unit of work call :func:`record` themselves.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, event, inspect, or_, select, text, update
from sqlalchemy.orm import Session

from service.audit.models import AuditEvent
from service.db import Page, bulk_insert, default_region, entity_name, one_region, paginate, utcnow
from service.extensions import db

REDACTED = "***"
SECRET_FIELDS = {"password_hash", "token_hash"}
SKIPPED_FIELDS = {"version", "created_at", "updated_at"}


def set_actor(session: Session, actor_id: int | None, label: str) -> None:
    """Name who is acting for the rest of this session. Callers name a ``Scope``
    (``Scope.act_in``), which calls this: the trail's actor is always the scope's."""
    session.info["actor_id"] = actor_id
    session.info["actor"] = label


def acting(session: Session) -> tuple[int | None, str]:
    """Who is acting in this session, as the trail records them: (user id or None, label)."""
    return session.info.get("actor_id"), session.info.get("actor", "system")


def plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    return value


def _value(key: str, value: Any) -> Any:
    return REDACTED if key in SECRET_FIELDS and value is not None else plain(value)


def creation_changes(values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The changes that creating a row with ``values`` makes, as the trail records them."""
    return {
        key: [None, _value(key, value)]
        for key, value in values.items()
        if value is not None and key != "id" and key not in SKIPPED_FIELDS
    }


def _changes(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    if action == "create":
        return creation_changes({attr.key: getattr(obj, attr.key) for attr in state.mapper.column_attrs})
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIPPED_FIELDS:
            continue
        history = state.attrs[key].history
        if action == "delete":
            old = history.unchanged or history.deleted
            changes[key] = [_value(key, old[0] if old else None), None]
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[key] = [_value(key, old), _value(key, new)]
    return changes


def record(session: Session, events: Iterable[tuple[Any, ...]],
           actor: tuple[int | None, str] | None = None) -> None:
    """Write audit events ``(action, entity, entity_id, changes[, region])`` as ``actor`` (user id,
    label), or the session's actor. An event is its row's region's (else the session's one region);
    a change of no region (the program's own, a national user's) is kept in the default region's
    trail: on Citus every event needs the key its table is distributed by."""
    now = utcnow()
    actor_id, actor = actor or acting(session)
    fallback = one_region(session) or default_region()
    rows = [
        {
            "at": now,
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "changes": changes,
            "region_code": (region[0] if region and region[0] else fallback),
        }
        for action, entity, entity_id, changes, *region in events
    ]
    if rows:
        bulk_insert(session, AuditEvent.__table__, rows, ids=False)


def record_select(session: Session, events_sql: str, params: Mapping[str, Any]) -> None:
    """Write the events a SELECT yields (``events_sql``, SQL of the caller's engine, its columns
    action, entity, entity_id, changes and region_code) as the session's actor, as ``record``
    does for events in hand: tens of thousands of events built by the database from the rows they
    describe, in one statement, none through Python."""
    actor_id, actor = acting(session)
    session.execute(text(
        "INSERT INTO audit_events (at, actor_id, actor, action, entity, entity_id, changes, region_code) "
        f"SELECT :audit_at, :audit_actor_id, :audit_actor, e.* FROM ({events_sql}) AS e").bindparams(
        bindparam("audit_at", type_=AuditEvent.at.type), bindparam("audit_actor_id", type_=Integer),
        bindparam("audit_actor", type_=String)),
        {**params, "audit_at": utcnow(), "audit_actor_id": actor_id, "audit_actor": actor})


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, flush_context) -> None:
    events = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, AuditEvent) or not getattr(obj, "__audited__", True) or not hasattr(obj, "__table__"):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if changes or action != "update":
                key = inspect(obj).mapper.primary_key_from_instance(obj)[0]
                events.append((action, entity_name(obj), key, changes, getattr(obj, "region_code", None)))
    record(session, events)


def erase(session: Session, subjects: Iterable[tuple[str, int]], fields: Iterable[str], actor_id: int | None) -> int:
    """Erasure (UU PDP 27/2022): the personal data of a person who left, scrubbed from the trail.
    In the events of ``subjects`` (``(entity, id)``) the old and new values of ``fields`` become
    null, and events the person made name them by their id (``user 12``) rather than their login;
    the events themselves, their ids, actions and times stay. How many events changed."""
    fields = frozenset(fields)
    wheres = [and_(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id) for entity, entity_id in subjects]
    changed = 0
    for found in session.scalars(select(AuditEvent).where(or_(*wheres))):
        if fields & set(found.changes):
            found.changes = {k: [None, None] if k in fields else v for k, v in found.changes.items()}
            changed += 1
    if actor_id is not None:
        session.execute(update(AuditEvent).where(AuditEvent.actor_id == actor_id).values(actor=f"user {actor_id}"))
    session.flush()
    return changed


def list_events(
    page: int, per_page: int, entity: str | None = None, entity_id: int | None = None
) -> Page[AuditEvent]:

    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return paginate(db.session, query, page, per_page)
