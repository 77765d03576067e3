"""Matching's use cases, one function per event, over a unit of work.

Every event that changes who waits or what is free tries to make a proposal
at once, so an open place never has a fitting waiting request next to it.
"""

from __future__ import annotations

from datetime import date

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.bus import AnyHandler
from loketkit.ids import Clock, IdFactory
from services.matching.domain.model import (
    FreePlace,
    Match,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    best_place,
    best_request,
    explain,
)
from services.matching.ports import MatchingUnitOfWork


def waiting_request(data: RequestSubmitted) -> WaitingRequest:
    facts = data.priority
    return WaitingRequest(
        request_id=data.request_id,
        service_area=data.service_area,
        municipality_nis=data.municipality_nis,
        birth_month=date.fromisoformat(f"{data.birth_month}-01"),
        desired_start_date=data.desired_start_date,
        preferred_location_ids=tuple(dict.fromkeys(data.preferred_location_ids)),
        sibling_location_ids=tuple(facts.sibling_location_ids),
        priority_facts=sum((facts.parents_working_or_training, facts.single_parent,
                            facts.low_income, facts.foster_child)),
        urgency=data.urgency,
        submitted_at=data.submitted_at,
    )


async def on_request_submitted(
    event: CloudEvent, data: RequestSubmitted, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    if await uow.requests.get(data.request_id):
        return  # the same request announced again (a different event id): nothing changes
    request = waiting_request(data)
    await uow.requests.add(request)
    place = best_place(await uow.places.open_at(request.preferred_location_ids), request)
    if place:
        await propose(uow, request, place, event, clock, new_id)


async def on_place_freed(
    event: CloudEvent, data: PlaceFreed, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    if await uow.places.get(data.place_id):
        return  # a place is proposed once, however often it is announced
    place = FreePlace.model_validate(data, from_attributes=True)
    if await uow.closures.is_closed(place.location_id):
        await uow.places.add(place.model_copy(update={"status": PlaceStatus.CANCELLED}))
        return
    await uow.places.add(place)
    await offer_place(uow, place, event, clock, new_id)


async def on_request_withdrawn(
    event: CloudEvent, data: RequestWithdrawn, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """A withdrawn request frees the place it was proposed, for the next in line."""
    request = await uow.requests.get(data.request_id)
    if request is None or request.status is RequestStatus.WITHDRAWN:
        return
    await uow.requests.set_status(data.request_id, RequestStatus.WITHDRAWN)
    match = await uow.matches.end_live_match_of(data.request_id)
    if match is None:
        return
    place = await uow.places.get(match.place_id)
    if place is None or place.status is not PlaceStatus.PROPOSED:
        return
    if not await uow.closures.is_closed(place.location_id):
        await uow.places.set_status(place.place_id, PlaceStatus.OPEN)
        await offer_place(uow, place, event, clock, new_id)


async def on_crisis_closure(
    event: CloudEvent, data: CrisisClosure, uow: MatchingUnitOfWork, clock: Clock
) -> None:
    """No more proposals at a closed location. Intake re-registers its children
    as crisis requests, which come first in the ordering."""
    await uow.closures.close(data.location_id, clock())
    await uow.places.cancel_at(data.location_id)


async def offer_place(
    uow: MatchingUnitOfWork, place: FreePlace, cause: CloudEvent,
    clock: Clock, new_id: IdFactory,
) -> None:
    request = best_request(await uow.requests.candidates_for(place), place)
    if request:
        await propose(uow, request, place, cause, clock, new_id)


async def propose(
    uow: MatchingUnitOfWork, request: WaitingRequest, place: FreePlace, cause: CloudEvent,
    clock: Clock, new_id: IdFactory,
) -> None:
    match = Match(match_id=new_id("match"), request_id=request.request_id,
                  place_id=place.place_id, location_id=place.location_id, proposed_at=clock())
    await uow.matches.add(match)
    await uow.places.set_status(place.place_id, PlaceStatus.PROPOSED)
    await uow.requests.set_status(request.request_id, RequestStatus.PROPOSED)
    uow.emit(
        MatchProposed(
            service_area=place.service_area,
            match_id=match.match_id,
            request_id=request.request_id,
            place_id=place.place_id,
            location_id=place.location_id,
            location_municipality_nis=place.municipality_nis,
            request_municipality_nis=request.municipality_nis,
            urgency=request.urgency,
            ordering=explain(request, place),
            proposed_at=match.proposed_at,
        ),
        caused_by=cause,
    )


# Which handler answers what. Matching takes no commands: it only listens.
COMMAND_HANDLERS: dict[type, AnyHandler] = {}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    RequestSubmitted: on_request_submitted,
    RequestWithdrawn: on_request_withdrawn,
    PlaceFreed: on_place_freed,
    CrisisClosure: on_crisis_closure,
}
