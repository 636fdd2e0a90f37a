"""What happens to a recipient that areas above the registry act on (``service/wiring.py``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.accounts.scope import Scope
from service.recipients.models import Recipient


@dataclass(frozen=True)
class RecipientEnrolled:
    """Enrolled: to be placed at a stall near them."""

    recipient: Recipient


@dataclass(frozen=True)
class RecipientExited:
    """Left the program: their place at a stall is free, their meals not yet delivered go."""

    recipient: Recipient


@dataclass(frozen=True)
class PausesChanged:
    """A pause was added, moved or dropped: the meals from ``from_day`` (None: the first open day)
    follow."""

    recipient_id: int
    from_day: dt.date | None = None


@dataclass(frozen=True)
class RecipientVerified:
    """The verification visit's decision (``status``: verified or rejected), however it was recorded."""

    recipient_id: int
    status: str
    notes: str | None
    on: dt.date
    scope: Scope


@dataclass(frozen=True)
class FlagCleared:
    """The social agency looked in on a recipient flagged for days without a meal."""

    recipient_id: int
    flagged_on: dt.date
    on: dt.date
    scope: Scope
