"""One action, one truth: work recorded directly (an inspection through the stall's endpoint, a
verification through the recipient's) completes the open task that asked for it, so nobody
enters it twice. Models only, so the vendor and recipient services can call it without a cycle.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from service.db import utcnow
from service.extensions import db
from service.tasks.models import Task


def settle_open(type_: str, outcome: str, completed_on: dt.date, *,
                recipient_id: int | None = None, vendor_id: int | None = None, notes: str | None = None,
                inspection_id: int | None = None, dedupe_key: str | None = None) -> list[Task]:
    """Complete the open tasks of ``type_`` for this recipient or stall with ``outcome``, as the
    session's actor (the user of the request, or the job)."""
    by = db.session.info.get("actor_id")
    query = select(Task).where(Task.type == type_, Task.status == "open")
    if recipient_id is not None:
        query = query.where(Task.recipient_id == recipient_id)
    if vendor_id is not None:
        query = query.where(Task.vendor_id == vendor_id)
    if dedupe_key is not None:
        query = query.where(Task.dedupe_key == dedupe_key)
    tasks = db.session.scalars(query).all()
    for task in tasks:
        task.status, task.outcome, task.outcome_notes = "done", outcome, notes
        task.completed_on, task.completed_at, task.completed_by = completed_on, utcnow(), by
        task.inspection_id = inspection_id
    db.session.flush()
    return tasks
