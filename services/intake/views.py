"""Reads for the routes: small queries over the unit of work, no side effects."""

from __future__ import annotations

from loketkit.errors import NotFound
from services.intake.domain.locations import Location
from services.intake.domain.model import Request
from services.intake.ports import IntakeUnitOfWork


async def request_by_id(uow: IntakeUnitOfWork, request_id: str) -> Request:
    async with uow:
        request = await uow.requests.get(request_id)
    if request is None:
        raise NotFound("request_id", "no request with this id")
    return request


async def locations(uow: IntakeUnitOfWork) -> list[Location]:
    """Every location families can choose or have chosen, by name."""
    async with uow:
        return await uow.locations.all()
