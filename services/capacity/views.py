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


async def locations(uow: CapacityUnitOfWork) -> list[Location]:
    """Every location with its open free places, by name."""
    async with uow:
        return await uow.locations.all()


async def location_by_id(uow: CapacityUnitOfWork, location_id: str) -> Location:
    async with uow:
        location = await uow.locations.get(location_id, for_update=False)
    if location is None:
        raise NotFound("location_id", "no location with this id")
    return location


async def occupancy_on(
    uow: CapacityUnitOfWork, location_id: str, on: date
) -> tuple[Location, list[DayPartOccupancy]]:
    async with uow:
        location = await uow.locations.get(location_id, for_update=False)
        if location is None:
            raise NotFound("location_id", "no location with this id")
        enrolments = await uow.enrolments.at_location(location_id)
        places = await uow.places.open_at(location_id)
    return location, occupancy(location.licensed_places, enrolments, places, on)


async def offers_at(uow: CapacityUnitOfWork, location_id: str) -> list[Offer]:
    """The organiser's work list: every offer at the location, pseudonymous."""
    async with uow:
        if await uow.locations.get(location_id, for_update=False) is None:
            raise NotFound("location_id", "no location with this id")
        return await uow.offers.at_location(location_id)


async def enrolments_at(uow: CapacityUnitOfWork, location_id: str) -> list[Enrolment]:
    async with uow:
        if await uow.locations.get(location_id, for_update=False) is None:
            raise NotFound("location_id", "no location with this id")
        return await uow.enrolments.at_location(location_id)


async def closures(uow: CapacityUnitOfWork, service_area: str | None) -> list[Closure]:
    async with uow:
        return await uow.closures.in_area(service_area)


async def closure_by_id(uow: CapacityUnitOfWork, closure_id: str) -> Closure:
    async with uow:
        closure = await uow.closures.get(closure_id, for_update=False)
    if closure is None:
        raise NotFound("closure_id", "no closure with this id")
    return closure
