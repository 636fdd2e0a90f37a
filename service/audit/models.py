from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONType, Regional, utcnow


class AuditEvent(Regional, Base):
    """Who changed what, when, and which fields (old and new values). An event is its row's region's;
    the program's own (national) changes are kept in the default region's trail."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The trail records what was and holds nothing in place: no foreign key from its region, as
    # none from its actor or entity (migration 0022).
    region_code: Mapped[str] = mapped_column(String(8))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(40))
    # A bigint: deliveries (billions in a national program) have events too.
    entity_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType)
