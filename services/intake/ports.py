"""What intake's handlers need from storage and from the rest of the world.

The SQL adapters (`adapters/`) and the in-memory fakes of the unit tests both
satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.intake.domain.locations import Location
from services.intake.domain.model import Child, Request

# Turns a child into its pseudonymous reference (a keyed HMAC; the key stays in intake).
ChildRef = Callable[[Child], str]


class RequestRepository(Protocol):
    async def add(self, request: Request) -> None: ...

    async def get(self, request_id: str) -> Request | None: ...

    async def get_for_update(self, request_id: str) -> Request | None:
        """Like `get`, and no other transaction changes the request until this one ends."""
        ...

    async def save(self, request: Request) -> None: ...

    async def proposed_at(self, location_id: str) -> list[Request]:
        """Requests with an open proposal at the location, locked like `get_for_update`."""
        ...


class LocationRepository(Protocol):
    async def upsert(self, location: Location) -> None: ...

    async def close(self, location_id: str) -> None: ...

    async def open_in(self, service_area: str) -> list[Location]:
        """The area's locations that are not closed, by id."""
        ...

    async def all(self) -> list[Location]:
        """Every known location, by name."""
        ...


class IntakeUnitOfWork(UnitOfWork, Protocol):
    # Read-only here, so an adapter may hold a more specific repository.
    @property
    def requests(self) -> RequestRepository: ...

    @property
    def locations(self) -> LocationRepository: ...
