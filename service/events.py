"""How an area reaches one above it without importing it: it publishes an event, and the
composition root (``service/wiring.py``) subscribes the higher area's handler.

The areas of ``service`` stand in one order (see the package docstring): an area imports only
those below it. When something low must cause something above it (a verification completes the
task that asked for it; a stall that may no longer cook hands its recipients to others, and
their meals follow), the low area says what happened with an event, and the handlers run at
once, in the publisher's transaction, in the order they were subscribed: the same outcome as a
direct call, without the upward import. ``publish`` returns what the handlers returned, for the
few events whose publisher reports what its consequences did (how many recipients moved).

Events are dataclasses defined by the area that publishes them (``<area>/events.py``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

E = TypeVar("E")
_handlers: dict[type, list[Callable[[Any], Any]]] = {}


def subscribe(event_type: type[E], handler: Callable[[E], Any]) -> None:
    """Run ``handler`` for every ``event_type`` published; subscribing twice changes nothing."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(event: object) -> list[Any]:
    """Run the handlers of ``event``'s type, in order; what each returned."""
    return [handler(event) for handler in _handlers.get(type(event), ())]


def handlers_of(event_type: type) -> list[Callable[[Any], Any]]:
    return list(_handlers.get(event_type, ()))
