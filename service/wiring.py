"""The composition root of the domain: which area acts on which event of an area below it, and
the ways a recipient can be reached. Read it to know what happens when something happens.

Called once by the application factory; calling it again changes nothing.
"""
from __future__ import annotations

from service import events
from service.assignments import placement
from service.assignments.events import PlacesChanged
from service.assignments.models import placed_to_cook_on
from service.deliveries import scheduling
from service.recipients.events import FlagCleared, PausesChanged, RecipientEnrolled, RecipientExited, RecipientVerified
from service.recipients.models import reached_by
from service.tasks import service as tasks
from service.vendors.events import InspectionRecorded, StallChanged


def wire() -> None:
    # A recipient is reached on a day when placed, within reach, at a stall that may cook.
    reached_by(placed_to_cook_on)

    # The registry: enrolment places, exit frees the place; a pause moves the meals; a decision or
    # a cleared flag completes the task that asked for it.
    events.subscribe(RecipientEnrolled, placement.on_enrolled)
    events.subscribe(RecipientExited, placement.on_exited)
    events.subscribe(PausesChanged, scheduling.on_pauses_changed)
    events.subscribe(RecipientVerified, tasks.on_verified)
    events.subscribe(FlagCleared, tasks.on_flag_cleared)

    # The stalls: an inspection completes its task; a stall that changed moves or takes in people.
    events.subscribe(InspectionRecorded, tasks.on_inspection)
    events.subscribe(StallChanged, placement.on_stall_changed)

    # Placement: the meals already scheduled follow the recipients to their new stall (or stop).
    events.subscribe(PlacesChanged, scheduling.on_places_changed)
