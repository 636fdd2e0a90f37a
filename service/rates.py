"""The one rule for a rate: ``part / whole`` to 4 places, and None (``null`` on the wire) when
there is nothing to measure (an empty day, a new program). Every indicator, figure and statistic
takes its rate from here, so that an empty day reads the same everywhere: not measured, never 0.0,
which would say that nobody was fed."""
from __future__ import annotations


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 places; None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None
