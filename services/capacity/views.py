"""Reads for the routes: small queries over the unit of work, no side effects."""

from __future__ import annotations

from datetime import date

from loketkit.errors import NotFound
from services.capacity.domain.model import (
    Closure,
    DayPartOccupancy,
    Enrolment,
    Location,
    Offer,
    occupancy,
)
from services.capacity.ports import CapacityUnitOfWork

# The same words for a missing object and another tenant's (see entrypoints.access).
MISSING_LOCATION = "no location with this id"
MISSING_OFFER = "no offer with this id"
MISSING_ENROLMENT = "no enrolment with this id"
MISSING_CLOSURE = "no closure with this id"


async def locations(uow: CapacityUnitOfWork) -> list[Location]:
    """Every location with its open free places, by name."""
    async with uow:
        return await uow.locations.all()


async def location_by_id(uow: CapacityUnitOfWork, location_id: str) -> Location:
    async with uow:
        location = await uow.locations.get(location_id, for_update=False)
    if location is None:
        raise NotFound("location_id", MISSING_LOCATION)
    return location


async def occupancy_on(
    uow: CapacityUnitOfWork, location_id: str, on: date
) -> tuple[Location, list[DayPartOccupancy]]:
    async with uow:
        location = await uow.locations.get(location_id, for_update=False)
        if location is None:
            raise NotFound("location_id", MISSING_LOCATION)
        enrolments = await uow.enrolments.at_location(location_id)
        places = await uow.places.open_at(location_id)
    return location, occupancy(location.licensed_places, enrolments, places, on)


async def offers_at(uow: CapacityUnitOfWork, location_id: str) -> list[Offer]:
    """The organiser's work list: every offer at the location, pseudonymous."""
    async with uow:
        if await uow.locations.get(location_id, for_update=False) is None:
            raise NotFound("location_id", MISSING_LOCATION)
        return await uow.offers.at_location(location_id)


async def enrolments_at(uow: CapacityUnitOfWork, location_id: str) -> list[Enrolment]:
    async with uow:
        if await uow.locations.get(location_id, for_update=False) is None:
            raise NotFound("location_id", MISSING_LOCATION)
        return await uow.enrolments.at_location(location_id)


async def closures(uow: CapacityUnitOfWork, service_area: str | None) -> list[Closure]:
    async with uow:
        return await uow.closures.in_area(service_area)


async def closure_by_id(uow: CapacityUnitOfWork, closure_id: str) -> Closure:
    async with uow:
        closure = await uow.closures.get(closure_id, for_update=False)
    if closure is None:
        raise NotFound("closure_id", MISSING_CLOSURE)
    return closure


async def offer_by_id(uow: CapacityUnitOfWork, match_id: str) -> Offer:
    async with uow:
        offer = await uow.offers.get(match_id)
    if offer is None:
        raise NotFound("match_id", MISSING_OFFER)
    return offer


async def enrolment_by_id(uow: CapacityUnitOfWork, enrolment_id: str) -> Enrolment:
    async with uow:
        enrolment = await uow.enrolments.get(enrolment_id)
    if enrolment is None:
        raise NotFound("enrolment_id", MISSING_ENROLMENT)
    return enrolment
