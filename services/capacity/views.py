"""Reads for the routes: small queries over the unit of work, no side effects."""

from __future__ import annotations

from loketkit.errors import NotFound
from services.capacity.domain.model import Location
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
