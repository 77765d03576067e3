"""Reads for people, over the unit of work (no handler, no event): cosmicpython's views."""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.domain.model import PlaceStatus, RequestStatus
from services.matching.ports import MatchingUnitOfWork


@dataclass(frozen=True)
class Queue:
    """How many requests and places of one service area are in each status."""

    service_area: str
    requests: dict[RequestStatus, int]
    places: dict[PlaceStatus, int]


async def queue(uow: MatchingUnitOfWork, service_area: str) -> Queue:
    async with uow:
        return Queue(
            service_area=service_area,
            requests=await uow.requests.count_by_status(service_area),
            places=await uow.places.count_by_status(service_area),
        )
