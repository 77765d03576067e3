"""Matching's use cases, one function per event, over a unit of work.

Every event that changes who waits or what is free tries to make a proposal
at once, so an open place never has a fitting waiting request next to it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from services.matching.domain.model import (
    FreePlace,
    WaitingRequest,
    best_place,
    best_request,
    explain,
)

UoW = Any  # MatchingUnitOfWork in production, an in-memory fake in tests


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


def free_place(data: PlaceFreed) -> FreePlace:
    return FreePlace(
        place_id=data.place_id,
        service_area=data.service_area,
        location_id=data.location_id,
        municipality_nis=data.municipality_nis,
        available_from=data.available_from,
        min_age_months=data.min_age_months,
        max_age_months=data.max_age_months,
    )


async def on_request_submitted(event: CloudEvent, data: RequestSubmitted, uow: UoW) -> None:
    if await uow.state.get_request(data.request_id):
        return  # the same request announced again (a different event id): nothing changes
    request = waiting_request(data)
    await uow.state.add_request(request)
    place = best_place(await uow.state.open_places_at(request.preferred_location_ids), request)
    if place:
        await propose(uow, request, place, event)


async def on_place_freed(event: CloudEvent, data: PlaceFreed, uow: UoW) -> None:
    if await uow.state.get_place(data.place_id):
        return  # a place is proposed once, however often it is announced
    place = free_place(data)
    if await uow.state.is_closed(place.location_id):
        await uow.state.add_place(place, status="cancelled")
        return
    await uow.state.add_place(place, status="open")
    await offer_place(uow, place, event)


async def on_request_withdrawn(event: CloudEvent, data: RequestWithdrawn, uow: UoW) -> None:
    """A withdrawn request frees the place it was proposed, for the next in line."""
    found = await uow.state.get_request(data.request_id)
    if found is None or found[1] == "withdrawn":
        return
    await uow.state.set_request_status(data.request_id, "withdrawn")
    place_id = await uow.state.end_match_of(data.request_id)
    if place_id is None:
        return
    place, status = await uow.state.get_place(place_id)
    if status == "proposed" and not await uow.state.is_closed(place.location_id):
        await uow.state.set_place_status(place_id, "open")
        await offer_place(uow, place, event)


async def on_crisis_closure(event: CloudEvent, data: CrisisClosure, uow: UoW) -> None:
    """No more proposals at a closed location. Intake re-registers its children
    as crisis requests, which come first in the ordering."""
    await uow.state.close(data.location_id)
    await uow.state.cancel_places_at(data.location_id)


async def offer_place(uow: UoW, place: FreePlace, cause: CloudEvent) -> None:
    request = best_request(await uow.state.candidates_for(place), place)
    if request:
        await propose(uow, request, place, cause)


async def propose(uow: UoW, request: WaitingRequest, place: FreePlace, cause: CloudEvent) -> None:
    match_id = f"match-{uuid.uuid4()}"
    await uow.state.add_match(match_id, request.request_id, place)
    await uow.state.set_place_status(place.place_id, "proposed")
    await uow.state.set_request_status(request.request_id, "proposed")
    uow.emit(
        MatchProposed(
            service_area=place.service_area,
            match_id=match_id,
            request_id=request.request_id,
            place_id=place.place_id,
            location_id=place.location_id,
            location_municipality_nis=place.municipality_nis,
            request_municipality_nis=request.municipality_nis,
            urgency=request.urgency,
            ordering=explain(request, place),
            proposed_at=datetime.now(UTC),
        ),
        caused_by=cause,
    )
