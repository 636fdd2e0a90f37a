"""The composition root of the domain: which area acts on which event of an area below it, and
the ways a recipient can be reached and visited. Read it to know what happens when something
happens.

Called once by the application factory; calling it again changes nothing.
"""
from __future__ import annotations

from service import events
from service.assignments import placement
from service.assignments.events import PlacesChanged
from service.assignments.models import placed_to_cook_on
from service.deliveries import scheduling
from service.recipients.events import FlagCleared, PausesChanged, RecipientEnrolled, RecipientExited, RecipientVerified
from service.recipients.models import reached_by, visited_by
from service.tasks import service as tasks
from service.tasks.models import school_visited
from service.vendors.events import InspectionRecorded, StallChanged
from service.volunteers import claims
from service.volunteers.events import ClaimOpened, ClaimsEnded, ConcernRaised
from service.volunteers.models import claimed_to_deliver, visited_by_volunteers


def wire() -> None:
    # A recipient is reached on a day when placed, within reach, at a stall that may cook (first),
    # or else held by a volunteer's open deliver claim; visited by a school visit or a volunteer's.
    reached_by("stall", placed_to_cook_on)
    reached_by("volunteer", claimed_to_deliver)
    visited_by(school_visited)
    visited_by(visited_by_volunteers)

    # The registry: enrolment places, exit frees the place and ends volunteers' claims; a pause
    # ends claims and moves the meals; a decision or a cleared flag completes the task that asked.
    events.subscribe(RecipientEnrolled, placement.on_enrolled)
    events.subscribe(RecipientExited, claims.on_exited)
    events.subscribe(RecipientExited, placement.on_exited)
    events.subscribe(PausesChanged, claims.on_pauses_changed)
    events.subscribe(PausesChanged, scheduling.on_pauses_changed)
    events.subscribe(RecipientVerified, tasks.on_verified)
    events.subscribe(FlagCleared, tasks.on_flag_cleared)

    # The stalls: an inspection completes its task; a stall that changed moves or takes in people.
    events.subscribe(InspectionRecorded, tasks.on_inspection)
    events.subscribe(StallChanged, placement.on_stall_changed)

    # Placement: a stall is preferred, so a volunteer's deliver claim on someone now placed ends;
    # the meals already scheduled follow the recipients to their new stall (or stop).
    events.subscribe(PlacesChanged, claims.on_places_changed)
    events.subscribe(PlacesChanged, scheduling.on_places_changed)

    # Volunteers: a claim's meals are theirs, and when it ends go to a stall or stop; an end nobody
    # chose and a visit's concern are followed up by the social agency; their record counts meals.
    events.subscribe(ClaimOpened, scheduling.on_claim_opened)
    events.subscribe(ClaimsEnded, scheduling.on_claims_ended)
    events.subscribe(ClaimsEnded, tasks.on_claims_ended)
    events.subscribe(ConcernRaised, tasks.on_concern_raised)
    claims.tally("meals_delivered", scheduling.delivered_by)
    claims.meals_start(scheduling.first_meal_of_a_claim)
