"""What matching's handlers need from storage: one repository per aggregate.

The SQL adapters (`adapters/repository.py`) and the in-memory fakes of the unit
tests both satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.matching.domain.model import (
    FreePlace,
    Match,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
)


class RequestRepository(Protocol):
    """Requests as matching knows them, with the candidate index per chosen location."""

    async def get(self, request_id: str) -> WaitingRequest | None: ...

    async def add(self, request: WaitingRequest) -> None: ...

    async def set_status(self, request_id: str, status: RequestStatus) -> None: ...

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        """Waiting requests that chose the place's location and are of an age the place
        takes on its start date. The cost must not grow with all waiting requests."""
        ...

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]: ...


class PlaceRepository(Protocol):
    async def get(self, place_id: str) -> FreePlace | None: ...

    async def add(self, place: FreePlace) -> None: ...

    async def set_status(self, place_id: str, status: PlaceStatus) -> None: ...

    async def open_at(self, location_ids: Sequence[str]) -> list[FreePlace]: ...

    async def cancel_at(self, location_id: str) -> None:
        """Open and proposed places of a closed location are cancelled."""
        ...

    async def count_by_status(self, service_area: str) -> dict[PlaceStatus, int]: ...


class MatchRepository(Protocol):
    async def add(self, match: Match) -> None:
        """Refuses a second live match of one place (in PostgreSQL: a partial unique index)."""
        ...

    async def end_live_match_of(self, request_id: str) -> Match | None:
        """Deactivates the request's live match and returns it, or None if it has none."""
        ...


class ClosureRepository(Protocol):
    async def is_closed(self, location_id: str) -> bool: ...

    async def close(self, location_id: str, closed_at: datetime) -> None: ...


class MatchingUnitOfWork(UnitOfWork, Protocol):
    # Read-only members, so an implementation may hold a more specific repository.
    @property
    def requests(self) -> RequestRepository: ...

    @property
    def places(self) -> PlaceRepository: ...

    @property
    def matches(self) -> MatchRepository: ...

    @property
    def closures(self) -> ClosureRepository: ...
