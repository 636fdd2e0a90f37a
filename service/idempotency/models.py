from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class IdempotencyRecord(Base):
    """The first answer to a write sent with an ``Idempotency-Key``, replayed to its retries.

    Keys belong to the user who sent them: two phones cannot collide on "1". A record is kept in
    the region the request worked in (``region_code``; the default region for staff of several who
    did not name one), beside the meal it answers: on Citus it lies on the same shard as the
    confirmation, whose transaction then stays on one worker (no two-phase commit).
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_created_at", "created_at"),)
    __audited__ = False

    region_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # sha256 of the method, the path and the body: the same key with another request is a 409.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
