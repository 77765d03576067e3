"""Capacity's HTTP API: register locations, announce free places, record closures.

Thin routes: body -> command -> bus -> public schema. Domain errors become 404,
409 or 422 in loketkit.http; the unit of work wakes the relay after a commit.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from loketkit.idempotency import IdempotencyDep
from services.capacity import views
from services.capacity.domain.commands import CloseLocation, OfferFreePlaces, RegisterLocation
from services.capacity.domain.model import Closure, FreePlace, Location
from services.capacity.entrypoints.deps import ContextDep
from services.capacity.entrypoints.schemas import (
    ClosureCreate,
    ClosurePublic,
    FreePlacesCreate,
    FreePlacesPublic,
    LocationCreate,
    LocationPublic,
)

router = APIRouter(tags=["locations"])


def to_public(location: Location) -> LocationPublic:
    return LocationPublic.model_validate(location, from_attributes=True)


@router.post("/locations", status_code=201, response_model=LocationPublic,
             summary="Register a location of an organiser")
async def register_location(
    body: LocationCreate, ctx: ContextDep, once: IdempotencyDep
) -> JSONResponse:
    command = RegisterLocation(**body.model_dump())
    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow), to_public, status_code=201
    )


@router.get("/locations", response_model=list[LocationPublic],
            summary="All locations, with their open free places")
async def list_locations(ctx: ContextDep) -> list[LocationPublic]:
    return [to_public(location) for location in await views.locations(ctx.uow())]


@router.get("/locations/{location_id}", response_model=LocationPublic, summary="One location")
async def get_location(location_id: str, ctx: ContextDep) -> LocationPublic:
    return to_public(await views.location_by_id(ctx.uow(), location_id))


@router.post("/locations/{location_id}/free-places", status_code=201,
             response_model=FreePlacesPublic, tags=["places"],
             summary="Announce free places; each is published as PlaceFreed")
async def offer_free_places(
    location_id: str, body: FreePlacesCreate, ctx: ContextDep, once: IdempotencyDep
) -> JSONResponse:
    command = OfferFreePlaces(location_id=location_id, **body.model_dump())

    def present(places: list[FreePlace]) -> FreePlacesPublic:
        return FreePlacesPublic(location_id=location_id, place_ids=[p.place_id for p in places])

    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow), present, status_code=201
    )


@router.post("/locations/{location_id}/closure", status_code=201, response_model=ClosurePublic,
             tags=["closures"],
             summary="Close a location (licence suspended or revoked, bankruptcy, force majeure)")
async def close_location(
    location_id: str, body: ClosureCreate, ctx: ContextDep, once: IdempotencyDep
) -> JSONResponse:
    command = CloseLocation(location_id=location_id, **body.model_dump())

    def present(closure: Closure) -> ClosurePublic:
        return ClosurePublic.model_validate(closure, from_attributes=True)

    return await once.run(
        body, lambda uow: ctx.bus.handle(command, uow), present, status_code=201
    )
