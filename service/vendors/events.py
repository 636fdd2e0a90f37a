"""What happens to a stall that areas above it act on (``service/wiring.py``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.accounts.scope import Scope
from service.codes import Code
from service.vendors.models import Vendor


@dataclass(frozen=True)
class StallChanged:
    """The stall's status, capacity, place or hygiene changed (``cause``: why, as the trail says
    it): those it feeds are brought in line (moved, or taken in). Handlers answer ``Moves``."""

    vendor: Vendor
    cause: Code
    relocated: bool = False
    day: dt.date | None = None


@dataclass
class Moves:
    """What a change at a stall did to recipients."""

    moved: int = 0
    uncovered: int = 0
    placed: int = 0

    @classmethod
    def total(cls, answers: list) -> Moves:
        out = cls()
        for answer in answers:
            if isinstance(answer, Moves):
                out.moved, out.uncovered, out.placed = (out.moved + answer.moved, out.uncovered + answer.uncovered,
                                                        out.placed + answer.placed)
        return out


@dataclass(frozen=True)
class InspectionRecorded:
    """An inspection is in the stall's history, however it was recorded: the open task that asked
    for it is done."""

    inspection_id: int
    vendor_id: int
    kind: str
    passed: bool
    on: dt.date
    findings: str | None
    scope: Scope
