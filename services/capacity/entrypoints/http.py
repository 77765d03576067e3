"""Capacity's HTTP API: register locations, announce free places, record closures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from loketkit.http import app_context, problem
from services.capacity import handlers
from services.capacity.bootstrap import CapacityContext
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Location,
    PlaceOffer,
)
from services.capacity.entrypoints.schemas import (
    ClosureCreate,
    ClosurePublic,
    FreePlacesCreate,
    FreePlacesPublic,
    LocationCreate,
    LocationPublic,
)

router = APIRouter(tags=["locations"])


ContextDep = Annotated[CapacityContext, Depends(app_context)]


def to_public(location: Location) -> LocationPublic:
    return LocationPublic.model_validate(location, from_attributes=True)


def refused(error: CapacityRuleError) -> JSONResponse:
    return problem(409 if isinstance(error, CapacityConflict) else 422, str(error), error.field)


def unknown(location_id: str) -> JSONResponse:
    return problem(404, f"no location {location_id}", "location_id")


@router.post("/locations", status_code=201, response_model=LocationPublic,
             summary="Register a location of an organiser")
async def register_location(body: LocationCreate, ctx: ContextDep) -> LocationPublic | JSONResponse:
    location = Location(
        **body.model_dump(exclude={"location_id"}),
        location_id=body.location_id or f"loc-{uuid.uuid4()}",
        service_area=ctx.settings.service_area,
    )
    try:
        await handlers.register_location(location, ctx.uow(), ctx.settings.municipalities)
    except CapacityRuleError as error:
        return refused(error)
    ctx.events_committed()
    return to_public(location)


@router.get("/locations", response_model=list[LocationPublic],
            summary="All locations, with their open free places")
async def list_locations(ctx: ContextDep) -> list[LocationPublic]:
    async with ctx.uow() as uow:
        return [to_public(location) for location in await uow.locations.all()]


@router.get("/locations/{location_id}", response_model=LocationPublic, summary="One location")
async def get_location(location_id: str, ctx: ContextDep) -> LocationPublic | JSONResponse:
    async with ctx.uow() as uow:
        location = await uow.locations.get(location_id, for_update=False)
    return to_public(location) if location else unknown(location_id)


@router.post("/locations/{location_id}/free-places", status_code=201,
             response_model=FreePlacesPublic, tags=["places"],
             summary="Announce free places; each is published as PlaceFreed")
async def offer_free_places(
    location_id: str, body: FreePlacesCreate, ctx: ContextDep
) -> FreePlacesPublic | JSONResponse:
    offer = PlaceOffer(body.available_from, body.min_age_months, body.max_age_months)
    try:
        places = await handlers.offer_free_places(location_id, offer, body.count, ctx.uow())
    except LookupError:
        return unknown(location_id)
    except CapacityRuleError as error:
        return refused(error)
    ctx.events_committed()
    return FreePlacesPublic(location_id=location_id, place_ids=[p.place_id for p in places])


@router.post("/locations/{location_id}/closure", status_code=201, response_model=ClosurePublic,
             tags=["closures"],
             summary="Close a location (licence suspended or revoked, bankruptcy, force majeure)")
async def close_location(
    location_id: str, body: ClosureCreate, ctx: ContextDep
) -> ClosurePublic | JSONResponse:
    try:
        closure, cancelled = await handlers.close_location(
            location_id, body.reason, body.effective_from, ctx.uow()
        )
    except LookupError:
        return unknown(location_id)
    except CapacityRuleError as error:
        return refused(error)
    ctx.events_committed()
    return ClosurePublic(
        closure_id=closure.closure_id,
        location_id=closure.location_id,
        reason=closure.reason,
        effective_from=closure.effective_from,
        announced_at=closure.announced_at,
        cancelled_place_ids=cancelled,
    )
