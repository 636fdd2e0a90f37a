"""Store and replay the answers to writes sent with an ``Idempotency-Key``.

A phone on a bad network sends a confirmation, loses the answer, and sends it again with the same
key: it gets the first answer back, and the write happens once. The same key with another request
is a conflict. Records are kept at least ``IDEMPOTENCY_KEEP_HOURS`` (72) and purged by the job
runner after that.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from service.db import default_region, one_region, utcnow
from service.errors import Conflict
from service.extensions import db
from service.i18n import _l
from service.idempotency.models import IdempotencyRecord


def _region() -> str:
    """Where the request's record is kept: the one region the request works in (a retry works in
    the same one), or the default region for staff of several regions who did not name one."""
    return one_region(db.session) or default_region()


def find(user_id: int, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The stored answer to this user's ``key``, if any; a conflict if it answered another request."""
    stored = db.session.get(IdempotencyRecord, (_region(), user_id, key))
    if stored is not None and stored.fingerprint != fingerprint:
        raise Conflict(_l("this Idempotency-Key was used for another request; use a new key for a new request"))
    return stored


def _store_statement(dialect):
    """``INSERT ... ON CONFLICT DO NOTHING``, built once per engine: every confirmation pays it.
    Its row count tells whether it stored (no RETURNING: a result costs more than the count)."""
    table = IdempotencyRecord.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    values = {column: bindparam(column) for column in
              ("region_code", "user_id", "key", "fingerprint", "status", "content_type", "body", "created_at")}
    return (insert.values(values).on_conflict_do_nothing(index_elements=["region_code", "user_id", "key"])
            .execution_options(preserve_rowcount=True))


_STORE = {dialect: _store_statement(dialect) for dialect in ("postgresql", "sqlite")}


def store(user_id: int, key: str, fingerprint: str, status: int, content_type: str, body: str) -> bool:
    """Keep the answer, in the request's transaction; False if the key has one already (this is a
    retry, or the key was used before): the caller then rolls back and replays what is stored."""
    connection = db.session.connection()  # Core, not the ORM's bulk INSERT
    return connection.execute(_STORE[connection.dialect.name], {
        "region_code": _region(), "user_id": user_id, "key": key, "fingerprint": fingerprint, "status": status,
        "content_type": content_type, "body": body, "created_at": utcnow(),
    }).rowcount == 1


def purge(older_than: dt.datetime | None = None) -> int:
    """Forget answers older than the keeping time; how many."""
    cutoff = older_than or utcnow() - dt.timedelta(hours=current_app.config["IDEMPOTENCY_KEEP_HOURS"])
    return db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    ).rowcount
