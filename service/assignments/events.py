"""What happens to placements that areas above act on (``service/wiring.py``)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PlacesChanged:
    """These recipients' places changed (a new stall, none, or given up): their meals from
    ``from_day`` on (None: the first day still open) follow."""

    recipient_ids: Sequence[int]
    from_day: dt.date | None = None
