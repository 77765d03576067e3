"""What capacity's handlers need from storage.

The SQL adapters (`adapters/`) and the in-memory fakes of the unit tests both
satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.capacity.domain.model import Closure, FreePlace, Location


class LocationRepository(Protocol):
    async def add(self, location: Location, registered_at: datetime) -> bool:
        """Store a new location; False (and nothing stored) when its id is taken."""
        ...

    async def get(self, location_id: str, for_update: bool = True) -> Location | None:
        """The location with its count of open places; `for_update` keeps other
        transactions from changing it until this one ends, so offers are serialised."""
        ...

    async def save(self, location: Location) -> None:
        """Store whether the location is closed."""
        ...

    async def all(self) -> list[Location]:
        """Every location with its count of open places, by name then id."""
        ...


class FreePlaceRepository(Protocol):
    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None: ...

    async def exists(self, place_id: str) -> bool: ...

    async def cancel_open_at(self, location_id: str) -> list[str]:
        """Cancel the location's open places; returns their ids, sorted."""
        ...


class ClosureRepository(Protocol):
    async def add(self, closure: Closure) -> None: ...


class CapacityUnitOfWork(UnitOfWork, Protocol):
    # Read-only here, so an adapter may hold a more specific repository.
    @property
    def locations(self) -> LocationRepository: ...

    @property
    def places(self) -> FreePlaceRepository: ...

    @property
    def closures(self) -> ClosureRepository: ...
