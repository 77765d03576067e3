"""Matching's repositories in memory, satisfying the Protocols in services.matching.ports.

One instance is one database: rows stay across units of work, as in PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from loketkit.testing import FakeUnitOfWork
from services.matching.domain.model import (
    FreePlace,
    Match,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    age_in_months,
)


class FakeRequestRepository:
    def __init__(self) -> None:
        self.rows: dict[str, WaitingRequest] = {}

    async def get(self, request_id: str) -> WaitingRequest | None:
        return self.rows.get(request_id)

    async def add(self, request: WaitingRequest) -> None:
        assert request.request_id not in self.rows, "a request was added twice"
        self.rows[request.request_id] = request

    async def set_status(self, request_id: str, status: RequestStatus) -> None:
        self.rows[request_id] = self.rows[request_id].model_copy(update={"status": status})

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        return [
            request for request in self.rows.values()
            if request.status is RequestStatus.WAITING
            and place.location_id in request.preferred_location_ids
            and place.min_age_months
            <= age_in_months(request.birth_month, place.available_from)
            <= place.max_age_months
        ]

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]:
        return dict(Counter(request.status for request in self.rows.values()
                            if request.service_area == service_area))


class FakePlaceRepository:
    def __init__(self) -> None:
        self.rows: dict[str, FreePlace] = {}

    async def get(self, place_id: str) -> FreePlace | None:
        return self.rows.get(place_id)

    async def add(self, place: FreePlace) -> None:
        assert place.place_id not in self.rows, "a place was added twice"
        self.rows[place.place_id] = place

    async def set_status(self, place_id: str, status: PlaceStatus) -> None:
        self.rows[place_id] = self.rows[place_id].model_copy(update={"status": status})

    async def open_at(self, location_ids: Sequence[str]) -> list[FreePlace]:
        return [place for place in self.rows.values()
                if place.status is PlaceStatus.OPEN and place.location_id in location_ids]

    async def cancel_at(self, location_id: str) -> None:
        for place in list(self.rows.values()):
            if place.location_id == location_id and place.status in (PlaceStatus.OPEN,
                                                                     PlaceStatus.PROPOSED):
                await self.set_status(place.place_id, PlaceStatus.CANCELLED)

    async def count_by_status(self, service_area: str) -> dict[PlaceStatus, int]:
        return dict(Counter(place.status for place in self.rows.values()
                            if place.service_area == service_area))


class LiveMatchExists(Exception):
    """What PostgreSQL's partial unique index on live matches refuses."""


class FakeMatchRepository:
    def __init__(self) -> None:
        self.rows: list[Match] = []

    async def add(self, match: Match) -> None:
        if any(m.active and m.place_id == match.place_id for m in self.rows):
            raise LiveMatchExists(f"place {match.place_id} was proposed twice")
        self.rows.append(match)

    async def end_live_match_of(self, request_id: str) -> Match | None:
        for index, match in enumerate(self.rows):
            if match.active and match.request_id == request_id:
                self.rows[index] = ended = match.model_copy(update={"active": False})
                return ended
        return None


class FakeClosureRepository:
    def __init__(self) -> None:
        self.closed: dict[str, datetime] = {}

    async def is_closed(self, location_id: str) -> bool:
        return location_id in self.closed

    async def close(self, location_id: str, closed_at: datetime) -> None:
        self.closed[location_id] = closed_at


class FakeMatchingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.requests = FakeRequestRepository()
        self.places = FakePlaceRepository()
        self.matches = FakeMatchRepository()
        self.closures = FakeClosureRepository()
