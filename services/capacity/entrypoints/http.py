"""Capacity's HTTP API: locations and licences, free places, the organiser's answers
to offers, enrolments, and confidential closures.

Thin routes: body -> command -> bus -> public schema. Domain errors become 404,
409 or 422 in loketkit.http; the unit of work wakes the relay after a commit.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from loketkit.auth import NotAllowed, Role
from loketkit.idempotency import IdempotencyDep
from services.capacity import views
from services.capacity.domain.commands import (
    ConfirmPlacement,
    DeclareCapacity,
    DeclareEnrolments,
    EndEnrolment,
    OfferFreePlaces,
    RefuseMatch,
    RegisterClosure,
    RegisterLocation,
    ReleaseClosure,
    WithdrawPlace,
)
from services.capacity.domain.model import Closure, Enrolment, FreePlace, Location, Offer
from services.capacity.entrypoints.access import (
    Coordinator,
    Reader,
    Registrar,
    Runner,
    area_closure,
    location_for,
    may_close,
    may_run,
    own_enrolment,
    own_offer,
    visible_locations,
)
from services.capacity.entrypoints.deps import ContextDep
from services.capacity.entrypoints.schemas import (
    CapacityUpdate,
    ClosureCreate,
    ClosurePublic,
    ConfirmCreate,
    DayPartPublic,
    EnrolmentEnd,
    EnrolmentPublic,
    EnrolmentsUpdate,
    FreePlacePublic,
    FreePlacesCreate,
    FreePlacesPublic,
    LocationCreate,
    LocationPublic,
    OccupancyPublic,
    OfferPublic,
    RefuseCreate,
)

router = APIRouter(tags=["locations"])
AREA = Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")


def to_public(location: Location) -> LocationPublic:
    return LocationPublic.model_validate(location, from_attributes=True)


def offer_public(offer: Offer) -> OfferPublic:
    return OfferPublic.model_validate(offer, from_attributes=True)


def enrolment_public(enrolment: Enrolment) -> EnrolmentPublic:
    return EnrolmentPublic.model_validate(enrolment, from_attributes=True)


def closure_public(closure: Closure) -> ClosurePublic:
    return ClosurePublic.model_validate(closure.model_dump())


@router.post("/locations", status_code=201, response_model=LocationPublic,
             summary="Register a location of an organiser")
async def register_location(
    body: LocationCreate, ctx: ContextDep, once: IdempotencyDep, caller: Registrar
) -> JSONResponse:
    facts = body.model_dump()
    if caller.acts_as(Role.ORGANISER):  # an organiser registers its own
        facts["organiser_id"] = caller.organiser_id
    elif caller.service_area != ctx.settings.service_area:
        raise NotAllowed("authorization", "you register locations for your own area only")
    command = RegisterLocation(**facts)
    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow, actor=caller), to_public, status_code=201
    )


@router.get("/locations", response_model=list[LocationPublic],
            summary="All locations, with their licence and open free places")
async def list_locations(ctx: ContextDep, caller: Reader) -> list[LocationPublic]:
    found = visible_locations(caller, await views.locations(ctx.uow()))
    return [to_public(location) for location in found]


@router.get("/locations/{location_id}", response_model=LocationPublic, summary="One location")
async def get_location(location_id: str, ctx: ContextDep, caller: Reader) -> LocationPublic:
    return to_public(await location_for(ctx, caller, location_id))


@router.put("/locations/{location_id}/capacity", response_model=LocationPublic,
            summary="Declare the licensed capacity; published as CapacityDeclared")
async def declare_capacity(
    location_id: str, body: CapacityUpdate, ctx: ContextDep, caller: Runner
) -> LocationPublic:
    await location_for(ctx, caller, location_id, may_run)
    command = DeclareCapacity(location_id=location_id, licensed_places=body.licensed_places)
    return to_public(await ctx.bus.handle(command, actor=caller))


@router.get("/locations/{location_id}/occupancy", response_model=OccupancyPublic,
            summary="Per day-part: licensed, enrolled, free (open places) and available")
async def get_occupancy(
    location_id: str, ctx: ContextDep, caller: Reader,
    on: Annotated[date | None, Query()] = None,
) -> OccupancyPublic:
    await location_for(ctx, caller, location_id)
    day = on or date.today()
    location, parts = await views.occupancy_on(ctx.uow(), location_id, day)
    return OccupancyPublic(
        location_id=location.location_id, on=day,
        day_parts=[DayPartPublic(**part.model_dump(), available=part.available)
                   for part in parts],
    )


@router.post("/locations/{location_id}/free-places", status_code=201,
             response_model=FreePlacesPublic, tags=["places"],
             summary="Announce free places; each is published as PlaceFreed")
async def offer_free_places(
    location_id: str, body: FreePlacesCreate, ctx: ContextDep, once: IdempotencyDep,
    caller: Runner,
) -> JSONResponse:
    await location_for(ctx, caller, location_id, may_run)
    facts = body.model_dump()
    facts["day_parts"] = tuple(body.day_parts)
    command = OfferFreePlaces(location_id=location_id, **facts)

    def present(places: list[FreePlace]) -> FreePlacesPublic:
        return FreePlacesPublic(location_id=location_id, place_ids=[p.place_id for p in places])

    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow, actor=caller), present, status_code=201
    )


@router.post("/locations/{location_id}/free-places/{place_id}/withdraw",
             response_model=FreePlacePublic, tags=["places"],
             summary="Take back a free place that is not offered; published as PlaceWithdrawn")
async def withdraw_place(
    location_id: str, place_id: str, ctx: ContextDep, caller: Runner
) -> FreePlacePublic:
    await location_for(ctx, caller, location_id, may_run)
    command = WithdrawPlace(location_id=location_id, place_id=place_id)
    place = await ctx.bus.handle(command, actor=caller)
    return FreePlacePublic.model_validate(place, from_attributes=True)


@router.get("/locations/{location_id}/offers", response_model=list[OfferPublic],
            tags=["offers"], summary="The organiser's work list: offers at this location")
async def list_offers(location_id: str, ctx: ContextDep, caller: Reader) -> list[OfferPublic]:
    await location_for(ctx, caller, location_id)
    return [offer_public(offer) for offer in await views.offers_at(ctx.uow(), location_id)]


@router.post("/offers/{match_id}/confirm", status_code=201, response_model=EnrolmentPublic,
             tags=["offers"],
             summary="Admit the child the family accepted; published as PlacementConfirmed")
async def confirm_placement(
    match_id: str, body: ConfirmCreate, ctx: ContextDep, once: IdempotencyDep, caller: Runner
) -> JSONResponse:
    await own_offer(ctx, caller, match_id)
    command = ConfirmPlacement(
        match_id=match_id, start_date=body.start_date,
        day_parts=None if body.day_parts is None else tuple(body.day_parts),
    )
    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow, actor=caller), enrolment_public,
        status_code=201,
    )


@router.post("/offers/{match_id}/refuse", response_model=OfferPublic, tags=["offers"],
             summary="Refuse an offer with a reason; published as MatchRefused")
async def refuse_match(
    match_id: str, body: RefuseCreate, ctx: ContextDep, caller: Runner
) -> OfferPublic:
    await own_offer(ctx, caller, match_id)
    command = RefuseMatch(match_id=match_id, reason=body.reason)
    return offer_public(await ctx.bus.handle(command, actor=caller))


@router.put("/locations/{location_id}/enrolments", response_model=list[EnrolmentPublic],
            tags=["enrolments"],
            summary="Declare the enrolments admitted outside the loket (replaces the last "
                    "declaration); published as EnrolmentsDeclared")
async def declare_enrolments(
    location_id: str, body: EnrolmentsUpdate, ctx: ContextDep, caller: Runner
) -> list[EnrolmentPublic]:
    await location_for(ctx, caller, location_id, may_run)
    command = DeclareEnrolments(location_id=location_id, enrolments=tuple(body.enrolments))
    return [enrolment_public(e) for e in await ctx.bus.handle(command, actor=caller)]


@router.get("/locations/{location_id}/enrolments", response_model=list[EnrolmentPublic],
            tags=["enrolments"], summary="The location's enrolments, ended ones too")
async def list_enrolments(
    location_id: str, ctx: ContextDep, caller: Reader
) -> list[EnrolmentPublic]:
    await location_for(ctx, caller, location_id)
    return [enrolment_public(e) for e in await views.enrolments_at(ctx.uow(), location_id)]


@router.post("/enrolments/{enrolment_id}/end", response_model=EnrolmentPublic,
             tags=["enrolments"], summary="A child leaves; published as EnrolmentEnded")
async def end_enrolment(
    enrolment_id: str, body: EnrolmentEnd, ctx: ContextDep, caller: Runner
) -> EnrolmentPublic:
    await own_enrolment(ctx, caller, enrolment_id)
    command = EndEnrolment(enrolment_id=enrolment_id, ended_on=body.ended_on, reason=body.reason)
    return enrolment_public(await ctx.bus.handle(command, actor=caller))


@router.post("/locations/{location_id}/closures", status_code=201,
             response_model=ClosurePublic, tags=["closures"],
             summary="Register a closure, confidentially: nothing is published until it is "
                     "released")
async def register_closure(
    location_id: str, body: ClosureCreate, ctx: ContextDep, once: IdempotencyDep,
    caller: Coordinator,
) -> JSONResponse:
    await location_for(ctx, caller, location_id, may_close)
    command = RegisterClosure(location_id=location_id, **body.model_dump())
    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow, actor=caller), closure_public,
        status_code=201,
    )


@router.get("/closures", response_model=list[ClosurePublic], tags=["closures"],
            summary="The coordinator's view: closures of a service area")
async def list_closures(
    ctx: ContextDep, caller: Coordinator, service_area: Annotated[str | None, AREA] = None
) -> list[ClosurePublic]:
    if service_area not in (None, caller.service_area):
        return []  # another area's closures are not shown
    found = await views.closures(ctx.uow(), caller.service_area)
    return [closure_public(c) for c in found]


@router.get("/closures/{closure_id}", response_model=ClosurePublic, tags=["closures"],
            summary="One closure; once released, the children it reaches")
async def get_closure(closure_id: str, ctx: ContextDep, caller: Coordinator) -> ClosurePublic:
    return closure_public(await area_closure(ctx, caller, closure_id))


@router.post("/closures/{closure_id}/release", response_model=ClosurePublic,
             tags=["closures"],
             summary="The parents were told: close the location and publish CrisisClosure")
async def release_closure(
    closure_id: str, ctx: ContextDep, caller: Coordinator
) -> ClosurePublic:
    await area_closure(ctx, caller, closure_id)
    return closure_public(await ctx.bus.handle(ReleaseClosure(closure_id=closure_id), actor=caller))
