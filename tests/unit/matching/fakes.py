"""In-memory matching state with the same interface as SqlMatchingRepository."""

from __future__ import annotations

from dataclasses import dataclass

from loketkit.testing import FakeUnitOfWork
from services.matching.domain.model import FreePlace, WaitingRequest, age_in_months


@dataclass
class FakeMatch:
    match_id: str
    request_id: str
    place_id: str
    active: bool = True


class FakeMatchingState:
    def __init__(self) -> None:
        self.requests: dict[str, tuple[WaitingRequest, str]] = {}
        self.places: dict[str, tuple[FreePlace, str]] = {}
        self.matches: list[FakeMatch] = []
        self.closed: set[str] = set()

    async def get_request(self, request_id: str) -> tuple[WaitingRequest, str] | None:
        return self.requests.get(request_id)

    async def add_request(self, request: WaitingRequest) -> None:
        self.requests[request.request_id] = (request, "waiting")

    async def set_request_status(self, request_id: str, status: str) -> None:
        self.requests[request_id] = (self.requests[request_id][0], status)

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        return [
            request for request, status in self.requests.values()
            if status == "waiting" and place.location_id in request.preferred_location_ids
            and place.min_age_months
            <= age_in_months(request.birth_month, place.available_from)
            <= place.max_age_months
        ]

    async def get_place(self, place_id: str) -> tuple[FreePlace, str] | None:
        return self.places.get(place_id)

    async def add_place(self, place: FreePlace, status: str) -> None:
        self.places[place.place_id] = (place, status)

    async def set_place_status(self, place_id: str, status: str) -> None:
        self.places[place_id] = (self.places[place_id][0], status)

    async def open_places_at(self, location_ids: tuple[str, ...]) -> list[FreePlace]:
        return [place for place, status in self.places.values()
                if status == "open" and place.location_id in location_ids]

    async def cancel_places_at(self, location_id: str) -> None:
        for place, status in list(self.places.values()):
            if place.location_id == location_id and status in ("open", "proposed"):
                self.places[place.place_id] = (place, "cancelled")

    async def add_match(self, match_id: str, request_id: str, place: FreePlace) -> None:
        assert not any(m.active and m.place_id == place.place_id for m in self.matches), \
            "a place was proposed twice"
        self.matches.append(FakeMatch(match_id, request_id, place.place_id))

    async def end_match_of(self, request_id: str) -> str | None:
        for match in self.matches:
            if match.active and match.request_id == request_id:
                match.active = False
                return match.place_id
        return None

    async def is_closed(self, location_id: str) -> bool:
        return location_id in self.closed

    async def close(self, location_id: str) -> None:
        self.closed.add(location_id)


class FakeMatchingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.state = FakeMatchingState()
