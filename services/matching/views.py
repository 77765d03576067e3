"""Reads for people, over the unit of work (no handler, no event): cosmicpython's views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loketkit.area_settings import settings_in_force
from loketkit.calendar import brussels_date
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import Match, PlaceStatus, RequestStatus, WaitingRequest
from services.matching.domain.rounds import AllocationRound
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


@dataclass(frozen=True)
class OverdueOffer:
    """An offer an organiser has not answered by its deadline (the place is kept)."""

    match_id: str
    request_id: str
    place_id: str
    location_id: str
    status: str
    organiser_answer_due: datetime
    days_overdue: int  # calendar days, Brussels time; 0 on the day it fell due


@dataclass(frozen=True)
class UrgentRequest:
    request_id: str
    urgency: str
    submitted_at: datetime


@dataclass(frozen=True)
class Worklist:
    service_area: str
    organiser_overdue: list[OverdueOffer]
    urgent_without_offer: list[UrgentRequest]


def overdue(match: Match, now: datetime) -> OverdueOffer:
    days = (brussels_date(now) - brussels_date(match.organiser_answer_due)).days
    return OverdueOffer(
        match_id=match.match_id, request_id=match.request_id, place_id=match.place_id,
        location_id=match.location_id, status=match.status,
        organiser_answer_due=match.organiser_answer_due, days_overdue=max(days, 0))


def urgent(request: WaitingRequest) -> UrgentRequest:
    return UrgentRequest(request_id=request.request_id, urgency=request.urgency,
                         submitted_at=request.submitted_at)


async def worklist(uow: MatchingUnitOfWork, service_area: str, now: datetime) -> Worklist:
    """What the loket must chase: organisers past their deadline, and urgent or crisis
    requests that hold no offer."""
    async with uow:
        return Worklist(
            service_area=service_area,
            organiser_overdue=[overdue(match, now) for match in
                               await uow.matches.organiser_overdue(service_area, now)],
            urgent_without_offer=[urgent(request) for request in
                                  await uow.requests.urgent_without_offer(service_area)],
        )


async def area_settings(uow: MatchingUnitOfWork, service_area: str, now: datetime
                        ) -> OfferSettings:
    async with uow:
        return await settings_in_force(uow, OfferSettings, service_area, now)


async def rounds(uow: MatchingUnitOfWork, service_area: str) -> list[AllocationRound]:
    async with uow:
        return await uow.rounds.of_area(service_area)


async def round_of(uow: MatchingUnitOfWork, service_area: str, round_id: str
                   ) -> AllocationRound | None:
    async with uow:
        found = await uow.rounds.get(round_id)
    return found if found is not None and found.service_area == service_area else None
