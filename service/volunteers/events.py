"""What happens to volunteers' claims and visits that areas above act on (``service/wiring.py``):
the daily loop hands the meals over, the agencies follow up."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimOpened:
    """A volunteer took a recipient on: for ``deliver``, the meals of days already scheduled are theirs."""

    claim_id: int
    recipient_id: int
    volunteer_id: int
    kind: str


@dataclass(frozen=True)
class EndedClaim:
    claim_id: int
    recipient_id: int
    volunteer_id: int
    kind: str
    reason: str


@dataclass(frozen=True)
class ClaimsEnded:
    """These claims ended: the meals of a ``deliver`` claim not yet delivered go to a stall or are
    cancelled; an end nobody chose (``volunteers.models.FOLLOWED_UP``) is followed up."""

    claims: Sequence[EndedClaim]


@dataclass(frozen=True)
class ConcernRaised:
    """A volunteer's visit ended with a concern: the social agency follows it up."""

    visit_id: int
    recipient_id: int
    volunteer_id: int
    concern: str
    on: dt.date
