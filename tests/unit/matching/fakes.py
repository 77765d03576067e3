"""Matching's repositories in memory, satisfying the Protocols in services.matching.ports.

One instance is one database: rows stay across units of work, as in PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Set
from datetime import datetime

from loketkit.testing import FakeUnitOfWork
from services.matching.domain.model import (
    Addressee,
    FreePlace,
    Match,
    MatchStatus,
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

    async def save(self, request: WaitingRequest) -> None:
        assert request.request_id in self.rows, "an unknown request was saved"
        self.rows[request.request_id] = request

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        return [
            request for request in self.rows.values()
            if request.waits_at(place.location_id)
            and place.min_age_months
            <= age_in_months(request.birth_month, place.available_from)
            <= place.max_age_months
        ]

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]:
        return dict(Counter(request.status for request in self.rows.values()
                            if request.service_area == service_area))

    async def urgent_without_offer(self, service_area: str) -> list[WaitingRequest]:
        return sorted(
            (request for request in self.rows.values()
             if request.service_area == service_area and request.status is RequestStatus.WAITING
             and request.urgency in ("urgent", "crisis")),
            key=lambda request: (request.submitted_at, request.request_id))


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
        self.rows: dict[str, Match] = {}

    async def add(self, match: Match) -> None:
        if match.live and await self.live_of_place(match.place_id):
            raise LiveMatchExists(f"place {match.place_id} was offered twice")
        assert match.match_id not in self.rows, "a match was added twice"
        self.rows[match.match_id] = match

    async def get(self, match_id: str) -> Match | None:
        return self.rows.get(match_id)

    async def of_request(self, request_id: str, statuses: Set[MatchStatus]) -> list[Match]:
        return [m for m in self.rows.values()
                if m.request_id == request_id and m.status in statuses]

    async def live_at(self, location_id: str) -> list[Match]:
        return [m for m in self.rows.values() if m.location_id == location_id and m.live]

    async def live_of_place(self, place_id: str) -> Match | None:
        return next((m for m in self.rows.values() if m.place_id == place_id and m.live), None)

    async def transition(
        self, match_id: str, from_statuses: Set[MatchStatus], to: MatchStatus,
        *, keep_waiting: bool | None = None,
    ) -> Match | None:
        match = self.rows.get(match_id)
        if match is None or match.status not in from_statuses:
            return None
        update: dict[str, object] = {"status": to}
        if keep_waiting is not None:
            update["keep_waiting"] = keep_waiting
        self.rows[match_id] = changed = match.model_copy(update=update)
        return changed

    async def mark_reminded(self, match_id: str, addressee: Addressee, at: datetime) -> bool:
        match = self.rows[match_id]
        field = "family_reminded_at" if addressee == "family" else "organiser_reminded_at"
        if getattr(match, field) is not None:
            return False
        self.rows[match_id] = match.model_copy(update={field: at})
        return True

    async def claim_due(self, now: datetime, limit: int) -> list[Match]:
        def due(m: Match) -> bool:
            family = m.status is MatchStatus.PROPOSED and (
                m.family_answer_due <= now
                or (m.family_reminded_at is None and m.family_reminder_due <= now))
            organiser = (m.live and m.organiser_reminded_at is None
                         and m.organiser_answer_due <= now)
            return family or organiser

        found = sorted((m for m in self.rows.values() if due(m)),
                       key=lambda m: (m.family_answer_due, m.match_id))
        return found[:limit]

    async def organiser_overdue(self, service_area: str, now: datetime) -> list[Match]:
        return sorted((m for m in self.rows.values()
                       if m.service_area == service_area and m.live
                       and m.organiser_answer_due <= now),
                      key=lambda m: (m.organiser_answer_due, m.match_id))


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
