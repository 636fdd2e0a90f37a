"""Codes, not sentences: what the service itself says about a row (why a recipient is at a stall,
why a meal was cancelled, why a task was opened) is stored as a code with its parameters,
``{"code": "moved", "from_vendor_id": 12, "cause": {...}, "km": 1.2}``, and turned into words only
at the edge (``schemas/words.py``), in the reader's language. A translation then changes no row.

What people write (a stall's reason a meal failed, an agency's notes) stays their words.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

Code = dict[str, Any]


def code(name: str, **params: Any) -> Code:
    """A code with its parameters, ready to store as JSON: dates as ISO strings, codes as codes.
    A parameter that would clash with Python (``from``) is written with a trailing underscore."""
    if "code" in params:  # it would overwrite the code's own name
        raise ValueError(f"a parameter of code {name!r} may not be called 'code'")
    out: Code = {"code": name}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        out[key.removesuffix("_")] = value
    return out


def code_sql(name: str, **params: str) -> str:
    """PostgreSQL's SQL for the code ``code`` gives, built by the database from columns: ``name``
    and each parameter an SQL expression; a parameter that is null is left out, as ``code``
    leaves out None. For writes of tens of thousands of rows, whose codes cost more to send as
    JSON than to build where they are stored."""
    parts = "".join(f", '{key.removesuffix('_')}', {expression}" for key, expression in params.items())
    return f"jsonb_strip_nulls(jsonb_build_object('code', {name}{parts}))"
